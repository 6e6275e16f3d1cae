//! Why a tier cannot run for a recipe, decided before anything is deployed: declared not applicable
//! or unsupported in `recipe.yaml`, no release tag to upgrade from, or no service labelled for
//! backup-bot. The plan, `--list`, `check` and the summary all ask this one function.

use crate::spec::{RecipeMeta, Tier};

/// The reason an upgrade cannot be tested.
pub const NO_RELEASE: &str = "no previous release: no release tag is an ancestor of head_ref";
/// The reason backup and restore cannot be tested.
pub const NO_BACKUP: &str =
    "no service carries backupbot.backup=true: the recipe is not backup-capable";

/// `Some((reason, declared))` when `tier` cannot run: `declared` is true when `recipe.yaml` says so
/// (an honest N/A), false when it is structurally impossible (no release, no backup label).
pub fn tier_unavailable(
    tier: Tier,
    meta: &RecipeMeta,
    has_previous_release: bool,
    backup_capable: bool,
) -> Option<(String, bool)> {
    if let Some(reason) = meta.not_applicable.get(&tier) {
        return Some((reason.clone(), true));
    }
    if let Some(supported) = &meta.tiers {
        if tier != Tier::Install && !supported.contains(&tier) {
            return Some((
                "recipe.yaml does not list this tier as supported".into(),
                true,
            ));
        }
    }
    match tier {
        Tier::Upgrade if !has_previous_release => Some((NO_RELEASE.into(), false)),
        Tier::Backup | Tier::Restore if !backup_capable => Some((NO_BACKUP.into(), false)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(yaml: &str) -> RecipeMeta {
        crate::spec::parse_meta(std::path::Path::new("recipe.yaml"), yaml).unwrap()
    }

    #[test]
    fn a_declaration_wins_and_is_marked_declared() {
        let m = meta("not_applicable:\n  backup: the app keeps no state\n");
        assert_eq!(
            tier_unavailable(Tier::Backup, &m, true, true),
            Some(("the app keeps no state".to_string(), true))
        );
    }

    #[test]
    fn no_release_means_no_upgrade_and_no_label_means_no_backup_or_restore() {
        let m = RecipeMeta::default();
        assert_eq!(
            tier_unavailable(Tier::Upgrade, &m, false, true),
            Some((NO_RELEASE.to_string(), false))
        );
        for t in [Tier::Backup, Tier::Restore] {
            assert_eq!(
                tier_unavailable(t, &m, true, false),
                Some((NO_BACKUP.to_string(), false))
            );
        }
        for t in Tier::ALL {
            assert_eq!(tier_unavailable(t, &m, true, true), None, "{t}");
        }
    }

    #[test]
    fn install_always_runs() {
        let m = meta("tiers: [upgrade]\n");
        assert_eq!(tier_unavailable(Tier::Install, &m, false, false), None);
    }
}
