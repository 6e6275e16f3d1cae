//! The SQLite side of the ledger: schema, connections and row access. WAL mode, a busy timeout, and
//! triggers that refuse UPDATE and DELETE so the table is append-only for every ordinary client. It
//! never decides what to record and never touches the mirror or the spool.

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};

use super::event::{Event, Row, GENESIS};

/// The schema, applied idempotently by provisioning.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq       INTEGER PRIMARY KEY,
    id        TEXT NOT NULL UNIQUE,
    ts        TEXT NOT NULL,
    host      TEXT NOT NULL,
    run_id    TEXT,
    kind      TEXT NOT NULL,
    subject   TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    data      TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_kind_subject ON events(kind, subject);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1');
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
";

/// How long a writer waits for the database lock before the event goes to the spool.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Creates (if needed) the database at `path`, switches it to WAL and applies the schema. Several
/// provisioners may race here; switching the journal mode can fail with "locked" without waiting on
/// the busy handler, so a locked attempt is retried until the busy timeout has passed.
pub fn create(path: &Path) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + DEFAULT_BUSY_TIMEOUT;
    loop {
        match create_once(path) {
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

fn create_once(path: &Path) -> rusqlite::Result<()> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(DEFAULT_BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} COMMIT;"))
}

/// Refuses a database (or its `-wal`/`-shm` companion) that is not a regular file: SQLite would block
/// forever reading a FIFO planted in its place.
fn check_files(path: &Path) -> rusqlite::Result<()> {
    let mut names = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut s = path.as_os_str().to_owned();
        s.push(suffix);
        names.push(s.into());
    }
    for p in names {
        if let Err(e) = super::sys::check_regular(&p) {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("{}: {e}", p.display())),
            ));
        }
    }
    Ok(())
}

/// Opens an existing database for writing. Never creates one: a missing ledger must not silently
/// restart the chain.
pub fn open_rw(path: &Path, busy: Duration) -> rusqlite::Result<Connection> {
    check_files(path)?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy)?;
    // WAL with synchronous=FULL: a commit is on disk when it returns.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

/// Opens an existing database for reading only.
pub fn open_ro(path: &Path) -> rusqlite::Result<Connection> {
    check_files(path)?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(DEFAULT_BUSY_TIMEOUT)?;
    Ok(conn)
}

/// A connection for reading, on the database itself or, when the tree cannot be written (a
/// read-only mount with a WAL but no `-shm` SQLite could create), on a private copy of it.
pub struct Reader {
    pub conn: Connection,
    /// The directory holding the copy, removed on drop.
    _copy: Option<tempfile::TempDir>,
}

impl std::ops::Deref for Reader {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// Opens the database for reading, falling back to a private copy (database and WAL) when SQLite
/// cannot open it in place read-only.
pub fn open_read(path: &Path) -> rusqlite::Result<Reader> {
    let conn = open_ro(path)?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())) {
        Ok(()) => return Ok(Reader { conn, _copy: None }),
        Err(e)
            if matches!(
                e.sqlite_error_code(),
                Some(
                    rusqlite::ErrorCode::CannotOpen
                        | rusqlite::ErrorCode::ReadOnly
                        | rusqlite::ErrorCode::PermissionDenied
                )
            ) => {}
        Err(e) => return Err(e),
    }
    drop(conn);
    let cant = |why: String| {
        rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(why),
        )
    };
    let dir = tempfile::tempdir().map_err(|e| cant(format!("cannot make a private copy: {e}")))?;
    let copy = dir.path().join("ledger.db");
    for (from, to) in [("", ""), ("-wal", "-wal")] {
        let mut src = path.as_os_str().to_owned();
        src.push(from);
        let mut dst = copy.as_os_str().to_owned();
        dst.push(to);
        let src = std::path::PathBuf::from(src);
        if from.is_empty() || src.exists() {
            let bytes = super::sys::read_regular(&src, u64::MAX / 2)
                .map_err(|e| cant(format!("cannot copy {}: {e}", src.display())))?;
            std::fs::write(&dst, bytes)
                .map_err(|e| cant(format!("cannot make a private copy: {e}")))?;
        }
    }
    let conn = Connection::open(&copy)?;
    conn.busy_timeout(DEFAULT_BUSY_TIMEOUT)?;
    Ok(Reader {
        conn,
        _copy: Some(dir),
    })
}

/// Whether an SQLite error says the file is damaged (not a transient or permission problem).
pub fn is_corrupt(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// The seq and hash of the last event, or `(0, GENESIS)` for an empty ledger.
pub fn last(tx: &Connection) -> rusqlite::Result<(u64, String)> {
    let row = tx
        .query_row(
            "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)),
        )
        .optional()?;
    Ok(row.unwrap_or((0, GENESIS.to_string())))
}

/// Inserts a chained event.
pub fn insert(tx: &Transaction<'_>, ev: &Event) -> rusqlite::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO events(seq, id, ts, host, run_id, kind, subject, outcome, data, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    st.execute(params![
        ev.seq as i64,
        ev.id,
        ev.ts,
        ev.host,
        ev.run_id,
        ev.kind,
        ev.subject,
        ev.outcome,
        super::event::canonical(&ev.data),
        ev.prev_hash,
        ev.hash
    ])?;
    Ok(())
}

const COLS: &str = "seq, id, ts, host, run_id, kind, subject, outcome, data, prev_hash, hash";

/// The committed event with this id, if any.
pub fn row_by_id(tx: &Connection, id: &str) -> rusqlite::Result<Option<Row>> {
    let mut st = tx.prepare_cached(&format!("SELECT {COLS} FROM events WHERE id = ?1"))?;
    st.query_row([id], row_raw).optional()
}

fn row_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    let row = row_raw(r)?;
    Ok(Event {
        seq: row.seq,
        id: row.id,
        ts: row.ts,
        host: row.host,
        run_id: row.run_id,
        kind: row.kind,
        subject: row.subject,
        outcome: row.outcome,
        // A row whose data is not JSON keeps it as a string, so verification reports the mismatch.
        data: serde_json::from_str(&row.data).unwrap_or(serde_json::Value::String(row.data)),
        prev_hash: row.prev_hash,
        hash: row.hash,
    })
}

fn row_raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        seq: r.get::<_, i64>(0)? as u64,
        id: r.get(1)?,
        ts: r.get(2)?,
        host: r.get(3)?,
        run_id: r.get(4)?,
        kind: r.get(5)?,
        subject: r.get(6)?,
        outcome: r.get(7)?,
        data: r.get(8)?,
        prev_hash: r.get(9)?,
        hash: r.get(10)?,
    })
}

/// Rows (data as stored text) with `seq > after`, in order, at most `limit` of them.
pub fn rows_after(conn: &Connection, after: u64, limit: u64) -> rusqlite::Result<Vec<Row>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
    ))?;
    let rows = st.query_map(
        params![after as i64, limit.min(i64::MAX as u64) as i64],
        row_raw,
    )?;
    rows.collect()
}

/// The last `n` events, oldest first.
pub fn last_n(conn: &Connection, n: u64) -> rusqlite::Result<Vec<Event>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM (SELECT * FROM events ORDER BY seq DESC LIMIT ?1) ORDER BY seq"
    ))?;
    let rows = st.query_map([n.min(i64::MAX as u64) as i64], row_event)?;
    rows.collect()
}

/// Events of one kind, in order.
pub fn events_of_kind(conn: &Connection, kind: &str) -> rusqlite::Result<Vec<Event>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM events WHERE kind = ?1 ORDER BY seq"
    ))?;
    let rows = st.query_map([kind], row_event)?;
    rows.collect()
}
