//! Reconcile: commits every authenticated, valid spooled event exactly once (its id is unique in the
//! database), deletes a spool file only after its event is committed (or found committed with the same
//! content), and repairs a mirror that lags the database. A file that is not a regular file, too
//! large, unauthenticated or malformed is moved to `spool/quarantine/` and recorded as a `quarantine`
//! event; a file whose id is already taken by different content is kept there too and raises an
//! `alarm` event. Safe to run concurrently with appends and with itself. It never rewrites a committed
//! event and never deletes a file it has not committed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Transaction, TransactionBehavior};
use serde_json::json;

use super::event::{canonical, NewEvent, Row, Stamped};
use super::from_file::FromReport;
use super::key::{self, KEY_LEN};
use super::spool::{self, Spooled};
use super::{db, mirror, seal, sys, CoordError, CoordPaths};

/// Spool files committed per transaction.
const BATCH: usize = 2000;

/// What a reconcile did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Spooled events committed by this run.
    pub ingested: u64,
    /// Spool files whose event was already committed with the same content (removed).
    pub duplicates: u64,
    /// Files moved to `spool/quarantine/` without being committed, with the reason.
    pub quarantined: Vec<(PathBuf, String)>,
    /// Files whose id collides with different content, kept in quarantine, with the reason.
    pub alarms: Vec<(PathBuf, String)>,
    /// Lines appended to repair the mirror.
    pub mirror_repaired: u64,
    /// Bytes of a torn mirror line that were cut.
    pub mirror_cut_bytes: u64,
    /// Temporary spool files left by writers killed mid-write (never acknowledged), removed.
    pub stale_tmp_removed: u64,
    /// What `reconcile --from FILE` did with a fallback file.
    pub from: Option<FromReport>,
}

impl ReconcileReport {
    /// Whether something needs a person's attention (quarantined files, id collisions).
    pub fn needs_attention(&self) -> bool {
        !self.quarantined.is_empty()
            || !self.alarms.is_empty()
            || self.from.as_ref().is_some_and(|f| !f.alarms.is_empty())
    }
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
        if let Some(from) = &self.from {
            write!(f, "\n{from}")?;
        }
        for (p, why) in &self.quarantined {
            write!(f, "\nquarantined  {}: {why}", p.display())?;
        }
        for (p, why) in &self.alarms {
            write!(f, "\nALARM        {}: {why}", p.display())?;
        }
        if !self.quarantined.is_empty() || !self.alarms.is_empty() {
            write!(f, "\n(hint: quarantined files are kept for inspection and recorded in the ledger; nothing in them was committed)")?;
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
    let key = key::load(&paths.ledger_key, key::LEDGER)?;
    let mut conn = db::open_rw(&paths.ledger_db, db::DEFAULT_BUSY_TIMEOUT)
        .map_err(|e| CoordError::sql("open", &paths.ledger_db, e))?;
    let mut report = ReconcileReport::default();
    let files = spool::list(&paths.spool)?;
    for chunk in files.chunks(BATCH) {
        let batch = load(chunk, &key);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| CoordError::sql("begin a write transaction", &paths.ledger_db, e))?;
        let done = commit(&tx, paths, &key, batch, &mut report)?;
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

/// One batch of spool files, read and sorted into what may be committed and what may not.
#[derive(Default)]
struct Batch<'a> {
    events: Vec<(&'a PathBuf, Stamped)>,
    /// Rejected files: reason and digest.
    rejected: Vec<(&'a PathBuf, String, Option<String>)>,
    /// Files whose id another file of the batch carries with different content.
    colliding: Vec<(&'a PathBuf, String)>,
}

fn load<'a>(chunk: &'a [PathBuf], key: &[u8; KEY_LEN]) -> Batch<'a> {
    let mut b = Batch::default();
    for p in chunk {
        match spool::read(p, key) {
            Spooled::Gone => {}
            Spooled::Event(ev) => b.events.push((p, ev)),
            Spooled::Rejected { reason, sha256 } => b.rejected.push((p, reason, sha256)),
        }
    }
    // Two authenticated files with one id and different content: commit neither, keep both.
    let mut clash = std::collections::BTreeSet::new();
    for (i, (_, a)) in b.events.iter().enumerate() {
        if b.events[i + 1..]
            .iter()
            .any(|(_, o)| o.id == a.id && o != a)
        {
            clash.insert(a.id.clone());
        }
    }
    let (keep, clashing): (Vec<_>, Vec<_>) = std::mem::take(&mut b.events)
        .into_iter()
        .partition(|(_, e)| !clash.contains(&e.id));
    b.events = keep;
    b.colliding = clashing
        .into_iter()
        .map(|(p, e)| {
            let why = format!(
                "event id {} is carried by another spool file with different content",
                e.id
            );
            (p, why)
        })
        .collect();
    b
}

/// Commits a batch inside `tx`; returns the files to delete once the transaction has committed.
fn commit<'a>(
    tx: &Transaction<'_>,
    paths: &CoordPaths,
    key: &[u8; KEY_LEN],
    mut b: Batch<'a>,
    report: &mut ReconcileReport,
) -> Result<Vec<&'a PathBuf>, CoordError> {
    let mut chain = Chain::start(tx, paths)?;
    let mut done = Vec::new();
    for (p, ev) in std::mem::take(&mut b.events) {
        let id = ev.id.clone();
        match chain.commit_once(tx, ev)? {
            Once::Appended => {
                report.ingested += 1;
                done.push(p);
            }
            Once::Duplicate => {
                report.duplicates += 1;
                done.push(p);
            }
            Once::Collision { seq } => b.colliding.push((p, collision(&id, seq))),
        }
    }
    for (p, reason, sha256) in b.rejected {
        if let Some(moved) = spool::quarantine(&paths.spool, p)? {
            let ev = NewEvent::new("quarantine", name(p), "quarantined").data(json!({
                "reason": reason, "sha256": sha256, "kept_at": moved.display().to_string(),
            }));
            chain.insert(tx, chain.stamp(ev))?;
            report.quarantined.push((moved, reason));
        }
    }
    for (p, reason) in b.colliding {
        if let Some(moved) = spool::quarantine(&paths.spool, p)? {
            let ev = NewEvent::new("alarm", name(p), "spool_id_collision").data(json!({
                "reason": reason, "kept_at": moved.display().to_string(),
            }));
            chain.insert(tx, chain.stamp(ev))?;
            report.alarms.push((moved, reason));
        }
    }
    chain.seal(tx, key)?;
    Ok(done)
}

/// What committing one authenticated event exactly once found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Once {
    /// Its id was not committed: it is now.
    Appended,
    /// Its id is already committed with the same content: nothing appended.
    Duplicate,
    /// Its id is already committed at `seq` with different content: nothing appended (an alarm).
    Collision { seq: u64 },
}

/// Why an event whose id is committed with other content is refused.
pub(super) fn collision(id: &str, seq: u64) -> String {
    format!("event id {id} is already committed at seq {seq} with different content")
}

/// The head of the chain while a batch is inserted. Shared by the spool reconcile and
/// `reconcile --from` (`from_file.rs`), so both commit an event exactly once the same way.
pub(super) struct Chain<'p> {
    seq: u64,
    prev: String,
    inserted: bool,
    host: String,
    paths: &'p CoordPaths,
}

impl<'p> Chain<'p> {
    pub(super) fn start(tx: &Transaction<'_>, paths: &'p CoordPaths) -> Result<Self, CoordError> {
        let (seq, prev) = db::last(tx)
            .map_err(|e| CoordError::sql("read the chain head", &paths.ledger_db, e))?;
        Ok(Chain {
            seq,
            prev,
            inserted: false,
            host: sys::hostname(),
            paths,
        })
    }

    pub(super) fn stamp(&self, ev: NewEvent) -> Stamped {
        Stamped::stamp(ev, &self.host)
    }

    pub(super) fn insert(&mut self, tx: &Transaction<'_>, ev: Stamped) -> Result<(), CoordError> {
        self.seq += 1;
        let chained = ev.chain(self.seq, &self.prev);
        db::insert(tx, &chained)
            .map_err(|e| CoordError::sql("insert an event", &self.paths.ledger_db, e))?;
        self.prev = chained.hash;
        self.inserted = true;
        Ok(())
    }

    /// Commits `ev` unless its id is already committed (compared field by field with the row).
    pub(super) fn commit_once(
        &mut self,
        tx: &Transaction<'_>,
        ev: Stamped,
    ) -> Result<Once, CoordError> {
        let row = db::row_by_id(tx, &ev.id)
            .map_err(|e| CoordError::sql("look up an event id", &self.paths.ledger_db, e))?;
        Ok(match row {
            None => {
                self.insert(tx, ev)?;
                Once::Appended
            }
            Some(row) if same(&row, &ev) => Once::Duplicate,
            Some(row) => Once::Collision { seq: row.seq },
        })
    }

    pub(super) fn seal(&self, tx: &Transaction<'_>, key: &[u8; KEY_LEN]) -> Result<(), CoordError> {
        if self.inserted {
            seal::write(tx, key, self.seq, &self.prev)
                .map_err(|e| CoordError::sql("seal the chain head", &self.paths.ledger_db, e))?;
        }
        Ok(())
    }
}

/// Whether a committed row holds exactly the spooled event.
fn same(row: &Row, ev: &Stamped) -> bool {
    row.id == ev.id
        && row.ts == ev.ts
        && row.host == ev.host
        && row.run_id == ev.run_id
        && row.kind == ev.kind
        && row.subject == ev.subject
        && row.outcome == ev.outcome
        && row.data == canonical(&ev.data)
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
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
