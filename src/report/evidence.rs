//! What a run shows beside its verdicts, as records of the [`RunResult`](super::RunResult) model: the
//! upgrade base and why it was chosen. Like the rest of the model, renderers only read these; every
//! field added to results.json has `#[serde(default)]` so older files still load.

use serde::{Deserialize, Serialize};

use super::model::short_ref;

/// How the upgrade base was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaseFrom {
    /// The newest green run of the recipe on this host whose head is an ancestor of head_ref.
    LastGreen,
    /// The newest release tag that is an ancestor of head_ref.
    PreviousRelease,
    /// A commit or tag asked for (`--upgrade-from REF`, recipe.yaml `upgrade_base`).
    Ref,
    /// Nothing to upgrade from: the upgrade tier does not run.
    None,
}

impl BaseFrom {
    /// The word the ledger records.
    pub fn word(self) -> &'static str {
        match self {
            BaseFrom::LastGreen => "last_green",
            BaseFrom::PreviousRelease => "previous_release",
            BaseFrom::Ref => "ref",
            BaseFrom::None => "none",
        }
    }
}

/// What install deployed before the upgrade, and why that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeBase {
    pub from: BaseFrom,
    /// The full commit installed; `None` when there is no base.
    pub commit: Option<String>,
    /// The release tag that names the commit, when one does (install then deploys that release).
    pub tag: Option<String>,
    /// The green run whose head the base is (`last_green`).
    pub run_id: Option<String>,
    /// Why this base (or why none), in a sentence.
    pub reason: String,
}

impl UpgradeBase {
    /// `1a2b3c4d (last green run 20261130t…)`, `1a2b3c4d (previous release 1.1.0+1.36.1)`, or
    /// `none (<reason>)`, as the header and the summary show it.
    pub fn describe(&self) -> String {
        let Some(commit) = &self.commit else {
            return format!("none ({})", self.reason);
        };
        let why = match (self.from, &self.tag, &self.run_id) {
            (BaseFrom::LastGreen, _, Some(run)) => format!("last green run {run}"),
            (BaseFrom::PreviousRelease, Some(tag), _) => format!("previous release {tag}"),
            _ => self.reason.clone(),
        };
        format!("{} ({why})", short_ref(commit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_is_described_by_its_commit_and_where_it_came_from() {
        let mut b = UpgradeBase {
            from: BaseFrom::LastGreen,
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            tag: None,
            run_id: Some("20261130t101010-abcdef".into()),
            reason: "newest green run".into(),
        };
        assert_eq!(
            b.describe(),
            "01234567 (last green run 20261130t101010-abcdef)"
        );
        b.from = BaseFrom::PreviousRelease;
        b.tag = Some("1.1.0+1.36.1".into());
        assert_eq!(b.describe(), "01234567 (previous release 1.1.0+1.36.1)");
        b.commit = None;
        b.from = BaseFrom::None;
        b.reason = "no release tag".into();
        assert_eq!(b.describe(), "none (no release tag)");
    }
}
