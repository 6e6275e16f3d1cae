//! Rebuilding a lost or damaged `ledger.db` from the mirror: only when the database has been moved
//! aside (it never overwrites one), only from a mirror whose own chain verifies from the genesis, and
//! the result is sealed with the ledger key and recorded as a `rebuild` event. Whether the mirror is
//! the ledger that was published is for `cc-ci ledger verify --checkpoint` to say afterwards.

use serde_json::json;

use super::event::Event;
use super::key::{self, LEDGER};
use super::{db, seal, sys, verify, Checkpoint, CoordError, CoordPaths, Ledger, NewEvent};

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    /// Events taken from the mirror.
    pub events: u64,
    /// The head after the `rebuild` event.
    pub checkpoint: Option<Checkpoint>,
}

/// Rebuilds `ledger.db` from `ledger.jsonl`.
pub fn rebuild(paths: &CoordPaths) -> Result<RebuildReport, CoordError> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = paths.ledger_db.as_os_str().to_owned();
        p.push(suffix);
        let p = std::path::PathBuf::from(p);
        if std::fs::symlink_metadata(&p).is_ok() {
            return Err(CoordError::Invalid {
                what: "exists; a rebuild never overwrites a database".into(),
                hint: format!(
                    "move the damaged files aside first: `mv {} {}.corrupt` (and its -wal, -shm)",
                    p.display(),
                    p.display()
                ),
                path: p,
            });
        }
    }
    let key = key::load(&paths.ledger_key, LEDGER)?;
    let bytes = sys::read_regular(&paths.mirror, u64::MAX / 2)
        .map_err(|e| CoordError::io("read the mirror", &paths.mirror, e))?;
    let complete = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(end) => &bytes[..end],
        None => &bytes[..0],
    };
    let lines: Vec<&[u8]> = if complete.is_empty() {
        Vec::new()
    } else {
        complete.split(|&b| b == b'\n').collect()
    };
    if let (through, Some(problem)) = verify::mirror_alone(&lines) {
        return Err(CoordError::Invalid {
            path: paths.mirror.clone(),
            what: format!("its chain holds through seq {through}, then: {problem}"),
            hint: "a rebuild needs a mirror that verifies on its own; restore ledger.db from a backup instead".into(),
        });
    }
    let sql = |action| move |e| CoordError::sql(action, &paths.ledger_db, e);
    db::create(&paths.ledger_db).map_err(sql("create the schema"))?;
    let mut conn = db::open_rw(&paths.ledger_db, db::DEFAULT_BUSY_TIMEOUT).map_err(sql("open"))?;
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sql("begin a write transaction"))?;
    let mut head = None;
    for line in &lines {
        let ev: Event = serde_json::from_slice(line).map_err(|e| CoordError::Parse {
            path: paths.mirror.clone(),
            why: e.to_string(),
        })?;
        db::insert(&tx, &ev).map_err(sql("insert an event"))?;
        head = Some((ev.seq, ev.hash));
    }
    if let Some((seq, hash)) = &head {
        seal::write(&tx, &key, *seq, hash).map_err(sql("seal the chain head"))?;
    }
    tx.commit().map_err(sql("commit the rebuilt events"))?;
    drop(conn);
    let ledger = Ledger::open(paths)?;
    ledger.append(
        NewEvent::new("rebuild", paths.ledger_db.display().to_string(), "rebuilt").data(json!({
            "events": lines.len(),
            "from": paths.mirror.display().to_string(),
        })),
    )?;
    Ok(RebuildReport {
        events: lines.len() as u64,
        checkpoint: ledger.checkpoint()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::{provision, verify, ProvisionOptions};

    #[test]
    fn a_database_moved_aside_is_rebuilt_from_the_mirror_and_verifies() {
        let d = tempfile::tempdir().unwrap();
        let p = CoordPaths::resolve_with(Some(&d.path().join("c")), &|_| None).unwrap();
        provision(&p, &ProvisionOptions::default()).unwrap();
        let l = Ledger::open(&p).unwrap();
        for i in 0..30 {
            l.append(NewEvent::new("op", format!("e{i}"), "ok"))
                .unwrap();
        }
        let before = l.checkpoint().unwrap().unwrap();
        drop(l);
        let e = rebuild(&p).unwrap_err().to_string();
        assert!(e.contains("never overwrites"), "{e}");
        std::fs::rename(&p.ledger_db, d.path().join("aside.db")).unwrap();
        let r = rebuild(&p).unwrap();
        assert_eq!(r.events, 31);
        assert_eq!(r.checkpoint.unwrap().seq, 32);
        let v = crate::coord::verify_with(&p, Some(&before)).unwrap();
        assert!(v.intact, "{v}");
        assert_eq!(verify(&p).unwrap().db_events, 32);
    }

    #[test]
    fn a_mirror_that_does_not_verify_is_not_rebuilt_from() {
        let d = tempfile::tempdir().unwrap();
        let p = CoordPaths::resolve_with(Some(&d.path().join("c")), &|_| None).unwrap();
        provision(&p, &ProvisionOptions::default()).unwrap();
        let text = std::fs::read_to_string(&p.mirror).unwrap();
        std::fs::write(&p.mirror, text.replace("created", "forged")).unwrap();
        std::fs::remove_file(&p.ledger_db).unwrap();
        let e = rebuild(&p).unwrap_err().to_string();
        assert!(e.contains("holds through seq 0"), "{e}");
        assert!(!p.ledger_db.exists());
    }
}
