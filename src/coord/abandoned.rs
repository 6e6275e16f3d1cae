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
