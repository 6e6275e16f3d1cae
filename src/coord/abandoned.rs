//! Runs that started and never ended: a run killed by SIGKILL (or a lost host) leaves a `run_start`
//! and no `run_end`. When the janitor reaps such a run's leftovers, its `run_end` is recorded as
//! `abandoned`, under the dead run's own id, so the ledger closes every run it opened. It only reads
//! the database and builds events; appending is the caller's.

use serde_json::json;

use super::{db, CoordError, CoordPaths, NewEvent};

/// Whether the ledger at `paths` holds a `run_start` of `run_id` and no final `run_end` (an
/// `interrupting` one is not final).
pub fn never_ended(paths: &CoordPaths, run_id: &str) -> Result<bool, CoordError> {
    let sql = |e| CoordError::sql("read events", &paths.ledger_db, e);
    let conn = db::open_read(&paths.ledger_db)
        .map_err(|e| CoordError::sql("open", &paths.ledger_db, e))?;
    let count = |q: &str| -> Result<i64, CoordError> {
        conn.query_row(q, [run_id], |r| r.get(0)).map_err(sql)
    };
    let started = count("SELECT COUNT(*) FROM events WHERE run_id = ?1 AND kind = 'run_start'")?;
    let ended = count(
        "SELECT COUNT(*) FROM events WHERE run_id = ?1 AND kind = 'run_end' AND outcome != 'interrupting'",
    )?;
    Ok(started > 0 && ended == 0)
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
}
