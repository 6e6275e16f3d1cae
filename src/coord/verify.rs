//! Verification: recomputes the SHA-256 chain over the database and over the mirror, and compares the
//! two line by line. Reports the first divergence (where, seq, expected, found). The mirror is read
//! before the database, so events committed meanwhile show as a lagging mirror, never as tampering.
//! It only reads.

use super::event::{Event, GENESIS};
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
    let mirror_text = std::fs::read_to_string(&paths.mirror)
        .map_err(|e| CoordError::io("read the mirror", &paths.mirror, e))?;
    if !paths.ledger_db.exists() {
        return Err(CoordError::NotProvisioned {
            path: paths.ledger_db.clone(),
        });
    }
    let conn =
        db::open_ro(&paths.ledger_db).map_err(|e| CoordError::sql("open", &paths.ledger_db, e))?;
    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let chunk = db::events_after(&conn, after, 50_000)
            .map_err(|e| CoordError::sql("read events", &paths.ledger_db, e))?;
        let Some(l) = chunk.last() else { break };
        after = l.seq;
        rows.extend(chunk);
    }
    let mut report = VerifyReport {
        db_events: rows.len() as u64,
        spooled: spool::list(&paths.spool)
            .map(|v| v.len() as u64)
            .unwrap_or(0),
        ..Default::default()
    };
    report.first_divergence = check_chain(&rows, "db");

    if report.first_divergence.is_none() {
        // Only complete lines count; a torn last line is a crash remnant that reconcile cuts.
        let complete = match mirror_text.rfind('\n') {
            Some(i) => &mirror_text[..=i],
            None => "",
        };
        let mut mirror = Vec::new();
        for (i, line) in complete.lines().enumerate() {
            match serde_json::from_str::<Event>(line) {
                Ok(ev) => mirror.push(ev),
                Err(e) => {
                    report.first_divergence = Some(Divergence {
                        source: "mirror",
                        seq: i as u64 + 1,
                        expected: "an event line".into(),
                        found: format!("line {}: {e}", i + 1),
                        what: "unreadable line".into(),
                    });
                    break;
                }
            }
        }
        report.mirror_events = mirror.len() as u64;
        if report.first_divergence.is_none() {
            report.first_divergence =
                check_chain(&mirror, "mirror").or_else(|| compare(&rows, &mirror));
        }
        report.mirror_lag = (rows.len() as u64).saturating_sub(mirror.len() as u64);
    }
    report.intact = report.first_divergence.is_none();
    Ok(report)
}

fn check_chain(evs: &[Event], source: &'static str) -> Option<Divergence> {
    let mut prev = GENESIS.to_string();
    for (i, ev) in evs.iter().enumerate() {
        let seq = i as u64 + 1;
        let div = |what: &str, expected: String, found: String| Divergence {
            source,
            seq,
            expected,
            found,
            what: what.into(),
        };
        if ev.seq != seq {
            return Some(div("seq out of order", seq.to_string(), ev.seq.to_string()));
        }
        if ev.prev_hash != prev {
            return Some(div(
                "prev_hash breaks the chain",
                prev,
                ev.prev_hash.clone(),
            ));
        }
        let h = ev.compute_hash();
        if ev.hash != h {
            return Some(div(
                "hash does not match the event's content",
                h,
                ev.hash.clone(),
            ));
        }
        prev = h;
    }
    None
}

fn compare(db: &[Event], mirror: &[Event]) -> Option<Divergence> {
    for (d, m) in db.iter().zip(mirror) {
        if d != m {
            return Some(Divergence {
                source: "mirror",
                seq: d.seq,
                expected: d.hash.clone(),
                found: m.hash.clone(),
                what: "mirror line differs from the database".into(),
            });
        }
    }
    if mirror.len() > db.len() {
        let m = &mirror[db.len()];
        return Some(Divergence {
            source: "mirror",
            seq: m.seq,
            expected: "no such event (the database ends before it)".into(),
            found: m.hash.clone(),
            what: "mirror has events the database lacks".into(),
        });
    }
    None
}
