//! Verification: recomputes the SHA-256 chain over the database and over the mirror, and compares the
//! two line by line. Reports the first divergence (where, seq, expected, found). The mirror is read
//! before the database, so events committed meanwhile show as a lagging mirror, never as tampering.
//! A mirror line must be byte-identical to the database row's rendering; only a differing line is
//! parsed, to say how it differs. It only reads.

use super::checkpoint::Checkpoint;
use super::event::{Event, Row, GENESIS};
use super::{db, spool, CoordError, CoordPaths};

/// The first place where the ledger is not what its chain says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// `db` or `mirror`.
    pub source: &'static str,
    pub seq: u64,
    /// What was expected there (a hash, a seq or an event), and what was found.
    pub expected: String,
    pub found: String,
    /// Which check failed.
    pub what: String,
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
}

impl std::fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.first_divergence {
            None => write!(
                f,
                "intact: {} event(s) in the database, {} in the mirror",
                self.db_events, self.mirror_events
            )?,
            Some(d) => write!(
                f,
                "TAMPERED or divergent: {} seq {}: {}\n  expected: {}\n  found:    {}",
                d.source, d.seq, d.what, d.expected, d.found
            )?,
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
        Ok(())
    }
}

/// Verifies the ledger at `paths`.
pub fn verify(paths: &CoordPaths) -> Result<VerifyReport, CoordError> {
    verify_with(paths, None)
}

/// Verifies the ledger at `paths` and, given a checkpoint published earlier, that the chain still
/// holds that event at that seq (which catches a truncation or rewrite even by a key holder).
pub fn verify_with(
    paths: &CoordPaths,
    checkpoint: Option<&Checkpoint>,
) -> Result<VerifyReport, CoordError> {
    let mirror_text = std::fs::read_to_string(&paths.mirror)
        .map_err(|e| CoordError::io("read the mirror", &paths.mirror, e))?;
    if !paths.ledger_db.exists() {
        return Err(CoordError::NotProvisioned {
            path: paths.ledger_db.clone(),
        });
    }
    // Only complete lines count; a torn last line is a crash remnant that reconcile cuts.
    let complete = match mirror_text.rfind('\n') {
        Some(i) => &mirror_text[..i],
        None => "",
    };
    let mut mirror = if complete.is_empty() {
        None
    } else {
        Some(complete.split('\n'))
    };
    let conn =
        db::open_ro(&paths.ledger_db).map_err(|e| CoordError::sql("open", &paths.ledger_db, e))?;
    let mut report = VerifyReport {
        spooled: spool::list(&paths.spool)
            .map(|v| v.len() as u64)
            .unwrap_or(0),
        ..Default::default()
    };
    let mut prev = GENESIS.to_string();
    let mut mirror_div: Option<Divergence> = None;
    let mut after = 0;
    'rows: loop {
        let rows = db::rows_after(&conn, after, 20_000)
            .map_err(|e| CoordError::sql("read events", &paths.ledger_db, e))?;
        let Some(l) = rows.last() else { break };
        after = l.seq;
        for row in &rows {
            report.db_events += 1;
            if let Some(d) = check_row(row, report.db_events, &prev) {
                report.first_divergence = Some(d);
                break 'rows;
            }
            if let Some(cp) = checkpoint.filter(|c| c.seq == row.seq && c.hash != row.hash) {
                report.first_divergence = Some(Divergence {
                    source: "db",
                    seq: row.seq,
                    expected: cp.hash.clone(),
                    found: row.hash.clone(),
                    what: "the chain differs from the published checkpoint (rewritten)".into(),
                });
                break 'rows;
            }
            prev = row.hash.clone();
            let Some(line) = mirror.as_mut().and_then(|m| m.next()) else {
                mirror = None;
                continue;
            };
            report.mirror_events += 1;
            if mirror_div.is_none() && line != row.view().to_line() {
                mirror_div = Some(describe_mirror(line, row));
            }
        }
    }
    if report.first_divergence.is_none() {
        report.first_divergence = mirror_div;
    }
    if report.first_divergence.is_none() {
        if let Some(extra) = mirror.as_mut().and_then(|m| m.next()) {
            report.mirror_events += 1;
            report.first_divergence = Some(Divergence {
                source: "mirror",
                seq: report.db_events + 1,
                expected: "no such event (the database ends before it)".into(),
                found: serde_json::from_str::<Event>(extra)
                    .map(|e| e.hash)
                    .unwrap_or_else(|_| extra.chars().take(80).collect()),
                what: "mirror has events the database lacks".into(),
            });
        }
    }
    if let Some(cp) = checkpoint.filter(|c| c.seq > report.db_events) {
        if report.first_divergence.is_none() {
            report.first_divergence = Some(Divergence {
                source: "db",
                seq: cp.seq,
                expected: cp.hash.clone(),
                found: format!("the chain ends at seq {}", report.db_events),
                what: "the published checkpoint is beyond the end of the chain (truncated)".into(),
            });
        }
    }
    report.mirror_lag = report.db_events.saturating_sub(report.mirror_events);
    report.intact = report.first_divergence.is_none();
    Ok(report)
}

/// Checks one database row against its position and the previous hash.
fn check_row(row: &Row, seq: u64, prev: &str) -> Option<Divergence> {
    let div = |what: &str, expected: String, found: String| Divergence {
        source: "db",
        seq,
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

/// Explains how a mirror line differs from the verified database row of the same position.
fn describe_mirror(line: &str, row: &Row) -> Divergence {
    let mut d = Divergence {
        source: "mirror",
        seq: row.seq,
        expected: row.hash.clone(),
        found: String::new(),
        what: "mirror line differs from the database".into(),
    };
    match serde_json::from_str::<Event>(line) {
        Err(e) => {
            d.what = "unreadable mirror line".into();
            d.found = e.to_string();
        }
        Ok(ev) if ev.seq != row.seq => {
            d.what = "mirror seq out of order".into();
            d.expected = row.seq.to_string();
            d.found = ev.seq.to_string();
        }
        Ok(ev) => {
            let h = ev.compute_hash();
            if h != ev.hash {
                d.what = "mirror line's hash does not match its content".into();
                d.expected = h;
            }
            d.found = ev.hash;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::{provision, Ledger, NewEvent, ProvisionOptions};

    fn tree(n: usize) -> (tempfile::TempDir, CoordPaths) {
        let d = tempfile::tempdir().unwrap();
        let p = CoordPaths::resolve_with(Some(&d.path().join("c")), &|_| None).unwrap();
        provision(&p, &ProvisionOptions::default()).unwrap();
        let l = Ledger::open(&p).unwrap();
        for i in 0..n {
            l.append(NewEvent::new("op", format!("e{i}"), "ok"))
                .unwrap();
        }
        (d, p)
    }

    fn sql(p: &CoordPaths, s: &str) {
        rusqlite::Connection::open(&p.ledger_db)
            .unwrap()
            .execute_batch(s)
            .unwrap();
    }

    #[test]
    fn a_deleted_row_breaks_the_database_chain() {
        let (_d, p) = tree(5);
        sql(
            &p,
            "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 3;",
        );
        let d = verify(&p).unwrap().first_divergence.unwrap();
        assert_eq!((d.source, d.seq), ("db", 3));
        assert_eq!(d.what, "seq out of order");
    }

    #[test]
    fn rewritten_data_is_a_hash_mismatch() {
        let (_d, p) = tree(5);
        sql(
            &p,
            r#"DROP TRIGGER events_no_update; UPDATE events SET data = '{"x":1}' WHERE seq = 4;"#,
        );
        let r = verify(&p).unwrap();
        assert!(!r.intact);
        let d = r.first_divergence.unwrap();
        assert_eq!((d.source, d.seq), ("db", 4));
        assert!(d.what.contains("hash does not match"), "{d:?}");
    }

    #[test]
    fn a_checkpoint_catches_a_consistent_rewrite_and_a_truncation() {
        let (_d, p) = tree(4);
        let l = Ledger::open(&p).unwrap();
        let cp = l.checkpoint().unwrap().unwrap();
        assert!(verify_with(&p, Some(&cp)).unwrap().intact);
        // Rewrite the whole chain consistently: every hash recomputed, as a key holder could.
        let rows = db::rows_after(&db::open_ro(&p.ledger_db).unwrap(), 0, 100).unwrap();
        let mut prev = GENESIS.to_string();
        let conn = rusqlite::Connection::open(&p.ledger_db).unwrap();
        conn.execute_batch("DROP TRIGGER events_no_update;")
            .unwrap();
        for mut r in rows {
            r.outcome = "rewritten".into();
            r.prev_hash = prev.clone();
            r.hash = r.view().compute_hash();
            conn.execute(
                "UPDATE events SET outcome = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
                rusqlite::params![r.outcome, r.prev_hash, r.hash, r.seq as i64],
            )
            .unwrap();
            prev = r.hash;
        }
        let d = verify_with(&p, Some(&cp))
            .unwrap()
            .first_divergence
            .unwrap();
        assert_eq!((d.source, d.seq), ("db", cp.seq));
        assert!(d.what.contains("checkpoint"), "{d:?}");
        let beyond = Checkpoint {
            seq: cp.seq + 3,
            hash: cp.hash.clone(),
        };
        let d = verify_with(&p, Some(&beyond))
            .unwrap()
            .first_divergence
            .unwrap();
        assert!(d.what.contains("truncated"), "{d:?}");
    }

    #[test]
    fn a_mirror_line_the_database_lacks_is_divergence_and_a_short_mirror_is_lag() {
        let (_d, p) = tree(3);
        let text = std::fs::read_to_string(&p.mirror).unwrap();
        let last = text.lines().last().unwrap().to_string();
        std::fs::write(&p.mirror, format!("{text}{last}\n")).unwrap();
        let d = verify(&p).unwrap().first_divergence.unwrap();
        assert_eq!((d.source, d.seq), ("mirror", 5));
        assert!(d.what.contains("lacks"), "{d:?}");

        let short: Vec<&str> = text.lines().take(2).collect();
        std::fs::write(&p.mirror, short.join("\n") + "\n").unwrap();
        let r = verify(&p).unwrap();
        assert!(r.intact, "{r}");
        assert_eq!(r.mirror_lag, 2);
    }
}
