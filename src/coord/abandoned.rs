//! Runs that started and never ended: a run killed by SIGKILL (or a lost host) leaves a `run_start`
//! and no `run_end`. When the janitor reaps such a run's leftovers, its `run_end` is recorded as
//! `abandoned`, under the dead run's own id, so the ledger closes every run it opened. `ledger verify`
//! lists the runs still open ([`never_ended_runs`]). It only reads the database and builds events;
//! appending is the caller's.

use serde_json::json;

use super::{db, CoordError, CoordPaths, NewEvent};

/// A run whose `run_start` is in the ledger and no final `run_end` (an `interrupting` one is not
/// final): killed, lost with its host, its last events not recorded yet, or still running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRun {
    pub run_id: String,
    /// The `run_start`'s subject: the recipe source.
    pub subject: String,
    /// The `run_start`'s time (RFC 3339 UTC).
    pub started: String,
}

/// Every run that started and never ended, in the order they started (first `run_start`).
pub fn never_ended_runs(paths: &CoordPaths) -> Result<Vec<OpenRun>, CoordError> {
    open_runs(paths, None)
}

/// Whether the ledger at `paths` holds a `run_start` of `run_id` and no final `run_end` (an
/// `interrupting` one is not final).
pub fn never_ended(paths: &CoordPaths, run_id: &str) -> Result<bool, CoordError> {
    Ok(!open_runs(paths, Some(run_id))?.is_empty())
}

/// The open runs, all or only `only`. The final `run_end`s are one uncorrelated subquery (SQLite
/// builds its set once), so the cost grows with the ledger, not with runs × ends.
fn open_runs(paths: &CoordPaths, only: Option<&str>) -> Result<Vec<OpenRun>, CoordError> {
    let sql = |e| CoordError::sql("read events", &paths.ledger_db, e);
    let conn = db::open_read(&paths.ledger_db)
        .map_err(|e| CoordError::sql("open", &paths.ledger_db, e))?;
    let mut st = conn
        .prepare(
            "SELECT run_id, subject, ts, MIN(seq) FROM events
             WHERE kind = 'run_start' AND run_id IS NOT NULL AND (?1 IS NULL OR run_id = ?1)
               AND run_id NOT IN (SELECT run_id FROM events WHERE kind = 'run_end'
                                  AND outcome != 'interrupting' AND run_id IS NOT NULL)
             GROUP BY run_id ORDER BY MIN(seq)",
        )
        .map_err(sql)?;
    let rows = st
        .query_map([only], |r| {
            Ok(OpenRun {
                run_id: r.get(0)?,
                subject: r.get(1)?,
                started: r.get(2)?,
            })
        })
        .map_err(sql)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(sql)
}

/// The `run_end` the janitor records for dead run `run_id` whose stack `stack` it reaped (`by`: the
/// run that reaped it, when a run's janitor did).
pub fn abandoned_end(run_id: &str, stack: &str, by: Option<&str>) -> NewEvent {
    NewEvent::new("run_end", stack, "abandoned")
        .run(run_id)
        .data(json!({
            "reason": "the run died without ending (e.g. SIGKILL); the janitor reaped its leftovers",
            "stack": stack,
            "reaped_by": by,
        }))
}

/// Records an `abandoned` run_end for every run of `dead` (run id → its stack) that started and never
/// ended. Returns the ids closed, and one message per run that could not be checked or recorded.
pub fn close_dead_runs(
    ledger: &super::Ledger,
    dead: &std::collections::BTreeMap<String, String>,
    by: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    let mut closed = Vec::new();
    let mut problems = Vec::new();
    for (run_id, stack) in dead {
        if Some(run_id.as_str()) == by {
            continue;
        }
        let result = never_ended(ledger.paths(), run_id).and_then(|open| {
            if open {
                ledger.append(abandoned_end(run_id, stack, by))?;
            }
            Ok(open)
        });
        match result {
            Ok(true) => closed.push(run_id.clone()),
            Ok(false) => {}
            Err(e) => problems.push(format!("closing dead run {run_id}: {e}")),
        }
    }
    (closed, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::{provision, Ledger, ProvisionOptions};

    #[test]
    fn a_run_that_started_and_never_ended_is_abandoned_once_closed_it_is_not() {
        let d = tempfile::tempdir().unwrap();
        let paths = CoordPaths::resolve(Some(&d.path().join("coord"))).unwrap();
        provision(&paths, &ProvisionOptions::default()).unwrap();
        let ledger = Ledger::open(&paths).unwrap();
        assert!(!never_ended(&paths, "r1").unwrap(), "no run_start yet");
        ledger
            .append(NewEvent::new("run_start", "hello", "started").run("r1"))
            .unwrap();
        ledger
            .append(NewEvent::new("run_end", "hello", "interrupting").run("r1"))
            .unwrap();
        assert!(never_ended(&paths, "r1").unwrap());
        ledger
            .append(abandoned_end("r1", "hello_x", Some("r2")))
            .unwrap();
        assert!(!never_ended(&paths, "r1").unwrap());
    }

    #[test]
    fn never_ended_runs_lists_runs_without_a_final_end_in_start_order() {
        let d = tempfile::tempdir().unwrap();
        let paths = CoordPaths::resolve(Some(&d.path().join("coord"))).unwrap();
        provision(&paths, &ProvisionOptions::default()).unwrap();
        let ledger = Ledger::open(&paths).unwrap();
        let start = |r: &str, src: &str| NewEvent::new("run_start", src, "started").run(r);
        let end = |r: &str, how: &str| NewEvent::new("run_end", "hello", how).run(r);
        ledger
            .append_batch(vec![
                start("r-done", "/src/a"),
                start("r-killed", "/src/b"),
                start("r-interrupted", "/src/c"),
                end("r-done", "passed"),
                end("r-interrupted", "interrupting"),
                start("r-abandoned", "/src/d"),
                end("r-abandoned", "abandoned"),
                NewEvent::new("run_end", "x", "failed"), // no run id: closes nothing
            ])
            .unwrap();
        let open = never_ended_runs(&paths).unwrap();
        let ids: Vec<&str> = open.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["r-killed", "r-interrupted"]);
        assert_eq!(open[0].subject, "/src/b");
        let started = ledger.tail(100).unwrap();
        let ts = &started.iter().find(|e| e.subject == "/src/b").unwrap().ts;
        assert_eq!(&open[0].started, ts);
        assert!(never_ended(&paths, "r-killed").unwrap());
        assert!(!never_ended(&paths, "r-done").unwrap());
    }
}
