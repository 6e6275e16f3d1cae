//! The run's voice in the coord ledger: a subscriber that turns each event worth keeping — run start,
//! gate decisions, janitor removals, seeding steps and ops, every verdict, teardown, run end — into one
//! ledger event (guarantee 9). Events arrive masked by the bus. A failed append is counted and kept,
//! never ignored: the run then ends with an incomplete-record error.

use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::coord::{Ledger, NewEvent};

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

/// The appends that failed, shared with whoever decides the exit code.
#[derive(Debug, Clone, Default)]
pub struct LedgerFailures(Arc<Mutex<Vec<String>>>);

impl LedgerFailures {
    /// One message per event that could not be recorded.
    pub fn messages(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl LedgerRecorder {
    pub fn new(ledger: Arc<Ledger>) -> Self {
        Self {
            ledger,
            run: Aggregator::default(),
            failures: LedgerFailures::default(),
        }
    }

    /// A handle on the failed appends.
    pub fn failures(&self) -> LedgerFailures {
        self.failures.clone()
    }
}

impl Subscriber for LedgerRecorder {
    fn event(&mut self, ev: &RunEvent) {
        self.run.event(ev);
        for new in records_of(ev, &self.run) {
            let (kind, subject) = (new.kind.clone(), new.subject.clone());
            if let Err(e) = self.ledger.append(new) {
                self.failures
                    .0
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!("ledger: could not record {kind} {subject}: {e}"));
            }
        }
    }
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
