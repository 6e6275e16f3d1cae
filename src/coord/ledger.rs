//! The ledger handle: appends events to the SQLite chain (BEGIN IMMEDIATE, read the last hash, insert,
//! commit), then brings the JSONL mirror up to date. When the database cannot take an event (locked
//! past the busy timeout, read-only, missing) the event goes to the spool and the append still
//! succeeds. A `Ledger` is `Send + Sync`; threads share one connection behind a mutex and processes
//! serialise on SQLite's write lock. It never rewrites or deletes a committed event.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::checkpoint::Checkpoint;
use super::event::{Event, NewEvent, Stamped};
use super::{db, key, mirror, seal, spool, sys, CoordError, CoordPaths};

/// Where an appended event went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Committed to the database at this seq.
    Committed { seq: u64 },
    /// Written to the spool; the next reconcile commits it.
    Spooled { path: PathBuf },
}

/// Tuning of a ledger handle.
#[derive(Debug, Clone)]
pub struct LedgerOptions {
    /// How long to wait for the database write lock before spooling.
    pub busy_timeout: Duration,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        LedgerOptions {
            busy_timeout: db::DEFAULT_BUSY_TIMEOUT,
        }
    }
}

/// An open ledger.
pub struct Ledger {
    paths: CoordPaths,
    host: String,
    /// The ledger key: authenticates spool files and seals the head. Never printed.
    key: [u8; key::KEY_LEN],
    opts: LedgerOptions,
    /// The open connection and the (device, inode) of the file it opened.
    conn: Mutex<Option<(Connection, (u64, u64))>>,
    mirror_error: Mutex<Option<CoordError>>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ledger({})", self.paths.ledger_db.display())
    }
}

impl Ledger {
    /// Opens the ledger of a provisioned coord tree.
    pub fn open(paths: &CoordPaths) -> Result<Ledger, CoordError> {
        Self::open_with(paths, LedgerOptions::default())
    }

    /// Opens the ledger with explicit options. Fails only when the spool directory or the ledger key
    /// is missing (the tree is not provisioned) or the key is unsafe; an unavailable database is
    /// retried at each append.
    pub fn open_with(paths: &CoordPaths, opts: LedgerOptions) -> Result<Ledger, CoordError> {
        if !paths.spool.is_dir() {
            return Err(CoordError::NotProvisioned {
                path: paths.spool.clone(),
            });
        }
        let key = key::load(&paths.ledger_key, key::LEDGER)?;
        let conn = connect(paths, &opts);
        Ok(Ledger {
            paths: paths.clone(),
            host: sys::hostname(),
            key,
            opts,
            conn: Mutex::new(conn),
            mirror_error: Mutex::new(None),
        })
    }

    /// The paths this ledger writes to.
    pub fn paths(&self) -> &CoordPaths {
        &self.paths
    }

    /// Appends one event.
    pub fn append(&self, ev: NewEvent) -> Result<Appended, CoordError> {
        self.append_decided(|_| Ok(((), vec![ev.clone()])))
            .map(|(_, mut v)| v.remove(0))
    }

    /// Appends several events in one transaction (one fsync), in order.
    pub fn append_batch(&self, evs: Vec<NewEvent>) -> Result<Vec<Appended>, CoordError> {
        if evs.is_empty() {
            return Ok(Vec::new());
        }
        self.append_decided(|_| Ok(((), evs.clone())))
            .map(|(_, v)| v)
    }

    /// The error of the last mirror append that failed after its event was committed, if any. The
    /// event is safe in the database; `cc-ci coord reconcile` repairs the mirror.
    pub fn take_mirror_error(&self) -> Option<CoordError> {
        self.mirror_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Appends the events `decide` returns, deciding them inside the write transaction so reads made
    /// there (e.g. counting a grant's uses) and the append are atomic. `decide` gets `Some(tx)` when
    /// the database is available and `None` when the events will be spooled (it must then decide
    /// without the database); it may be called twice if the database fails midway.
    pub(crate) fn append_decided<T>(
        &self,
        mut decide: impl FnMut(Option<&Transaction<'_>>) -> Result<(T, Vec<NewEvent>), CoordError>,
    ) -> Result<(T, Vec<Appended>), CoordError> {
        self.append_with(|tx| {
            decide(tx).map(|(t, evs)| {
                let stamped = evs
                    .into_iter()
                    .map(|e| Stamped::stamp(e, &self.host))
                    .collect();
                (t, stamped)
            })
        })
    }

    /// Stamps `ev` (a fresh id, now, this host) without appending it: what a caller holds while the
    /// ledger cannot take it, so that every retry and a fallback file carry the same identity.
    pub fn stamp(&self, ev: NewEvent) -> Stamped {
        Stamped::stamp(ev, &self.host)
    }

    /// Appends events stamped earlier, in order, with their ids and times: committed in one
    /// transaction, else spooled; `Err` when neither could take them.
    pub fn append_stamped(&self, evs: &[Stamped]) -> Result<Vec<Appended>, CoordError> {
        if evs.is_empty() {
            return Ok(Vec::new());
        }
        self.append_with(|_| Ok(((), evs.to_vec()))).map(|(_, v)| v)
    }

    /// `ev` authenticated with this tree's ledger key, as one line of a fallback file: what
    /// `cc-ci coord reconcile --from FILE` accepts.
    pub fn fallback_line(&self, ev: &Stamped) -> String {
        spool::to_line(ev, &self.key)
    }

    fn append_with<T>(
        &self,
        mut decide: impl FnMut(Option<&Transaction<'_>>) -> Result<(T, Vec<Stamped>), CoordError>,
    ) -> Result<(T, Vec<Appended>), CoordError> {
        let mut guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        // A database moved away or replaced under an open connection must not swallow events.
        if let Some((_, id)) = guard.as_ref() {
            if file_id(&self.paths.ledger_db) != Some(*id) {
                *guard = None;
            }
        }
        if guard.is_none() {
            *guard = connect(&self.paths, &self.opts);
        }
        let db_error = match guard.as_mut() {
            Some((conn, _)) => match self.commit(conn, &mut decide) {
                Ok(done) => return Ok(done),
                Err(e) => e,
            },
            None => DbFailure {
                busy: false,
                why: "the database cannot be opened".to_string(),
            },
        };
        if !db_error.busy {
            // Reopen next time: the file may have been replaced, repaired or made writable.
            *guard = None;
        }
        drop(guard);
        let (t, evs) = decide(None)?;
        let mut out = Vec::with_capacity(evs.len());
        for stamped in evs {
            let path = spool::write(&self.paths.spool, &stamped, &self.key).map_err(|e| {
                CoordError::EventLost {
                    db: db_error.why.clone(),
                    spool: e.to_string(),
                }
            })?;
            out.push(Appended::Spooled { path });
        }
        Ok((t, out))
    }

    fn commit<T>(
        &self,
        conn: &mut Connection,
        decide: &mut impl FnMut(Option<&Transaction<'_>>) -> Result<(T, Vec<Stamped>), CoordError>,
    ) -> Result<(T, Vec<Appended>), DbFailure> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(DbFailure::from)?;
        let (t, evs) = decide(Some(&tx)).map_err(|e| DbFailure {
            busy: false,
            why: e.to_string(),
        })?;
        let (mut seq, mut prev) = db::last(&tx).map_err(DbFailure::from)?;
        let mut chained: Vec<Event> = Vec::with_capacity(evs.len());
        for ev in evs {
            seq += 1;
            let e = ev.chain(seq, &prev);
            db::insert(&tx, &e).map_err(DbFailure::from)?;
            prev = e.hash.clone();
            chained.push(e);
        }
        if !chained.is_empty() {
            seal::write(&tx, &self.key, seq, &prev).map_err(DbFailure::from)?;
        }
        tx.commit().map_err(DbFailure::from)?;
        if !chained.is_empty() {
            if let Err(e) = mirror::sync(
                conn,
                &self.paths.mirror,
                &self.paths.ledger_db,
                &chained,
                false,
            ) {
                *self.mirror_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
            }
        }
        let out = chained
            .iter()
            .map(|e| Appended::Committed { seq: e.seq })
            .collect();
        Ok((t, out))
    }

    /// The head of the committed chain as a checkpoint (`None` for an empty ledger).
    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, CoordError> {
        head(&self.paths)
    }

    /// The last `n` committed events, oldest first.
    pub fn tail(&self, n: u64) -> Result<Vec<Event>, CoordError> {
        let conn = db::open_read(&self.paths.ledger_db)
            .map_err(|e| CoordError::sql("open", &self.paths.ledger_db, e))?;
        db::last_n(&conn, n).map_err(|e| CoordError::sql("read events", &self.paths.ledger_db, e))
    }
}

/// Why the database did not take an event.
struct DbFailure {
    /// Locked past the busy timeout (keep the connection) rather than broken (reopen it).
    busy: bool,
    why: String,
}

impl From<rusqlite::Error> for DbFailure {
    fn from(e: rusqlite::Error) -> Self {
        let busy = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        );
        DbFailure {
            busy,
            why: e.to_string(),
        }
    }
}

fn file_id(p: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

fn connect(paths: &CoordPaths, opts: &LedgerOptions) -> Option<(Connection, (u64, u64))> {
    let id = file_id(&paths.ledger_db)?;
    let conn = db::open_rw(&paths.ledger_db, opts.busy_timeout).ok()?;
    Some((conn, id))
}

/// The head of the committed chain of the tree at `paths` as a checkpoint (`None` when empty).
pub fn head(paths: &CoordPaths) -> Result<Option<Checkpoint>, CoordError> {
    let conn = db::open_read(&paths.ledger_db)
        .map_err(|e| CoordError::sql("open", &paths.ledger_db, e))?;
    let (seq, hash) =
        db::last(&conn).map_err(|e| CoordError::sql("read the chain head", &paths.ledger_db, e))?;
    Ok((seq > 0).then_some(Checkpoint { seq, hash }))
}

/// Writes every committed event as JSONL (the mirror format) to `w`, in seq order. Returns how many.
pub fn export(paths: &CoordPaths, w: &mut dyn std::io::Write) -> Result<u64, CoordError> {
    if !paths.ledger_db.exists() {
        return Err(CoordError::NotProvisioned {
            path: paths.ledger_db.clone(),
        });
    }
    let conn = db::open_read(&paths.ledger_db)
        .map_err(|e| CoordError::sql("open", &paths.ledger_db, e))?;
    let mut after = 0;
    let mut n = 0;
    loop {
        let evs = db::rows_after(&conn, after, 10_000)
            .map_err(|e| CoordError::sql("read events", &paths.ledger_db, e))?;
        let Some(l) = evs.last() else { break };
        after = l.seq;
        for ev in &evs {
            writeln!(w, "{}", ev.view().to_line())
                .map_err(|e| CoordError::io("write", "stdout", e))?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::{reconcile, verify};
    use std::sync::Arc;

    use crate::coord::testutil::tree;

    #[test]
    fn ledger_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Ledger>();
    }

    #[test]
    fn threads_appending_at_once_keep_one_chain() {
        let (_d, p) = tree();
        let ledger = Arc::new(Ledger::open(&p).unwrap());
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let l = Arc::clone(&ledger);
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let a = l
                            .append(NewEvent::new("op", format!("t{t}-{i}"), "ok"))
                            .unwrap();
                        assert!(matches!(a, Appended::Committed { .. }));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let v = verify(&p).unwrap();
        assert!(v.intact, "{v}");
        assert_eq!(v.db_events, 201);
        assert_eq!(v.mirror_events, 201);
    }

    #[test]
    fn a_missing_database_spools_and_reconcile_commits_after_reprovisioning() {
        let (_d, p) = tree();
        let ledger = Ledger::open(&p).unwrap();
        std::fs::rename(&p.ledger_db, p.base.join("moved.db")).unwrap();
        let a = ledger
            .append(NewEvent::new("verdict", "x", "pass"))
            .unwrap();
        let Appended::Spooled { path } = a else {
            panic!("expected a spooled event, got {a:?}")
        };
        assert!(path.starts_with(&p.spool));
        std::fs::rename(p.base.join("moved.db"), &p.ledger_db).unwrap();
        let r = reconcile(&p).unwrap();
        assert_eq!(r.ingested, 1);
        assert!(matches!(
            ledger.append(NewEvent::new("op", "y", "ok")).unwrap(),
            Appended::Committed { seq: 3 }
        ));
        assert!(verify(&p).unwrap().intact);
    }

    #[test]
    fn a_batch_commits_in_order() {
        let (_d, p) = tree();
        let ledger = Ledger::open(&p).unwrap();
        let evs = (0..10)
            .map(|i| NewEvent::new("op", format!("b{i}"), "ok"))
            .collect();
        let out = ledger.append_batch(evs).unwrap();
        assert_eq!(out.first(), Some(&Appended::Committed { seq: 2 }));
        assert_eq!(out.last(), Some(&Appended::Committed { seq: 11 }));
        let tail = ledger.tail(2).unwrap();
        assert_eq!(tail[1].subject, "b9");
        let head = ledger.checkpoint().unwrap().unwrap();
        assert_eq!((head.seq, &head.hash), (11, &tail[1].hash));
        assert!(verify(&p).unwrap().intact);
    }

    #[test]
    fn mirroring_goes_on_after_a_garbage_line_and_verify_points_at_it() {
        let (_d, p) = tree();
        let ledger = Ledger::open(&p).unwrap();
        ledger.append(NewEvent::new("op", "a", "ok")).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&p.mirror)
            .unwrap();
        std::io::Write::write_all(&mut f, b"not an event\n").unwrap();
        ledger.append(NewEvent::new("op", "b", "ok")).unwrap();
        assert!(ledger.take_mirror_error().is_none());
        let text = std::fs::read_to_string(&p.mirror).unwrap();
        assert!(
            text.lines().last().unwrap().contains("\"subject\":\"b\""),
            "{text}"
        );
        let d = verify(&p).unwrap().first_divergence.unwrap();
        assert_eq!((d.source, d.line), ("mirror", Some(3)));
        assert_eq!(d.what, "unreadable mirror line");
    }

    #[test]
    fn an_unprovisioned_tree_is_refused_with_a_hint() {
        let d = tempfile::tempdir().unwrap();
        let p = CoordPaths::resolve_with(Some(d.path()), &|_| None).unwrap();
        let e = Ledger::open(&p).unwrap_err().to_string();
        assert!(e.contains("coord provision"), "{e}");
    }
}
