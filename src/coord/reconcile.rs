//! Reconcile: commits every spooled event exactly once (its id is unique in the database), deletes a
//! spool file only after its event is committed, and repairs a mirror that lags the database. Safe to
//! run concurrently with appends and with itself: a file another reconciler already committed is
//! recognised by its id and only removed. It never rewrites a committed event.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::TransactionBehavior;

use super::{db, mirror, spool, sys, CoordError, CoordPaths};

/// Spool files committed per transaction.
const BATCH: usize = 2000;

/// What a reconcile did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Spooled events committed by this run.
    pub ingested: u64,
    /// Spool files whose event was already committed (removed without a second commit).
    pub duplicates: u64,
    /// Spool files that could not be read, with the reason; they are left in place.
    pub rejected: Vec<(PathBuf, String)>,
    /// Lines appended to repair the mirror.
    pub mirror_repaired: u64,
    /// Bytes of a torn mirror line that were cut.
    pub mirror_cut_bytes: u64,
    /// Temporary spool files left by writers killed mid-write (never acknowledged), removed.
    pub stale_tmp_removed: u64,
}

impl std::fmt::Display for ReconcileReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "reconciled: {} spooled event(s) committed, {} duplicate(s) removed, mirror repaired by {} line(s)",
            self.ingested, self.duplicates, self.mirror_repaired
        )?;
        if self.mirror_cut_bytes > 0 {
            write!(f, ", {} byte(s) of a torn line cut", self.mirror_cut_bytes)?;
        }
        for (p, why) in &self.rejected {
            write!(f, "\nrejected  {}: {why}", p.display())?;
        }
        Ok(())
    }
}

/// Reconciles the spool and the mirror with the database.
pub fn reconcile(paths: &CoordPaths) -> Result<ReconcileReport, CoordError> {
    if !paths.ledger_db.exists() {
        return Err(CoordError::NotProvisioned {
            path: paths.ledger_db.clone(),
        });
    }
    let mut conn = db::open_rw(&paths.ledger_db, db::DEFAULT_BUSY_TIMEOUT)
        .map_err(|e| CoordError::sql("open", &paths.ledger_db, e))?;
    let mut report = ReconcileReport::default();
    let files = spool::list(&paths.spool)?;
    for chunk in files.chunks(BATCH) {
        let mut loaded = Vec::with_capacity(chunk.len());
        for p in chunk {
            match spool::read(p) {
                Ok(Some(ev)) => loaded.push((p, ev)),
                Ok(None) => {}
                Err(e) => report.rejected.push((p.clone(), e.to_string())),
            }
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| CoordError::sql("begin a write transaction", &paths.ledger_db, e))?;
        let (mut seq, mut prev) = db::last(&tx)
            .map_err(|e| CoordError::sql("read the chain head", &paths.ledger_db, e))?;
        let mut done = Vec::with_capacity(loaded.len());
        for (p, ev) in loaded {
            let dup = db::has_id(&tx, &ev.id)
                .map_err(|e| CoordError::sql("look up an event id", &paths.ledger_db, e))?;
            if dup {
                report.duplicates += 1;
            } else {
                seq += 1;
                let chained = ev.chain(seq, &prev);
                db::insert(&tx, &chained)
                    .map_err(|e| CoordError::sql("insert a spooled event", &paths.ledger_db, e))?;
                prev = chained.hash;
                report.ingested += 1;
            }
            done.push(p);
        }
        tx.commit()
            .map_err(|e| CoordError::sql("commit spooled events", &paths.ledger_db, e))?;
        for p in done {
            match std::fs::remove_file(p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(CoordError::io("remove a reconciled spool file", p, e)),
            }
        }
        sys::sync_dir(&paths.spool)?;
    }
    report.stale_tmp_removed = remove_stale_tmp(&paths.spool)?;
    let m = mirror::sync(&conn, &paths.mirror, &paths.ledger_db, &[], true)?;
    report.mirror_repaired = m.appended;
    report.mirror_cut_bytes = m.cut_bytes;
    Ok(report)
}

/// A temporary spool file older than this belongs to a writer that died before its rename.
const STALE_TMP: Duration = Duration::from_secs(600);

/// Removes temporary spool files of dead writers. Their events were never acknowledged.
fn remove_stale_tmp(spool: &Path) -> Result<u64, CoordError> {
    let rd = std::fs::read_dir(spool).map_err(|e| CoordError::io("list the spool", spool, e))?;
    let mut n = 0;
    for ent in rd.flatten() {
        let name = ent.file_name();
        if !name.to_string_lossy().starts_with(".tmp-") {
            continue;
        }
        let old = ent
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TMP);
        if old && std::fs::remove_file(ent.path()).is_ok() {
            n += 1;
        }
    }
    Ok(n)
}
