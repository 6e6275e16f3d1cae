//! `--lf` / `--ff` on a built plan: the assertions that failed in the recipe's last run (read from the
//! ledger) run alone, or first within their tier. Only assertions move or go: ops stay once and in
//! order. Its notes are pytest's `run-last-failure` lines. It reads the ledger and never writes it (a
//! listing calls it too).

use std::collections::BTreeSet;

use crate::coord::CoordPaths;

use super::config::LastFailed;
use super::error::RunError;
use super::plan::Plan;

/// `--lf` / `--ff` for `recipe`: the plan against the recipe's last run in the ledger, read-only.
/// Returns the notes to show (none when the mode is off).
pub fn from_ledger(
    plan: &mut Plan,
    mode: LastFailed,
    paths: &CoordPaths,
    recipe: &str,
) -> Result<Vec<String>, RunError> {
    if mode == LastFailed::Off {
        return Ok(Vec::new());
    }
    let previous = crate::coord::last_run(paths, recipe)
        .map_err(RunError::Ledger)?
        .map(|r| r.failed);
    Ok(apply(plan, mode, previous.as_ref()).into_iter().collect())
}

/// Applies `--lf` / `--ff` to a built plan, given the assertions that failed in the recipe's last run
/// (`None`: no such run). Only assertions move or go: ops stay once and in order. Returns the note
/// to print, in pytest's words.
pub fn apply(
    plan: &mut Plan,
    mode: LastFailed,
    previous: Option<&BTreeSet<String>>,
) -> Option<String> {
    let none = BTreeSet::new();
    let previous = previous.unwrap_or(&none);
    let failed_now = |id: &str| previous.contains(id);
    let rerun = plan.tests().filter(|t| failed_now(&t.id)).count();
    let plural = |n: usize| if n == 1 { "failure" } else { "failures" };
    match mode {
        LastFailed::Off => None,
        LastFailed::Only { none_runs_all } if previous.is_empty() => {
            if none_runs_all {
                return Some(
                    "run-last-failure: no previously failed tests, not deselecting items.".into(),
                );
            }
            for tp in &mut plan.tiers {
                tp.deselected += tp.tests.len();
                tp.tests.clear();
            }
            Some("run-last-failure: no previously failed tests, deselecting all items.".into())
        }
        LastFailed::Only { .. } if rerun == 0 => Some(format!(
            "run-last-failure: {} known {} not in selected tests",
            previous.len(),
            plural(previous.len())
        )),
        LastFailed::Only { .. } => {
            for tp in &mut plan.tiers {
                let before = tp.tests.len();
                tp.tests.retain(|t| failed_now(&t.id));
                tp.deselected += before - tp.tests.len();
            }
            Some(format!(
                "run-last-failure: rerun previous {rerun} {}",
                plural(rerun)
            ))
        }
        LastFailed::First if rerun == 0 => {
            Some("run-last-failure: no previously failed tests, not deselecting items.".into())
        }
        LastFailed::First => {
            for tp in &mut plan.tiers {
                // A stable sort: failed first, each group in plan order.
                tp.tests.sort_by_key(|t| !failed_now(&t.id));
            }
            Some(format!(
                "run-last-failure: rerun previous {rerun} {} first",
                plural(rerun)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::config::Selection;
    use super::super::plan::{build, PlanInput};
    use super::*;
    use crate::spec::{parse_spec, RecipeMeta, Tier};

    fn plan() -> Plan {
        let spec = |path: &str, yaml: &str| parse_spec(Path::new(path), yaml).unwrap();
        let generic = vec![
            spec("generic-tests/install.yaml", "tier: install\ntests:\n  - name: a\n    converged: {}\n  - name: b\n    converged: {}\n  - name: c\n    converged: {}\n"),
            spec("generic-tests/restore.yaml", "tier: restore\ntests:\n  - name: d\n    converged: {}\n"),
        ];
        build(&PlanInput {
            stages: &Tier::ALL,
            meta: &RecipeMeta::default(),
            generic: &generic,
            overlays: &[],
            pytest: &[],
            skip_generic: None,
            upgrade_base: Ok(crate::runner::plan::InstallBase {
                rev: "1.0.0+1".into(),
                chaos: false,
            }),
            selection: &Selection::default(),
            install_steps: None,
            backup_capable: true,
        })
        .unwrap()
    }

    fn ids(p: &Plan) -> Vec<String> {
        p.tests()
            .map(|t| t.id.rsplit("::").next().unwrap().to_string())
            .collect()
    }

    fn ops(p: &Plan) -> Vec<&'static str> {
        p.tiers
            .iter()
            .filter(|t| t.op_runs())
            .map(|t| t.op.name())
            .collect()
    }

    fn failed(names: &[&str]) -> BTreeSet<String> {
        names
            .iter()
            .map(|n| {
                let tier = if *n == "d" { "restore" } else { "install" };
                format!("{tier}::generic-tests/{tier}.yaml::{n}")
            })
            .collect()
    }

    const ONLY: LastFailed = LastFailed::Only {
        none_runs_all: true,
    };

    #[test]
    fn lf_keeps_only_the_last_failures_and_every_op() {
        let mut p = plan();
        let all_ops = ops(&p);
        let note = apply(&mut p, ONLY, Some(&failed(&["c", "d"])));
        assert_eq!(ids(&p), ["c", "d"]);
        assert_eq!(ops(&p), all_ops, "ops are never selected away");
        assert_eq!(p.tier(Tier::Install).unwrap().deselected, 2);
        assert_eq!(
            note.as_deref(),
            Some("run-last-failure: rerun previous 2 failures")
        );
    }

    #[test]
    fn lf_without_previous_failures_runs_everything_or_with_lfnf_none_nothing() {
        let mut p = plan();
        let note = apply(&mut p, ONLY, None);
        assert_eq!(ids(&p), ["a", "b", "c", "d"]);
        assert_eq!(
            note.as_deref(),
            Some("run-last-failure: no previously failed tests, not deselecting items.")
        );
        let mut p = plan();
        let none = LastFailed::Only {
            none_runs_all: false,
        };
        apply(&mut p, none, Some(&BTreeSet::new()));
        assert!(ids(&p).is_empty());
        assert_eq!(ops(&p).len(), 4);
    }

    #[test]
    fn lf_whose_failures_are_all_deselected_runs_what_is_selected() {
        let mut p = plan();
        let gone = BTreeSet::from(["install::generic-tests/install.yaml::zz".to_string()]);
        let note = apply(&mut p, ONLY, Some(&gone));
        assert_eq!(ids(&p).len(), 4);
        assert_eq!(
            note.as_deref(),
            Some("run-last-failure: 1 known failure not in selected tests")
        );
    }

    #[test]
    fn from_a_coord_dir_without_a_ledger_lf_runs_everything_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let paths = CoordPaths::resolve_with(Some(dir.path()), &|_| None).unwrap();
        let mut p = plan();
        let notes = from_ledger(&mut p, LastFailed::Off, &paths, "hello").unwrap();
        assert!(notes.is_empty());
        let notes = from_ledger(&mut p, ONLY, &paths, "hello").unwrap();
        assert_eq!(
            notes,
            ["run-last-failure: no previously failed tests, not deselecting items."]
        );
        assert_eq!(ids(&p), ["a", "b", "c", "d"]);
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "reading the last run never creates the ledger"
        );
    }

    #[test]
    fn ff_puts_the_last_failures_first_within_their_tier() {
        let mut p = plan();
        let note = apply(&mut p, LastFailed::First, Some(&failed(&["c", "b"])));
        assert_eq!(ids(&p), ["b", "c", "a", "d"], "tiers keep their order");
        assert_eq!(
            note.as_deref(),
            Some("run-last-failure: rerun previous 2 failures first")
        );
        let mut p = plan();
        assert_eq!(apply(&mut p, LastFailed::Off, Some(&failed(&["c"]))), None);
        assert_eq!(ids(&p), ["a", "b", "c", "d"]);
    }
}
