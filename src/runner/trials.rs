//! A tier's assertions as libtest-mimic trials. The op has already run; each trial evaluates its
//! check against the post-op state, records its verdict (results and ledger), and, under `-x`, the
//! first failure stops the rest (they are reported as not run, never as passed).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use libtest_mimic::{Completion, Failed, Trial};

use crate::report::{Outcome, TestResult, TestSource};

use super::check;
use super::config::Selection;
use super::context::Live;
use super::ledger::Recorder;
use super::plan::{PlannedTest, Source, TestBody, TierPlan};

/// Why every trial of a tier fails without being evaluated (its op failed).
pub type OpFailure = Option<String>;

/// Outcome of a pytest node, computed once per tier before the trials run.
pub type PytestOutcomes = BTreeMap<String, Result<(), String>>;

/// Runs the tier's trials; returns their results in plan order.
#[allow(clippy::too_many_arguments)]
pub fn run_tier(
    tier: &TierPlan,
    live: &Arc<Live>,
    sel: &Selection,
    op_failure: OpFailure,
    seed_failures: &[Option<String>],
    pytest: &PytestOutcomes,
    stop: &Arc<AtomicBool>,
    recorder: &Arc<Recorder>,
) -> Vec<TestResult> {
    let results: Arc<Mutex<BTreeMap<String, TestResult>>> = Arc::default();
    let mut trials = Vec::new();
    for t in &tier.tests {
        let pre_failure = op_failure
            .clone()
            .or_else(|| t.seed.and_then(|i| seed_failures.get(i).cloned().flatten()));
        let pytest_outcome = pytest.get(&t.id).cloned();
        let ctx = TrialCtx {
            test: t.clone(),
            live: Arc::clone(live),
            pre_failure,
            pytest_outcome,
            stop: Arc::clone(stop),
            exitfirst: sel.exitfirst,
            results: Arc::clone(&results),
            recorder: Arc::clone(recorder),
        };
        trials.push(
            Trial::ignorable_test(t.id.clone(), move || ctx.run())
                .with_ignored_flag(t.ignored.is_some()),
        );
    }
    let mut args = sel.libtest.clone();
    // Selection was applied by the plan; libtest must not filter again.
    args.filter = None;
    args.skip.clear();
    args.exact = false;
    args.list = false;
    if sel.exitfirst {
        args.test_threads = Some(1);
    }
    let _conclusion = libtest_mimic::run(&args, trials);
    let mut map = results.lock().unwrap_or_else(|e| e.into_inner());
    tier.tests
        .iter()
        .map(|t| {
            map.remove(&t.id).unwrap_or_else(|| {
                // Not run by libtest: marked ignored and not asked for with --ignored. Still a verdict.
                let reason = t.ignored.clone().unwrap_or_else(|| "ignored".to_string());
                recorder.event(
                    "verdict",
                    &t.id,
                    "ignored",
                    serde_json::json!({ "tier": t.tier.to_string(), "duration_ms": 0, "message": reason }),
                );
                TestResult {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    file: t.file.clone(),
                    source: source_of(t.source),
                    outcome: Outcome::Ignored { reason },
                    duration_ms: 0,
                }
            })
        })
        .collect()
}

pub fn source_of(s: Source) -> TestSource {
    match s {
        Source::Generic => TestSource::Generic,
        Source::Overlay => TestSource::Overlay,
        Source::RepoLocal => TestSource::RepoLocal,
        Source::Pytest => TestSource::Pytest,
    }
}

struct TrialCtx {
    test: PlannedTest,
    live: Arc<Live>,
    pre_failure: Option<String>,
    pytest_outcome: Option<Result<(), String>>,
    stop: Arc<AtomicBool>,
    exitfirst: bool,
    results: Arc<Mutex<BTreeMap<String, TestResult>>>,
    recorder: Arc<Recorder>,
}

impl TrialCtx {
    fn run(self) -> Result<Completion, Failed> {
        let start = Instant::now();
        if self.exitfirst && self.stop.load(Ordering::SeqCst) {
            let reason = "not run: stopped after the first failure (-x)".to_string();
            self.finish(
                Outcome::NotRun {
                    reason: reason.clone(),
                },
                0,
            );
            return Ok(Completion::ignored_with(reason));
        }
        let verdict = if let Some(f) = &self.pre_failure {
            Err(f.clone())
        } else {
            match &self.test.body {
                TestBody::Check(c) => {
                    let live = Arc::clone(&self.live);
                    let c = c.clone();
                    let id = self.test.id.clone();
                    // A panic inside a check is a failed trial, and the session goes on.
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                        debug_fault_injection(&id);
                        check::evaluate(&live, &c)
                    }))
                    .unwrap_or_else(|p| Err(format!("check panicked: {}", panic_text(&p))))
                }
                TestBody::Pytest { .. } => self
                    .pytest_outcome
                    .clone()
                    .unwrap_or_else(|| Err("pytest produced no result for this node".into())),
            }
        };
        let ms = start.elapsed().as_millis() as u64;
        match verdict {
            Ok(()) => {
                self.finish(Outcome::Passed, ms);
                Ok(Completion::Completed)
            }
            Err(msg) => {
                let msg = self.live.app.redactor.redact(&msg);
                if self.exitfirst {
                    self.stop.store(true, Ordering::SeqCst);
                }
                self.finish(
                    Outcome::Failed {
                        message: msg.clone(),
                    },
                    ms,
                );
                Err(Failed::from(msg))
            }
        }
    }

    fn finish(&self, outcome: Outcome, ms: u64) {
        let (word, message) = match &outcome {
            Outcome::Passed => ("passed", None),
            Outcome::Failed { message } => ("failed", Some(message.clone())),
            Outcome::Ignored { reason } => ("ignored", Some(reason.clone())),
            Outcome::NotRun { reason } => ("not_run", Some(reason.clone())),
        };
        self.recorder.event(
            "verdict",
            &self.test.id,
            word,
            serde_json::json!({ "tier": self.test.tier.to_string(), "duration_ms": ms, "message": message }),
        );
        let r = TestResult {
            id: self.test.id.clone(),
            name: self.test.name.clone(),
            file: self.test.file.clone(),
            source: source_of(self.test.source),
            outcome,
            duration_ms: ms,
        };
        self.results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.test.id.clone(), r);
    }
}

/// Debug builds only: `CCCI_DEBUG_PANIC_IN_CHECK=<test id>` makes that check panic, so the tests can
/// prove a panicking check fails its trial and the run still tears down. Release builds ignore it.
fn debug_fault_injection(id: &str) {
    if cfg!(debug_assertions) && std::env::var("CCCI_DEBUG_PANIC_IN_CHECK").is_ok_and(|v| v == id) {
        panic!("fault injected by CCCI_DEBUG_PANIC_IN_CHECK for {id}");
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}
