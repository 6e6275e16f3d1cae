//! The run's voice in the coord ledger: a subscriber that turns each event worth keeping — run start,
//! gate decisions, janitor removals, seeding steps and ops, every verdict, teardown, run end — into one
//! ledger event (guarantee 9). Events arrive masked by the bus. Each is stamped once (its id and time
//! never change); one the ledger cannot take (database and spool both failing, e.g. the coord disk is
//! full) is held in memory, in order, and retried before every later event and at the run's end.
//! What is still unrecorded then is written, authenticated, as one JSONL file (the run's artifacts dir,
//! else the temp dir) that `cc-ci coord reconcile --from FILE` appends later. Nothing is dropped
//! silently: the exact count and where it went are in [`LedgerFailures`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::json;

use crate::coord::{Ledger, NewEvent, Stamped};

use super::aggregate::Aggregator;
use super::event::{
    outcome_word, EventKind, Gate, GateDecision, OpFinish, OpOutcome, RunEnd, RunEvent, SkipReason,
    Subscriber, TeardownFinish, TierSkip,
};
use super::model::RunResult;

/// Appends the run's events to the ledger.
pub struct LedgerRecorder {
    ledger: Arc<Ledger>,
    run: Aggregator,
    failures: LedgerFailures,
}

/// The events the ledger could not take, shared with whoever decides the exit code and reports it.
#[derive(Debug, Clone, Default)]
pub struct LedgerFailures(Arc<Mutex<Held>>);

#[derive(Debug, Default)]
struct Held {
    /// Stamped, not yet recorded, in order.
    pending: Vec<Stamped>,
    /// Why appends failed, each reason once.
    reasons: Vec<String>,
    /// Where a fallback file goes first (the run's artifacts dir, once known).
    fallback_dir: Option<PathBuf>,
    /// Set at the run's end when something was still unrecorded.
    closed: Option<Unrecorded>,
}

/// What the run could not record in the ledger by its end.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unrecorded {
    /// Exactly the events not in the ledger (and, when `file` is `Ok`, exactly the lines of the file).
    pub count: usize,
    /// The fallback file holding them, or why none could be written.
    pub file: Result<PathBuf, String>,
    /// Why the ledger could not take them.
    pub reasons: Vec<String>,
}

impl LedgerFailures {
    fn lock(&self) -> MutexGuard<'_, Held> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many events are held, not yet recorded.
    pub fn pending(&self) -> usize {
        self.lock().pending.len()
    }

    /// Why appends failed so far, each reason once.
    pub fn reasons(&self) -> Vec<String> {
        self.lock().reasons.clone()
    }

    /// Where a fallback file should go first (else the temp dir).
    pub fn set_fallback_dir(&self, dir: PathBuf) {
        self.lock().fallback_dir = Some(dir);
    }

    /// What was left unrecorded at the run's end (`None` when everything was recorded).
    pub fn closed(&self) -> Option<Unrecorded> {
        self.lock().closed.clone()
    }
}

impl LedgerRecorder {
    pub fn new(ledger: Arc<Ledger>) -> Self {
        Self::with_failures(ledger, LedgerFailures::default())
    }

    /// A recorder reporting into `failures` (a handle made before the ledger was opened).
    pub fn with_failures(ledger: Arc<Ledger>, failures: LedgerFailures) -> Self {
        Self {
            ledger,
            run: Aggregator::default(),
            failures,
        }
    }

    /// A handle on the events the ledger could not take.
    pub fn failures(&self) -> LedgerFailures {
        self.failures.clone()
    }

    /// Appends every held event, oldest first, in one go; on failure they stay held.
    fn flush(&self, held: &mut Held) {
        if held.pending.is_empty() {
            return;
        }
        match self.ledger.append_stamped(&held.pending) {
            Ok(_) => held.pending.clear(),
            Err(e) => {
                // Held, not lost (yet): say why without the error's "event lost" framing.
                let why = match &e {
                    crate::coord::CoordError::EventLost { db, spool } => {
                        format!("the database failed ({db}) and the spool failed ({spool})")
                    }
                    e => e.to_string(),
                };
                if !held.reasons.contains(&why) {
                    held.reasons.push(why);
                }
            }
        }
    }

    /// At the run's end: one more try, then the fallback file for what is left.
    fn close(&self, held: &mut Held, run_id: &str) {
        self.flush(held);
        if held.pending.is_empty() {
            return;
        }
        let lines: Vec<String> = held
            .pending
            .iter()
            .map(|ev| self.ledger.fallback_line(ev))
            .collect();
        let mut dirs: Vec<PathBuf> = held.fallback_dir.iter().cloned().collect();
        dirs.push(std::env::temp_dir());
        let mut errors = Vec::new();
        let mut file = None;
        for dir in dirs {
            match write_fallback(&dir, run_id, &lines) {
                Ok(p) => {
                    file = Some(p);
                    break;
                }
                Err(e) => errors.push(format!("{}: {e}", dir.display())),
            }
        }
        held.closed = Some(Unrecorded {
            count: held.pending.len(),
            file: file.ok_or_else(|| errors.join("; ")),
            reasons: held.reasons.clone(),
        });
        // Kept in the file (or reported lost): later events of this process are not retried with them.
        held.pending.clear();
    }
}

impl Subscriber for LedgerRecorder {
    fn event(&mut self, ev: &RunEvent) {
        self.run.event(ev);
        let news = records_of(ev, &self.run);
        let failures = self.failures.clone();
        let mut held = failures.lock();
        if held.closed.is_some() {
            return;
        }
        held.pending
            .extend(news.into_iter().map(|n| self.ledger.stamp(n)));
        self.flush(&mut held);
        if let EventKind::RunFinished(_) = &ev.kind {
            let run_id = self.run.result().run_id.clone();
            self.close(&mut held, &run_id);
        }
    }
}

/// Writes `lines` as `<dir>/ledger-unrecorded-<run id>.jsonl` (a new file, never an existing one: a
/// numbered name when taken), synced, mode 0600. Returns its path.
fn write_fallback(dir: &Path, run_id: &str, lines: &[String]) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    let safe: String = run_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut text = lines.join("\n");
    text.push('\n');
    let mut last = None;
    for n in 0..10 {
        let name = match n {
            0 => format!("ledger-unrecorded-{safe}.jsonl"),
            n => format!("ledger-unrecorded-{safe}-{n}.jsonl"),
        };
        let path = dir.join(name);
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path);
        match opened {
            Ok(mut f) => {
                let written = f.write_all(text.as_bytes()).and_then(|_| f.sync_all());
                return match written {
                    Ok(()) => Ok(path),
                    Err(e) => {
                        // A partial file is no record: remove it so nothing reads half of it.
                        let _ = std::fs::remove_file(&path);
                        Err(e)
                    }
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free file name")))
}

/// The ledger events for `ev` (none for events the ledger does not keep). `run` is the run so far,
/// `ev` included.
pub fn records_of(ev: &RunEvent, run: &Aggregator) -> Vec<NewEvent> {
    let r = run.result();
    let news =
        match &ev.kind {
            EventKind::RunStarted(s) => vec![NewEvent::new("run_start", &s.source, "started")
                .data(json!({
                    "ref": s.git_ref, "pr": s.pr, "deployer": s.deployer,
                    "stages": s.stages.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                }))],
            EventKind::GateDecided(g) => vec![gate(g)],
            EventKind::Planned(h) => h.upgrade_base.iter().map(|b| base(b, &h.recipe)).collect(),
            EventKind::JanitorRemoved(j) => {
                vec![
                    NewEvent::new("janitor", format!("{} {}", j.kind, j.name), "removed")
                        .data(json!({ "stack": j.stack, "run_id": j.run_id, "reason": j.reason })),
                ]
            }
            EventKind::DeployerNote(n) => {
                vec![NewEvent::new(&n.kind, &n.subject, &n.outcome).data(n.data.clone())]
            }
            EventKind::SeedFinished(s) => vec![NewEvent::new(
                "op",
                format!("{}::seed::{}", s.tier, s.file),
                if s.error.is_none() { "ok" } else { "failed" },
            )
            .data(json!({ "error": s.error }))],
            EventKind::OpFinished(o) => op(o),
            EventKind::TrialFinished(t) => vec![verdict(&t.test, t.tier)],
            EventKind::TierSkipped(s) => skipped(s),
            EventKind::Interrupted { signal } => {
                vec![NewEvent::new("run_end", &r.recipe, "interrupting")
                    .data(json!({ "signal": signal }))]
            }
            EventKind::TeardownFinished(t) => vec![teardown(t)],
            EventKind::RunFinished(end) => vec![run_end(end, r)],
            _ => Vec::new(),
        };
    news.into_iter().map(|n| n.run(&r.run_id)).collect()
}

/// The upgrade base chosen at plan time, and why.
fn base(b: &super::UpgradeBase, recipe: &str) -> NewEvent {
    NewEvent::new("upgrade_base", recipe, b.from.word()).data(json!({
        "commit": b.commit, "tag": b.tag, "run_id": b.run_id, "reason": b.reason,
    }))
}

fn gate(g: &GateDecision) -> NewEvent {
    let mut data = json!({ "reason": g.reason });
    if let Some(grant) = &g.grant {
        data["grant"] = json!(grant);
    }
    if g.gate == Gate::RepoLocal {
        data["files"] = json!(g.files);
        data["pr"] = json!(g.pr);
    }
    // A "would allow" spends nothing; the spend at first use is a second decision.
    let outcome = match g.word() {
        "would allow" => "would_allow",
        "none" => "none",
        "allow" => "allow",
        _ => "deny",
    };
    let subject = format!("{}:{}", g.gate.as_str(), g.recipe);
    NewEvent::new("gate_decision", subject, outcome).data(data)
}

/// The op; an unsupported op is also the tier's verdict (unsupported, as a tier that cannot run).
fn op(o: &OpFinish) -> Vec<NewEvent> {
    let error = match &o.outcome {
        OpOutcome::Skipped { reason } => {
            return vec![NewEvent::new("op", format!("{}::op", o.tier), "skipped")
                .data(json!({ "reason": reason }))];
        }
        OpOutcome::Unsupported { reason } => {
            let subject = format!("{}::{}", o.tier, o.op);
            return vec![
                NewEvent::new("op", subject, "unsupported").data(json!({
                    "duration_ms": o.duration_ms, "reason": reason, "deployer": o.deployer,
                })),
                NewEvent::new("verdict", format!("{}::tier", o.tier), "not_applicable")
                    .data(json!({ "reason": reason, "declared": false })),
            ];
        }
        OpOutcome::Failed { error } => Some(error),
        OpOutcome::Ok => None,
    };
    let outcome = if error.is_none() { "ok" } else { "failed" };
    vec![
        NewEvent::new("op", format!("{}::{}", o.tier, o.op), outcome)
            .data(json!({ "duration_ms": o.duration_ms, "error": error, "deployer": o.deployer })),
    ]
}

/// A tier that does not apply is one verdict; a tier not run, one verdict per test.
fn skipped(s: &TierSkip) -> Vec<NewEvent> {
    match &s.why {
        SkipReason::NotApplicable { reason, declared } => {
            vec![
                NewEvent::new("verdict", format!("{}::tier", s.tier), "not_applicable")
                    .data(json!({ "reason": reason, "declared": declared })),
            ]
        }
        SkipReason::NotRun { .. } => s.tests.iter().map(|t| verdict(t, s.tier)).collect(),
    }
}

fn teardown(t: &TeardownFinish) -> NewEvent {
    let mut data = json!({
        "leftovers": t.result.leftovers, "error": t.result.error,
        "duration_ms": t.result.duration_ms,
    });
    if let Some(sig) = &t.signal {
        data["signal"] = json!(sig);
    }
    let outcome = if t.result.clean { "clean" } else { "leftovers" };
    NewEvent::new("teardown", &t.stack, outcome).data(data)
}

fn run_end(end: &RunEnd, r: &RunResult) -> NewEvent {
    let mut data = match &end.reason {
        Some(reason) => json!({ "exit_code": end.exit_code, "reason": reason }),
        None if r.tiers.is_empty() => json!({ "exit_code": end.exit_code }),
        None => json!({
            "exit_code": end.exit_code, "results": end.artifacts.results,
            "deploy_count": r.deploy_count, "teardown_clean": r.teardown.clean,
            "head_ref": r.head_ref, "chaos_version": r.chaos_version,
            // A green run's head is an upgrade base for later runs (coord::green_runs).
            "green": r.green(),
            "tiers": r.tiers.iter().map(|t| (t.tier.clone(), json!(t.status_word()))).collect::<serde_json::Map<_, _>>(),
            "upgrade_base": r.upgrade_base.as_ref().and_then(|b| b.commit.clone()),
        }),
    };
    if let Some(why) = &end.infrastructure {
        data["infrastructure"] = json!(why);
    }
    if let Some(c) = &end.ledger_checkpoint {
        // The head just before this event: the run_end event vouches for the run's record.
        data["checkpoint"] = json!(c);
    }
    NewEvent::new("run_end", &r.recipe, end.class.word()).data(data)
}

fn verdict(t: &super::model::TestResult, tier: crate::spec::Tier) -> NewEvent {
    let message = t.outcome.detail();
    NewEvent::new("verdict", &t.id, outcome_word(&t.outcome)).data(json!({
        "tier": tier.to_string(), "duration_ms": t.duration_ms, "message": message,
    }))
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
