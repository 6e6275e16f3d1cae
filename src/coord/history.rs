//! The ledger's memory of past runs, read-only: which assertions failed in a recipe's last run (what
//! `cc-ci run --lf` / `--ff` rerun, as pytest's cache does). It never writes, never creates the
//! database and never provisions anything: a listing may call it.

use std::collections::BTreeSet;

use rusqlite::{params, OptionalExtension};

use super::{db, CoordError, CoordPaths};

/// The last run of a recipe that evaluated assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRun {
    pub run_id: String,
    /// The ids of the assertions whose verdict was `failed`.
    pub failed: BTreeSet<String>,
}

/// The newest run of `recipe` (its name, as the `run_end` event names it) that recorded at least one
/// verdict, with its failed assertions. `None` when the ledger does not exist yet or holds no such run.
pub fn last_run(paths: &CoordPaths, recipe: &str) -> Result<Option<LastRun>, CoordError> {
    if !paths.ledger_db.is_file() {
        return Ok(None);
    }
    let sql = |e| CoordError::Sqlite {
        action: "read the last run",
        path: paths.ledger_db.clone(),
        source: e,
    };
    let conn = db::open_ro(&paths.ledger_db).map_err(sql)?;
    let run_id: Option<String> = conn
        .query_row(
            "SELECT e.run_id FROM events e
             WHERE e.kind = 'run_end' AND e.subject = ?1 AND e.run_id IS NOT NULL
               AND EXISTS (SELECT 1 FROM events v WHERE v.kind = 'verdict' AND v.run_id = e.run_id)
             ORDER BY e.seq DESC LIMIT 1",
            params![recipe],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?;
    let Some(run_id) = run_id else {
        return Ok(None);
    };
    let mut st = conn
        .prepare(
            "SELECT subject FROM events WHERE kind = 'verdict' AND run_id = ?1 AND outcome = 'failed'",
        )
        .map_err(sql)?;
    let failed = st
        .query_map(params![run_id], |r| r.get::<_, String>(0))
        .map_err(sql)?
        .collect::<Result<BTreeSet<_>, _>>()
        .map_err(sql)?;
    Ok(Some(LastRun { run_id, failed }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::{provision, Ledger, NewEvent, ProvisionOptions};

    fn tree() -> (tempfile::TempDir, CoordPaths) {
        let dir = tempfile::tempdir().unwrap();
        let paths = CoordPaths::resolve(Some(&dir.path().join("coord"))).unwrap();
        (dir, paths)
    }

    fn record(ledger: &Ledger, run: &str, recipe: &str, verdicts: &[(&str, &str)]) {
        for (id, outcome) in verdicts {
            ledger
                .append(NewEvent::new("verdict", *id, *outcome).run(run))
                .unwrap();
        }
        ledger
            .append(NewEvent::new("run_end", recipe, "failed").run(run))
            .unwrap();
    }

    #[test]
    fn no_ledger_means_no_last_run_and_nothing_is_created() {
        let (_d, paths) = tree();
        assert_eq!(last_run(&paths, "hello").unwrap(), None);
        assert!(!paths.base.exists(), "reading created the coord tree");
    }

    #[test]
    fn the_newest_run_of_the_recipe_with_verdicts_gives_its_failures() {
        let (_d, paths) = tree();
        provision(
            &paths,
            &ProvisionOptions {
                repair_perms: false,
            },
        )
        .unwrap();
        let ledger = Ledger::open(&paths).unwrap();
        assert_eq!(last_run(&paths, "hello").unwrap(), None);
        record(
            &ledger,
            "r1",
            "hello",
            &[("install::a", "failed"), ("install::b", "passed")],
        );
        record(
            &ledger,
            "r2",
            "hello",
            &[
                ("install::a", "passed"),
                ("restore::c", "failed"),
                ("restore::d", "failed"),
            ],
        );
        record(&ledger, "r3", "other", &[("install::z", "failed")]);
        // A refused run of the recipe (no verdicts) does not hide the last real one.
        ledger
            .append(NewEvent::new("run_end", "hello", "refused").run("r4"))
            .unwrap();
        let last = last_run(&paths, "hello").unwrap().unwrap();
        assert_eq!(last.run_id, "r2");
        assert_eq!(
            last.failed.into_iter().collect::<Vec<_>>(),
            ["restore::c", "restore::d"]
        );
        assert_eq!(last_run(&paths, "nobody").unwrap(), None);
    }
}
