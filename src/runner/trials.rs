//! A tier's assertions as libtest-mimic trials. The op has already run; each trial evaluates its
//! check against the post-op state and emits its verdict, and, under `-x`, the first failure stops the
//! rest (they are reported as not run, never as passed).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use libtest_mimic::{Completion, Failed, Trial};

use crate::report::event::TrialFinish;
use crate::report::{EventBus, EventKind, Outcome, TestResult, TestSource};

use super::check;
use super::config::Selection;
use super::context::Live;
use super::plan::{PlannedTest, Source, TestBody, TierPlan};
use super::pytest::{NodeOutcome, PytestOutcomes};

/// What a tier's trials start from.
pub struct TierInputs<'a> {
    /// Why every trial fails without being evaluated: the tier's op failed.
    pub op_failure: Option<&'a str>,
    /// Each seed's failure, by seed index.
    pub seed_failures: &'a [Option<String>],
    pub pytest: &'a PytestOutcomes,
    /// Set by the first failure under `-x`.
    pub stop: &'a Arc<AtomicBool>,
}

/// Runs the tier's trials, each emitting its verdict; returns whether any failed.
pub fn run_tier(
    tier: &TierPlan,
    live: &Arc<Live>,
    sel: &Selection,
    inputs: &TierInputs,
    bus: &Arc<EventBus>,
) -> bool {
    let failed = Arc::new(AtomicBool::new(false));
    let done: Arc<Mutex<BTreeMap<String, ()>>> = Arc::default();
    let mut trials = Vec::new();
    for t in &tier.tests {
        let pre_failure = inputs.op_failure.map(str::to_string).or_else(|| {
            t.seed
                .and_then(|i| inputs.seed_failures.get(i).cloned().flatten())
        });
        let ctx = TrialCtx {
            test: t.clone(),
            live: Arc::clone(live),
            pre_failure,
            pytest_outcome: inputs.pytest.get(&t.id).cloned(),
            stop: Arc::clone(inputs.stop),
            exitfirst: sel.exitfirst,
            failed: Arc::clone(&failed),
            done: Arc::clone(&done),
            bus: Arc::clone(bus),
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
    let done = done.lock().unwrap_or_else(|e| e.into_inner());
    for t in tier.tests.iter().filter(|t| !done.contains_key(&t.id)) {
        // Not run by libtest: marked ignored and not asked for with --ignored. Still a verdict.
        let reason = t.ignored.clone().unwrap_or_else(|| "ignored".to_string());
        bus.emit(EventKind::TrialFinished(TrialFinish {
            tier: t.tier,
            test: result_of(t, Outcome::Ignored { reason }, 0),
        }));
    }
    failed.load(Ordering::SeqCst)
}

/// The result of planned test `t`.
pub fn result_of(t: &PlannedTest, outcome: Outcome, duration_ms: u64) -> TestResult {
    TestResult {
        id: t.id.clone(),
        name: t.name.clone(),
        file: t.file.clone(),
        source: source_of(t.source),
        outcome,
        duration_ms,
    }
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
    pytest_outcome: Option<NodeOutcome>,
    stop: Arc<AtomicBool>,
    exitfirst: bool,
    failed: Arc<AtomicBool>,
    done: Arc<Mutex<BTreeMap<String, ()>>>,
    bus: Arc<EventBus>,
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
        let verdict: Result<(), check::Failure> = if let Some(f) = &self.pre_failure {
            check::fail(f.clone())
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
                    .unwrap_or_else(|p| check::fail(format!("check panicked: {}", panic_text(&p))))
                }
                TestBody::Pytest { .. } => match &self.pytest_outcome {
                    Some(NodeOutcome::Passed) => Ok(()),
                    Some(NodeOutcome::Failed(m)) => check::fail(m.clone()),
                    None => check::fail("pytest produced no result for this node"),
                },
            }
        };
        let ms = start.elapsed().as_millis() as u64;
        match verdict {
            Ok(()) => {
                self.finish(Outcome::Passed, ms);
                Ok(Completion::Completed)
            }
            Err(check::Failure(msg)) => {
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
        if matches!(outcome, Outcome::Failed { .. }) {
            self.failed.store(true, Ordering::SeqCst);
        }
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.test.id.clone(), ());
        self.bus.emit(EventKind::TrialFinished(TrialFinish {
            tier: self.test.tier,
            test: result_of(&self.test, outcome, ms),
        }));
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
