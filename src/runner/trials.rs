//! A tier's assertions as trials, run the way libtest runs tests: on `--test-threads` threads (one
//! under `-x`), ignored ones only with `--ignored`/`--include-ignored`. The op has already run; each
//! trial evaluates its check against the post-op state and emits its verdict (`TrialStarted`,
//! `TrialFinished`); under `-x` / `--maxfail=N` the Nth failure stops the rest (reported as not run,
//! never as passed). What a person sees of it is the terminal subscriber's business.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::report::event::{TrialFinish, TrialsFinish, TrialsStart};
use crate::report::{EventBus, EventKind, Outcome, TestResult, TestSource};

use super::check::{self, Failure};
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
    /// `-x` / `--maxfail`: counts failures across the run.
    pub stop: &'a StopRule,
    /// Why every repo-local trial fails without running: the trust gate refused at their first use.
    pub repo_local_refused: Option<&'a str>,
    /// Debug builds only: the id of a check made to panic (see `debug_fault_injection`).
    pub panic_in: Option<&'a str>,
}

/// `-x` / `--maxfail=N`: the failed assertions of the whole run, counted; after N of them the rest are
/// not run (reported as such, never as passed). Ops still never run twice, and teardown always follows.
#[derive(Debug, Default)]
pub struct StopRule {
    maxfail: Option<usize>,
    failures: AtomicUsize,
}

impl StopRule {
    /// `None`: never stop.
    pub fn new(maxfail: Option<usize>) -> Self {
        Self {
            maxfail,
            failures: AtomicUsize::new(0),
        }
    }

    /// Counts one failed assertion.
    pub fn failed(&self) {
        self.failures.fetch_add(1, Ordering::SeqCst);
    }

    /// True once the run has had its N failures.
    pub fn stopped(&self) -> bool {
        self.maxfail
            .is_some_and(|n| self.failures.load(Ordering::SeqCst) >= n)
    }

    /// Why the rest does not run, in the flag's words.
    pub fn reason(&self) -> String {
        match self.maxfail {
            Some(1) => "stopped after the first failure (-x)".to_string(),
            Some(n) => format!("stopped after {n} failures (--maxfail={n})"),
            None => "not stopped".to_string(),
        }
    }
}

/// How many trials run at once: 1 under `-x` or `--maxfail` (failures are counted in order), else
/// `--test-threads`, else the machine's parallelism.
pub fn threads(sel: &Selection) -> usize {
    if sel.maxfail.is_some() {
        return 1;
    }
    sel.libtest
        .test_threads
        .or_else(|| std::thread::available_parallelism().ok().map(Into::into))
        .unwrap_or(1)
        .max(1)
}

/// Runs the tier's trials, each emitting its verdict; returns whether any failed.
pub fn run_tier(
    tier: &TierPlan,
    live: &Arc<Live>,
    sel: &Selection,
    inputs: &TierInputs,
    bus: &Arc<EventBus>,
) -> bool {
    let threads = threads(sel);
    let start = Instant::now();
    bus.emit(EventKind::TrialsStarted(TrialsStart {
        tier: tier.tier,
        count: tier.tests.len(),
        threads,
        filtered_out: tier.deselected,
    }));
    let failed = AtomicBool::new(false);
    let queue = Mutex::new(tier.tests.iter());
    let next = || queue.lock().unwrap_or_else(|e| e.into_inner()).next();
    let run_ignored = sel.libtest.ignored || sel.libtest.include_ignored;
    std::thread::scope(|scope| {
        for _ in 0..threads.min(tier.tests.len()) {
            scope.spawn(|| {
                while let Some(t) = next() {
                    bus.emit(EventKind::TrialStarted {
                        tier: t.tier,
                        id: t.id.clone(),
                    });
                    let (outcome, ms) = match &t.ignored {
                        Some(reason) if !run_ignored => (
                            Outcome::Ignored {
                                reason: reason.clone(),
                            },
                            0,
                        ),
                        _ => evaluate(t, live, inputs),
                    };
                    if matches!(outcome, Outcome::Failed { .. }) {
                        failed.store(true, Ordering::SeqCst);
                    }
                    bus.emit(EventKind::TrialFinished(TrialFinish {
                        tier: t.tier,
                        test: result_of(t, outcome, ms),
                    }));
                }
            });
        }
    });
    bus.emit(EventKind::TrialsFinished(TrialsFinish {
        tier: tier.tier,
        duration_ms: start.elapsed().as_millis() as u64,
    }));
    failed.load(Ordering::SeqCst)
}

/// Evaluates one trial: its op's or seed's failure, its check, or its pytest node's outcome.
fn evaluate(t: &PlannedTest, live: &Arc<Live>, inputs: &TierInputs) -> (Outcome, u64) {
    let start = Instant::now();
    if inputs.stop.stopped() {
        let reason = format!("not run: {}", inputs.stop.reason());
        return (Outcome::NotRun { reason }, 0);
    }
    let refused = inputs
        .repo_local_refused
        .filter(|_| t.source == Source::RepoLocal)
        .map(|why| format!("trust gate: {why}"));
    let pre_failure = inputs
        .op_failure
        .map(str::to_string)
        .or(refused)
        .or_else(|| {
            t.seed
                .and_then(|i| inputs.seed_failures.get(i).cloned().flatten())
        });
    let verdict: Result<(), Failure> = if let Some(f) = pre_failure {
        check::fail(f)
    } else {
        match &t.body {
            TestBody::Check(c) => {
                let id = t.id.clone();
                // A panic inside a check is a failed trial, and the session goes on.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    debug_fault_injection(&id, inputs.panic_in);
                    check::evaluate(live, c)
                }))
                .unwrap_or_else(|p| check::fail(format!("check panicked: {}", panic_text(&p))))
            }
            TestBody::Pytest { .. } => match inputs.pytest.get(&t.id) {
                Some(NodeOutcome::Passed) => Ok(()),
                Some(NodeOutcome::Failed(m)) => check::fail(m.clone()),
                None => check::fail("pytest produced no result for this node"),
            },
        }
    };
    let ms = start.elapsed().as_millis() as u64;
    match verdict {
        Ok(()) => (Outcome::Passed, ms),
        Err(Failure(msg)) => {
            inputs.stop.failed();
            let message = live.app.redactor.redact(&msg);
            (Outcome::Failed { message }, ms)
        }
    }
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

/// Debug builds only: the configuration's `debug_panic_in_check` (`CCCI_DEBUG_PANIC_IN_CHECK=<test
/// id>`, read by the CLI) makes that check panic, so the tests can prove a panicking check fails its
/// trial and the run still tears down. Release builds never set it.
fn debug_fault_injection(id: &str, panic_in: Option<&str>) {
    if cfg!(debug_assertions) && panic_in == Some(id) {
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
