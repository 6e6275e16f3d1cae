//! Verification: recomputes the SHA-256 chain over the database and over the mirror, compares the two
//! line by line, checks the seal of the head under the ledger key and, when given, a checkpoint
//! published earlier. Reports the first divergence (where, seq, mirror line, expected, found). The
//! mirror is read before the database, so events committed meanwhile show as a lagging mirror, never
//! as tampering. A mirror line must be byte-identical to the database row's rendering; only a
//! differing line is parsed, to say how it differs. A corrupt database is reported as such, the
//! mirror is then verified on its own and the report says how to recover. It only reads (a
//! read-only tree included).

use super::checkpoint::Checkpoint;
use super::event::{Event, Row, GENESIS};
use super::key::{self, KEY_LEN};
use super::{db, seal, spool, sys, CoordError, CoordPaths};

/// The first place where the ledger is not what its chain says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// `db` or `mirror`.
    pub source: &'static str,
    /// The event's seq (0 when the problem is the whole file).
    pub seq: u64,
    /// The mirror line (1-based), for mirror problems.
    pub line: Option<u64>,
    /// What was expected there (a hash, a seq or an event), and what was found.
    pub expected: String,
    pub found: String,
    /// Which check failed.
    pub what: String,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.source)?;
        if self.seq > 0 {
            write!(f, " seq {}", self.seq)?;
        }
        if let Some(l) = self.line {
            write!(f, " (line {l})")?;
        }
        write!(
            f,
            ": {}\n  expected: {}\n  found:    {}",
            self.what, self.expected, self.found
        )
    }
}

/// The result of a verification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub intact: bool,
    pub first_divergence: Option<Divergence>,
    pub db_events: u64,
    pub mirror_events: u64,
    /// Committed events the mirror does not have yet (repaired by `cc-ci coord reconcile`).
    pub mirror_lag: u64,
    /// Events waiting in the spool.
    pub spooled: u64,
    /// Further findings with what to do about them (a missing mirror, a corrupt database, …).
    pub notes: Vec<String>,
}

impl std::fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.first_divergence {
            None => write!(
                f,
                "intact: {} event(s) in the database, {} in the mirror, head sealed",
                self.db_events, self.mirror_events
            )?,
            Some(d) => write!(f, "TAMPERED or divergent: {d}")?,
        }
        if self.mirror_lag > 0 {
            write!(
                f,
                "\nmirror lags the database by {} event(s) (hint: run `cc-ci coord reconcile`)",
                self.mirror_lag
            )?;
        }
        if self.spooled > 0 {
            write!(
                f,
                "\n{} event(s) wait in the spool (hint: run `cc-ci coord reconcile`)",
                self.spooled
            )?;
        }
        for n in &self.notes {
            write!(f, "\n{n}")?;
        }
        Ok(())
    }
}

/// Verifies the ledger at `paths`.
pub fn verify(paths: &CoordPaths) -> Result<VerifyReport, CoordError> {
    verify_with(paths, None)
}

/// The mirror as read: its complete lines (a torn last line is a crash remnant that reconcile cuts).
enum Mirror {
    Missing,
    /// Not a regular file, with what it is.
    Unusable(String),
    Text(Vec<u8>),
}

fn read_mirror(path: &std::path::Path) -> Result<Mirror, CoordError> {
    match sys::read_regular(path, u64::MAX / 2) {
        Ok(b) => Ok(Mirror::Text(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Mirror::Missing),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            Ok(Mirror::Unusable(e.to_string()))
        }
        Err(e) => Err(CoordError::io("read the mirror", path, e)),
    }
}

fn complete_lines(text: &[u8]) -> Vec<&[u8]> {
    match text.iter().rposition(|&b| b == b'\n') {
        Some(end) => text[..end].split(|&b| b == b'\n').collect(),
        None => Vec::new(),
    }
}

/// Verifies the ledger at `paths` and, given a checkpoint published earlier, that the chain still
/// holds that event at that seq (which catches a truncation or rewrite even by a key holder).
pub fn verify_with(
    paths: &CoordPaths,
    checkpoint: Option<&Checkpoint>,
) -> Result<VerifyReport, CoordError> {
    if !paths.ledger_db.exists() {
        return Err(CoordError::NotProvisioned {
            path: paths.ledger_db.clone(),
        });
    }
    let mirror = read_mirror(&paths.mirror)?;
    let mut report = VerifyReport {
        spooled: spool::list(&paths.spool).map_or(0, |v| v.len() as u64),
        ..Default::default()
    };
    let lines = match &mirror {
        Mirror::Text(t) => complete_lines(t),
        _ => Vec::new(),
    };
    match &mirror {
        Mirror::Missing => report.notes.push(format!(
            "mirror {} is missing (hint: `cc-ci coord reconcile` rebuilds it from the database)",
            paths.mirror.display()
        )),
        Mirror::Unusable(why) => report.first_divergence = Some(whole_mirror(paths, why)),
        Mirror::Text(_) => {}
    }
    let read = db::open_read(&paths.ledger_db).and_then(|conn| {
        let head = chain(&conn, &lines, checkpoint, &mut report)?;
        Ok((conn, head))
    });
    match read {
        Ok((conn, head)) => finish(paths, &conn, head, &lines, checkpoint, &mirror, &mut report)?,
        Err(e) if db::is_corrupt(&e) => corrupt(&e, &lines, &mut report),
        Err(e) => return Err(CoordError::sql("read events", &paths.ledger_db, e)),
    }
    report.intact = report.first_divergence.is_none();
    Ok(report)
}

fn whole_mirror(paths: &CoordPaths, why: &str) -> Divergence {
    Divergence {
        source: "mirror",
        seq: 0,
        line: None,
        expected: "a regular file".into(),
        found: why.into(),
        what: format!(
            "{} was replaced (hint: move it away and run `cc-ci coord reconcile` to rebuild it)",
            paths.mirror.display()
        ),
    }
}

/// The end of the database pass: the head, and the first mirror line that differs from its row.
struct Head {
    seq: u64,
    hash: String,
    mirror_div: Option<Divergence>,
    complete: bool,
}

/// Walks the database chain and compares each row with its mirror line.
fn chain(
    conn: &rusqlite::Connection,
    lines: &[&[u8]],
    checkpoint: Option<&Checkpoint>,
    r: &mut VerifyReport,
) -> Result<Head, rusqlite::Error> {
    let mut head = Head {
        seq: 0,
        hash: GENESIS.to_string(),
        mirror_div: None,
        complete: false,
    };
    loop {
        let rows = db::rows_after(conn, head.seq, 20_000)?;
        if rows.is_empty() {
            head.complete = true;
            return Ok(head);
        }
        for row in &rows {
            r.db_events += 1;
            let div = check_row(row, r.db_events, &head.hash)
                .or_else(|| checkpoint.and_then(|c| differs_from(c, row)));
            if let Some(d) = div {
                r.first_divergence.get_or_insert(d);
                return Ok(head);
            }
            head.seq = row.seq;
            head.hash.clone_from(&row.hash);
            let Some(line) = lines.get(r.db_events as usize - 1) else {
                continue;
            };
            r.mirror_events += 1;
            if head.mirror_div.is_none() && *line != row.view().to_line().as_bytes() {
                head.mirror_div = Some(describe_mirror(line, row, r.db_events));
            }
        }
    }
}

/// After a complete database pass: the seal, the checkpoint, the mirror's own problems and its lag.
fn finish(
    paths: &CoordPaths,
    conn: &rusqlite::Connection,
    head: Head,
    lines: &[&[u8]],
    checkpoint: Option<&Checkpoint>,
    mirror: &Mirror,
    r: &mut VerifyReport,
) -> Result<(), CoordError> {
    if !head.complete {
        return Ok(());
    }
    if r.first_divergence.is_none() {
        r.first_divergence = check_seal(paths, conn, &head)?;
    }
    if let Some(cp) = checkpoint.filter(|c| c.seq > head.seq) {
        r.first_divergence.get_or_insert(Divergence {
            source: "db",
            seq: cp.seq,
            line: None,
            expected: cp.hash.clone(),
            found: format!("the chain ends at seq {}", head.seq),
            what: "the published checkpoint is beyond the end of the chain (truncated)".into(),
        });
    }
    if let Some(d) = head.mirror_div {
        r.first_divergence.get_or_insert(d);
    }
    if let Some(extra) = lines.get(head.seq as usize) {
        r.mirror_events = lines.len() as u64;
        r.first_divergence.get_or_insert(Divergence {
            source: "mirror",
            seq: head.seq + 1,
            line: Some(head.seq + 1),
            expected: "no such event (the database ends before it)".into(),
            found: serde_json::from_slice::<Event>(extra)
                .map(|e| e.hash)
                .unwrap_or_else(|_| excerpt(extra, 0)),
            what: "mirror has events the database lacks".into(),
        });
    }
    if matches!(mirror, Mirror::Text(_)) && (lines.len() as u64) < head.seq {
        r.mirror_lag = head.seq - lines.len() as u64;
    }
    Ok(())
}

/// The seal must vouch for the head under the ledger key.
fn check_seal(
    paths: &CoordPaths,
    conn: &rusqlite::Connection,
    head: &Head,
) -> Result<Option<Divergence>, CoordError> {
    let stored =
        seal::read(conn).map_err(|e| CoordError::sql("read the seal", &paths.ledger_db, e))?;
    let key: [u8; KEY_LEN] = match key::load(&paths.ledger_key, key::LEDGER) {
        Ok(k) => k,
        Err(CoordError::NotProvisioned { .. }) if head.seq == 0 && stored.is_none() => return Ok(None),
        Err(CoordError::NotProvisioned { path }) => {
            return Ok(Some(Divergence {
                source: "db",
                seq: head.seq,
                line: None,
                expected: format!("the ledger key {}", path.display()),
                found: "no key".into(),
                what: "the ledger key is missing, so the seal of the head cannot be checked (hint: restore the key from a backup; a new key cannot vouch for this chain)".into(),
            }))
        }
        Err(e) => return Err(e),
    };
    Ok(seal::check(&key, stored.as_deref(), (head.seq, &head.hash))
        .err()
        .map(|p| Divergence {
            source: "db",
            seq: head.seq,
            line: None,
            expected: p.expected,
            found: p.found,
            what: p.what,
        }))
}

/// The database cannot be read: say so, verify the mirror on its own, and say how to recover.
fn corrupt(e: &rusqlite::Error, lines: &[&[u8]], r: &mut VerifyReport) {
    r.first_divergence.get_or_insert(Divergence {
        source: "db",
        seq: r.db_events + 1,
        line: None,
        expected: "a readable SQLite database".into(),
        found: e.to_string(),
        what: "the database is corrupt or truncated".into(),
    });
    let (through, problem) = mirror_alone(lines);
    r.mirror_events = lines.len() as u64;
    let state = match problem {
        None => format!("the mirror verifies on its own: {through} event(s), an unbroken chain"),
        Some(p) => format!("the mirror verifies on its own through seq {through}, then: {p}"),
    };
    r.notes.push(format!(
        "{state}\nhint: keep the damaged database (`mv ledger.db ledger.db.corrupt`, with any ledger.db-wal and ledger.db-shm), \
         then `cc-ci ledger rebuild` rebuilds it from the mirror; compare the result with a checkpoint published before \
         (`cc-ci ledger verify --checkpoint SEQ:HASH`)"
    ));
}

/// Verifies the mirror's own chain from the genesis: how far it holds, and the first problem.
pub(crate) fn mirror_alone(lines: &[&[u8]]) -> (u64, Option<String>) {
    let mut prev = GENESIS.to_string();
    for (i, line) in lines.iter().enumerate() {
        let seq = i as u64 + 1;
        let ev: Event = match serde_json::from_slice(line) {
            Ok(ev) => ev,
            Err(e) => return (seq - 1, Some(format!("line {seq} is unreadable: {e}"))),
        };
        let problem = if ev.seq != seq {
            Some(format!("line {seq} holds seq {}", ev.seq))
        } else if ev.prev_hash != prev {
            Some(format!("seq {seq}: prev_hash breaks the chain"))
        } else if ev.compute_hash() != ev.hash {
            Some(format!(
                "seq {seq}: hash does not match the event's content"
            ))
        } else if ev.to_line().as_bytes() != *line {
            Some(format!("seq {seq}: the line is not in canonical form"))
        } else {
            None
        };
        if problem.is_some() {
            return (seq - 1, problem);
        }
        prev = ev.hash;
    }
    (lines.len() as u64, None)
}

/// Checks one database row against its position and the previous hash.
fn check_row(row: &Row, seq: u64, prev: &str) -> Option<Divergence> {
    let div = |what: &str, expected: String, found: String| Divergence {
        source: "db",
        seq,
        line: None,
        expected,
        found,
        what: what.into(),
    };
    if row.seq != seq {
        return Some(div(
            "seq out of order",
            seq.to_string(),
            row.seq.to_string(),
        ));
    }
    if row.prev_hash != prev {
        return Some(div(
            "prev_hash breaks the chain",
            prev.to_string(),
            row.prev_hash.clone(),
        ));
    }
    let h = row.view().compute_hash();
    if row.hash != h {
        return Some(div(
            "hash does not match the event's content",
            h,
            row.hash.clone(),
        ));
    }
    None
}

fn differs_from(cp: &Checkpoint, row: &Row) -> Option<Divergence> {
    (cp.seq == row.seq && cp.hash != row.hash).then(|| Divergence {
        source: "db",
        seq: row.seq,
        line: None,
        expected: cp.hash.clone(),
        found: row.hash.clone(),
        what: "the chain differs from the published checkpoint (rewritten)".into(),
    })
}

/// Up to 80 characters of `b` from byte `at`, escaped so `\r`, tabs and stray bytes show.
fn excerpt(b: &[u8], at: usize) -> String {
    let from = at.saturating_sub(20).min(b.len());
    let to = (from + 80).min(b.len());
    format!("{:?}", String::from_utf8_lossy(&b[from..to]))
}

/// Explains how a mirror line differs from the verified database row of the same position.
fn describe_mirror(line: &[u8], row: &Row, line_no: u64) -> Divergence {
    let mut d = Divergence {
        source: "mirror",
        seq: row.seq,
        line: Some(line_no),
        expected: row.hash.clone(),
        found: String::new(),
        what: "mirror line differs from the database".into(),
    };
    if let Err(e) = std::str::from_utf8(line) {
        d.what = format!(
            "mirror line is not UTF-8 (byte {} of the line)",
            e.valid_up_to() + 1
        );
        d.found = excerpt(line, e.valid_up_to());
        return d;
    }
    match serde_json::from_slice::<Event>(line) {
        Err(e) => {
            d.what = "unreadable mirror line".into();
            d.found = e.to_string();
        }
        Ok(ev) if ev.seq != row.seq => {
            d.what = "mirror seq out of order".into();
            d.expected = row.seq.to_string();
            d.found = ev.seq.to_string();
        }
        Ok(ev) if ev.compute_hash() != ev.hash => {
            d.what = "mirror line's hash does not match its content".into();
            d.expected = ev.compute_hash();
            d.found = ev.hash;
        }
        Ok(ev) if ev.hash != row.hash => d.found = ev.hash,
        Ok(_) => {
            // Same event, other bytes: extra whitespace, a CRLF line ending, escapes written differently.
            let want = row.view().to_line();
            let at = want
                .bytes()
                .zip(line.iter())
                .position(|(a, b)| a != *b)
                .unwrap_or(want.len().min(line.len()));
            d.what = format!(
                "mirror line is the same event written differently (whitespace or line ending), first at byte {}",
                at + 1
            );
            d.expected = excerpt(want.as_bytes(), at);
            d.found = excerpt(line, at);
        }
    }
    d
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
