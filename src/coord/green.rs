//! A read-only question to the ledger: which runs of a recipe were green on this host, newest first.
//! The runner's `--upgrade-from last-green` installs the newest of them whose head is an ancestor of
//! the PR head. A run is green when it ended `passed`, install was among its selected tiers and every
//! selected tier passed (or does not apply). Runs record that verdict in their `run_end` event
//! (`data.green`); for older events, which do not, a `passed` run_end whose `run_start` selected install
//! counts. It only reads: it opens the database read-only and never appends, repairs or provisions.

use rusqlite::params;

use super::db;
use super::{CoordError, CoordPaths};

/// One green run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GreenRun {
    pub run_id: String,
    /// The full commit the run tested (its head_ref).
    pub head_ref: String,
    /// When it ended (the `run_end` event's time, RFC 3339).
    pub ended: String,
    /// The `run_end` event's place in the ledger.
    pub seq: u64,
}

/// The green runs of `recipe` (its name, as `run_end` events carry it), newest first. An unprovisioned
/// coord tree has none.
pub fn green_runs(paths: &CoordPaths, recipe: &str) -> Result<Vec<GreenRun>, CoordError> {
    if !paths.ledger_db.exists() {
        return Ok(Vec::new());
    }
    let sql = |e| CoordError::sql("read green runs", &paths.ledger_db, e);
    let conn = db::open_read(&paths.ledger_db).map_err(sql)?;
    let mut ends = conn
        .prepare(
            "SELECT seq, run_id, ts, data FROM events
             WHERE kind = 'run_end' AND subject = ?1 AND outcome = 'passed' AND run_id IS NOT NULL
             ORDER BY seq DESC",
        )
        .map_err(sql)?;
    let rows = ends
        .query_map(params![recipe], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(sql)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql)?;
    let mut starts = conn
        .prepare("SELECT data FROM events WHERE kind = 'run_start' AND run_id = ?1 LIMIT 1")
        .map_err(sql)?;
    let mut out = Vec::new();
    for (seq, run_id, ended, data) in rows {
        let data: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
        let Some(head_ref) = data.get("head_ref").and_then(|h| h.as_str()) else {
            continue;
        };
        let green = match data.get("green").and_then(|g| g.as_bool()) {
            Some(g) => g,
            None => {
                let start: Option<String> = starts
                    .query_row(params![run_id], |r| r.get(0))
                    .map(Some)
                    .or_else(|e| match e {
                        rusqlite::Error::QueryReturnedNoRows => Ok(None),
                        e => Err(e),
                    })
                    .map_err(sql)?;
                selected_install(start.as_deref())
            }
        };
        if green {
            out.push(GreenRun {
                run_id,
                head_ref: head_ref.to_string(),
                ended,
                seq,
            });
        }
    }
    Ok(out)
}

/// Whether a `run_start` event's data lists install among its stages.
fn selected_install(start: Option<&str>) -> bool {
    let Some(v) = start.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()) else {
        return false;
    };
    v.get("stages")
        .and_then(|s| s.as_array())
        .is_some_and(|s| s.iter().any(|t| t == "install"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::{provision, Ledger, NewEvent, ProvisionOptions};
    use serde_json::json;

    fn ledger() -> (tempfile::TempDir, CoordPaths, Ledger) {
        let d = tempfile::tempdir().unwrap();
        let paths = CoordPaths::resolve(Some(&d.path().join("coord"))).unwrap();
        provision(&paths, &ProvisionOptions::default()).unwrap();
        let l = Ledger::open(&paths).unwrap();
        (d, paths, l)
    }

    fn run(l: &Ledger, id: &str, stages: &[&str], outcome: &str, end: serde_json::Value) {
        l.append(
            NewEvent::new("run_start", "/src/hello", "started")
                .run(id)
                .data(json!({ "stages": stages })),
        )
        .unwrap();
        l.append(NewEvent::new("run_end", "hello", outcome).run(id).data(end))
            .unwrap();
    }

    #[test]
    fn green_runs_are_newest_first_and_only_the_recipes_green_ones() {
        let (_d, paths, l) = ledger();
        let all = ["install", "upgrade"];
        run(
            &l,
            "r1",
            &all,
            "passed",
            json!({ "head_ref": "aaa", "green": true }),
        );
        run(
            &l,
            "r2",
            &all,
            "failed",
            json!({ "head_ref": "bbb", "green": false }),
        );
        // Passed, but a selected tier was not run: not green.
        run(
            &l,
            "r3",
            &all,
            "passed",
            json!({ "head_ref": "ccc", "green": false }),
        );
        // An older event without `green`: passed with install selected counts …
        run(&l, "r4", &all, "passed", json!({ "head_ref": "ddd" }));
        // … without install selected it does not.
        run(
            &l,
            "r5",
            &["upgrade"],
            "passed",
            json!({ "head_ref": "eee" }),
        );
        run(&l, "r6", &all, "passed", json!({ "green": true }));
        l.append(
            NewEvent::new("run_end", "other", "passed")
                .run("r7")
                .data(json!({ "head_ref": "fff", "green": true })),
        )
        .unwrap();
        let g = green_runs(&paths, "hello").unwrap();
        let ids: Vec<(&str, &str)> = g
            .iter()
            .map(|r| (r.run_id.as_str(), r.head_ref.as_str()))
            .collect();
        assert_eq!(ids, [("r4", "ddd"), ("r1", "aaa")]);
        assert!(g[0].seq > g[1].seq);
    }

    #[test]
    fn an_unprovisioned_tree_has_no_green_runs() {
        let d = tempfile::tempdir().unwrap();
        let paths = CoordPaths::resolve(Some(&d.path().join("nothing"))).unwrap();
        assert!(green_runs(&paths, "hello").unwrap().is_empty());
        assert!(!d.path().join("nothing").exists(), "nothing was created");
    }
}
