//! Reconcile from a fallback file (`cc-ci coord reconcile --from FILE`): a run that could neither
//! commit nor spool some events (a full coord disk) writes them at exit as one JSONL file, one spool
//! record per line (`spool::to_line`, authenticated with the ledger key). This module validates the
//! whole file first (a regular file, at most [`MAX_FALLBACK_BYTES`], every line authenticated and
//! valid, every event of one run), so a bad file appends nothing; then it commits the events in file
//! order, each exactly once, with the same logic as the spool reconcile (`reconcile::Chain`). An id
//! already committed with other content is not appended and raises an `alarm` event. It never
//! rewrites a committed event and never modifies or deletes the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::TransactionBehavior;
use serde_json::json;

use super::event::{NewEvent, Stamped};
use super::key::{self, KEY_LEN};
use super::reconcile::{collision, reconcile, Chain, Once, ReconcileReport};
use super::{db, mirror, spool, sys, CoordError, CoordPaths};

/// The largest fallback file read: a run's events are a few hundred lines of well under 1 KiB.
pub const MAX_FALLBACK_BYTES: u64 = 64 << 20;

/// What `reconcile --from FILE` did with the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FromReport {
    /// The file, as given.
    pub file: PathBuf,
    /// The run its events belong to (`None` for an empty file or events without a run).
    pub run_id: Option<String>,
    /// Events committed now.
    pub appended: u64,
    /// Events whose id was already committed with the same content (not appended again).
    pub duplicates: u64,
    /// Lines whose event id is committed with different content: line number and reason. Not
    /// appended; each raised an `alarm` event.
    pub alarms: Vec<(u64, String)>,
}

impl std::fmt::Display for FromReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let file = self.file.display();
        write!(
            f,
            "from {file}: {} appended, {} already in the ledger",
            self.appended, self.duplicates
        )?;
        for (line, why) in &self.alarms {
            write!(f, "\nALARM        {file}:{line}: {why}")?;
        }
        if !self.alarms.is_empty() {
            write!(f, "\n(hint: a line whose event id the ledger holds with other content was not appended and the alarm is recorded in the ledger; compare it with `cc-ci ledger export`)")?;
        }
        Ok(())
    }
}

/// A fallback file read and validated: its run and its events with their line numbers, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct FallbackFile {
    pub run_id: Option<String>,
    pub events: Vec<(u64, Stamped)>,
}

/// What to do when a fallback file is refused; nothing of it was appended.
const HINT: &str = "nothing of the file was appended; a fallback file is a `ledger-unrecorded-<run id>….jsonl` a run printed, written with this coord tree's ledger key (check --coord-dir), one run per file";

fn refuse(file: &Path, line: Option<u64>, why: &str) -> CoordError {
    let at = match line {
        Some(l) => format!("{}:{l}", file.display()),
        None => file.display().to_string(),
    };
    CoordError::Usage(format!("{at}: {why} (hint: {HINT})"))
}

/// Reads and validates a whole fallback file: a regular file of at most [`MAX_FALLBACK_BYTES`];
/// blank lines are skipped; every other line must be an authenticated, valid record of the same run;
/// an event id twice must carry the same content. Errors are usage errors naming `FILE:LINE`.
pub fn load(file: &Path, key: &[u8; KEY_LEN]) -> Result<FallbackFile, CoordError> {
    let bytes = sys::read_regular(file, MAX_FALLBACK_BYTES).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::InvalidData => format!(
                "it is larger than 64 MiB ({MAX_FALLBACK_BYTES} bytes), the most a fallback file may hold"
            ),
            _ => format!("cannot read the fallback file: {e}"),
        };
        refuse(file, None, &why)
    })?;
    let mut out = FallbackFile {
        run_id: None,
        events: Vec::new(),
    };
    let mut first: Option<u64> = None;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, text) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i as u64 + 1;
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let ev = spool::parse(text, key).map_err(|why| refuse(file, Some(line), &why))?;
        match first {
            None => {
                first = Some(line);
                out.run_id = ev.run_id.clone();
            }
            Some(l) if ev.run_id != out.run_id => {
                let why = format!(
                    "run_id {:?} differs from {:?} on line {l}: a fallback file holds the events of one run",
                    ev.run_id, out.run_id
                );
                return Err(refuse(file, Some(line), &why));
            }
            Some(_) => {}
        }
        if let Some(&j) = seen.get(&ev.id) {
            let (other_line, other) = &out.events[j];
            if other != &ev {
                let why = format!(
                    "event id {} is also on line {other_line} with different content",
                    ev.id
                );
                return Err(refuse(file, Some(line), &why));
            }
        }
        seen.insert(ev.id.clone(), out.events.len());
        out.events.push((line, ev));
    }
    Ok(out)
}

/// Validates `file` (nothing is appended when it is refused), reconciles the spool and the mirror,
/// then commits the file's events in file order, each exactly once.
pub fn reconcile_from(paths: &CoordPaths, file: &Path) -> Result<ReconcileReport, CoordError> {
    if !paths.ledger_db.exists() {
        return Err(CoordError::NotProvisioned {
            path: paths.ledger_db.clone(),
        });
    }
    let key = key::load(&paths.ledger_key, key::LEDGER)?;
    let loaded = load(file, &key)?;
    let mut report = reconcile(paths)?;
    let mut from = FromReport {
        file: file.to_path_buf(),
        run_id: loaded.run_id.clone(),
        ..FromReport::default()
    };
    let sql = |action| move |e| CoordError::sql(action, &paths.ledger_db, e);
    let mut conn = db::open_rw(&paths.ledger_db, db::DEFAULT_BUSY_TIMEOUT).map_err(sql("open"))?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("begin a write transaction"))?;
    let mut chain = Chain::start(&tx, paths)?;
    let subject = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for (line, ev) in loaded.events {
        let id = ev.id.clone();
        match chain.commit_once(&tx, ev)? {
            Once::Appended => from.appended += 1,
            Once::Duplicate => from.duplicates += 1,
            Once::Collision { seq } => {
                let reason = collision(&id, seq);
                let alarm = NewEvent::new("alarm", &subject, "fallback_id_collision").data(json!({
                    "reason": reason, "file": file.display().to_string(), "line": line,
                }));
                chain.insert(&tx, chain.stamp(alarm))?;
                from.alarms.push((line, reason));
            }
        }
    }
    chain.seal(&tx, &key)?;
    tx.commit()
        .map_err(sql("commit a fallback file's events"))?;
    mirror::sync(&conn, &paths.mirror, &paths.ledger_db, &[], true)?;
    report.from = Some(from);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::{verify, Ledger};

    use crate::coord::testutil::tree;

    /// A run's events as the run side stamps them, and the fallback file of their lines.
    fn fallback(ledger: &Ledger, dir: &Path, run: &str, n: usize) -> (PathBuf, Vec<Stamped>) {
        let mut evs =
            vec![ledger.stamp(NewEvent::new("run_start", "/src/hello", "started").run(run))];
        for i in 0..n {
            evs.push(ledger.stamp(NewEvent::new("verdict", format!("t{i}"), "pass").run(run)));
        }
        let text: String = evs.iter().map(|e| ledger.fallback_line(e) + "\n").collect();
        let file = dir.join(format!("ledger-unrecorded-{run}.jsonl"));
        std::fs::write(&file, text).unwrap();
        (file, evs)
    }

    fn ids(ledger: &Ledger) -> Vec<String> {
        ledger
            .tail(100)
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect()
    }

    #[test]
    fn a_fallback_line_parses_back_as_its_event() {
        let (d, p) = tree();
        let ledger = Ledger::open(&p).unwrap();
        let (file, evs) = fallback(&ledger, d.path(), "r1", 2);
        let key = key::load(&p.ledger_key, key::LEDGER).unwrap();
        let got = load(&file, &key).unwrap();
        assert_eq!(got.run_id.as_deref(), Some("r1"));
        let lines: Vec<u64> = got.events.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![1, 2, 3]);
        let back: Vec<Stamped> = got.events.into_iter().map(|(_, e)| e).collect();
        assert_eq!(back, evs);
    }

    #[test]
    fn reconcile_from_appends_in_file_order_and_a_second_time_nothing() {
        let (d, p) = tree();
        let ledger = Ledger::open(&p).unwrap();
        let (file, evs) = fallback(&ledger, d.path(), "r1", 3);
        // One of them made it into the ledger before the disk filled up.
        ledger.append_stamped(&evs[1..2]).unwrap();
        let before = ids(&ledger).len();
        let r = reconcile_from(&p, &file).unwrap();
        let from = r.from.clone().unwrap();
        assert_eq!((from.appended, from.duplicates), (3, 1), "{r}");
        assert!(!r.needs_attention());
        assert_eq!(
            r.to_string().lines().nth(1).unwrap(),
            format!(
                "from {}: 3 appended, 1 already in the ledger",
                file.display()
            )
        );
        let tail = ledger.tail(100).unwrap();
        let got: Vec<&str> = tail[before..].iter().map(|e| e.id.as_str()).collect();
        let want: Vec<&str> = [0, 2, 3].iter().map(|&i| evs[i].id.as_str()).collect();
        assert_eq!(got, want, "appended in file order after what was there");
        assert_eq!(tail[before].ts, evs[0].ts, "the event keeps its time");
        let again = reconcile_from(&p, &file).unwrap().from.unwrap();
        assert_eq!((again.appended, again.duplicates), (0, 4));
        assert_eq!(ids(&ledger).len(), before + 3);
        assert!(verify(&p).unwrap().intact);
    }

    #[test]
    fn a_forged_or_altered_line_is_refused_with_file_and_line_and_nothing_is_appended() {
        let (d, p) = tree();
        let ledger = Ledger::open(&p).unwrap();
        let (file, _) = fallback(&ledger, d.path(), "r1", 2);
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, text.replacen("\"t1\"", "\"t9\"", 1)).unwrap();
        let before = ids(&ledger);
        let e = reconcile_from(&p, &file).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, CoordError::Usage(_)), "{msg}");
        assert!(
            msg.starts_with(&format!("{}:3: unauthenticated", file.display())),
            "{msg}"
        );
        assert!(msg.contains("nothing of the file was appended"), "{msg}");
        assert_eq!(ids(&ledger), before);
        std::fs::write(&file, text.replacen('{', "[", 1)).unwrap();
        let msg = reconcile_from(&p, &file).unwrap_err().to_string();
        assert!(msg.contains(":1: malformed"), "{msg}");
        assert_eq!(ids(&ledger), before);
    }

    #[test]
    fn a_file_mixing_runs_is_refused_naming_the_line() {
        let (d, p) = tree();
        let ledger = Ledger::open(&p).unwrap();
        let (a, _) = fallback(&ledger, d.path(), "r1", 1);
        let (b, _) = fallback(&ledger, d.path(), "r2", 1);
        let mixed = d.path().join("mixed.jsonl");
        let text = std::fs::read_to_string(&a).unwrap() + &std::fs::read_to_string(&b).unwrap();
        std::fs::write(&mixed, text).unwrap();
        let before = ids(&ledger);
        let msg = reconcile_from(&p, &mixed).unwrap_err().to_string();
        assert!(
            msg.starts_with(&format!(
                "{}:3: run_id Some(\"r2\") differs",
                mixed.display()
            )),
            "{msg}"
        );
        assert_eq!(ids(&ledger), before);
    }

    #[test]
    fn a_fifo_or_a_missing_file_is_refused_without_blocking() {
        let (d, p) = tree();
        let fifo = d.path().join("fifo.jsonl");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let msg = reconcile_from(&p, &fifo).unwrap_err().to_string();
        assert!(msg.contains("a FIFO"), "{msg}");
        let msg = reconcile_from(&p, &d.path().join("nope.jsonl"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("nope.jsonl: cannot read"), "{msg}");
    }

    #[test]
    fn an_id_committed_with_other_content_is_an_alarm_and_the_rest_is_appended() {
        let (d, p) = tree();
        let ledger = Ledger::open(&p).unwrap();
        let (file, evs) = fallback(&ledger, d.path(), "r1", 2);
        let mut other = evs[2].clone();
        other.outcome = "fail".into();
        ledger.append_stamped(&[other]).unwrap();
        let r = reconcile_from(&p, &file).unwrap();
        assert!(r.needs_attention());
        let from = r.from.clone().unwrap();
        assert_eq!((from.appended, from.alarms.len()), (2, 1), "{r}");
        assert_eq!(from.alarms[0].0, 3);
        assert!(r.to_string().contains(":3: event id"), "{r}");
        let last = ledger.tail(1).unwrap().remove(0);
        assert_eq!(
            (last.kind.as_str(), last.outcome.as_str()),
            ("alarm", "fallback_id_collision")
        );
        assert!(verify(&p).unwrap().intact);
    }
}
