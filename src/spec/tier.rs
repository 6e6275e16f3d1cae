//! The five tiers, in the order a run executes them. Custom is the only tier without an op.

use std::fmt;
use std::str::FromStr;

/// A tier. `Ord` follows run order: install → upgrade → backup → restore → custom. Its serde form is
/// its name (`"install"`), as in the run's events.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Install,
    Upgrade,
    Backup,
    Restore,
    Custom,
}

impl Tier {
    /// Every tier in run order.
    pub const ALL: [Tier; 5] = [
        Tier::Install,
        Tier::Upgrade,
        Tier::Backup,
        Tier::Restore,
        Tier::Custom,
    ];

    /// Whether the tier has an op owned by the harness (deploy, upgrade, backup, restore).
    pub fn has_op(self) -> bool {
        self != Tier::Custom
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Install => "install",
            Tier::Upgrade => "upgrade",
            Tier::Backup => "backup",
            Tier::Restore => "restore",
            Tier::Custom => "custom",
        }
    }

    /// The names of every tier, for error messages.
    pub fn names() -> Vec<&'static str> {
        Tier::ALL.iter().map(|t| t.as_str()).collect()
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown tier name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown tier `{0}` (expected one of: install, upgrade, backup, restore, custom)")]
pub struct UnknownTier(pub String);

impl FromStr for Tier {
    type Err = UnknownTier;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Tier::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownTier(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_sort_in_run_order_and_round_trip() {
        let mut v = vec![
            Tier::Custom,
            Tier::Restore,
            Tier::Install,
            Tier::Backup,
            Tier::Upgrade,
        ];
        v.sort();
        assert_eq!(v, Tier::ALL.to_vec());
        for t in Tier::ALL {
            assert_eq!(t.to_string().parse::<Tier>().unwrap(), t);
        }
        assert_eq!("Upgrade".parse::<Tier>().unwrap(), Tier::Upgrade);
        assert!("deploy".parse::<Tier>().is_err());
        assert!(!Tier::Custom.has_op() && Tier::Restore.has_op());
    }
}
