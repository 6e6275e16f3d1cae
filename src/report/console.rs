//! The terminal as a subscriber of the run's events: the header once the run is planned, a line per
//! tier and per op, seeding failures, the pause prompt, and the closing summary — the text of
//! [`terminal`](super::terminal), in the order things happen. Diagnostics (signals, warnings, why a
//! run could not start) go to the error stream. It decides nothing; a write error is ignored (the
//! ledger and results.json are the record).

use std::io::Write;

use crate::exit::ExitClass;

use super::aggregate::Aggregator;
use super::event::{EventKind, OpOutcome, RunEvent, SkipReason, Subscriber};
use super::terminal;

/// Writes what a person reads while a run goes.
pub struct TerminalReporter {
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    run: Aggregator,
    planned: bool,
}

impl TerminalReporter {
    /// `out` gets the run's story (stdout), `err` its diagnostics (stderr).
    pub fn new(out: Box<dyn Write + Send>, err: Box<dyn Write + Send>) -> Self {
        Self {
            out,
            err,
            run: Aggregator::default(),
            planned: false,
        }
    }

    fn show(&mut self, ev: &RunEvent) -> std::io::Result<()> {
        let out = &mut self.out;
        match &ev.kind {
            EventKind::Planned(_) => {
                self.planned = true;
                terminal::header(self.run.result(), out)?;
            }
            EventKind::TierStarted(t) => {
                let deselected = if t.deselected > 0 {
                    format!(", {} deselected", t.deselected)
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "\n── {} (op={}, generic={}, overlay={} file(s), {} test(s){deselected}) ──",
                    t.tier,
                    t.op,
                    t.generic,
                    t.overlay_files,
                    t.tests.len()
                )?;
            }
            EventKind::SeedFinished(s) => {
                if let Some(e) = &s.error {
                    writeln!(
                        out,
                        "seeding {} failed: {e} (its assertions fail; generic ones still run)",
                        s.file
                    )?;
                }
            }
            EventKind::StepOutput { source, text } => writeln!(out, "{source}:\n{text}")?,
            EventKind::OpFinished(o) => {
                let secs = o.duration_ms as f64 / 1000.0;
                match &o.outcome {
                    OpOutcome::Ok => writeln!(out, "{} op ok in {secs:.1}s", o.op)?,
                    OpOutcome::Failed { error } => {
                        writeln!(out, "{} op FAILED in {secs:.1}s: {error}", o.op)?
                    }
                    OpOutcome::Skipped { .. } => {}
                }
            }
            EventKind::TierSkipped(s) => match &s.why {
                SkipReason::NotRun { reason } => {
                    writeln!(out, "\n── {} not run: {reason} ──", s.tier)?
                }
                SkipReason::NotApplicable { reason, .. } => {
                    writeln!(out, "\n── {} not applicable: {reason} ──", s.tier)?
                }
            },
            EventKind::Paused { tier, waiting: true } => writeln!(
                out,
                "paused after {tier}: the app is live. Press Enter to continue (teardown follows as always)…"
            )?,
            EventKind::Paused {
                tier,
                waiting: false,
            } => writeln!(
                out,
                "--pause-after {tier}: standard input is not a terminal; not pausing"
            )?,
            EventKind::Interrupted { signal } => writeln!(
                self.err,
                "\ncc-ci: {signal} received: stopping the run and tearing down"
            )?,
            EventKind::SessionPanicked => {
                writeln!(self.err, "cc-ci: the session panicked; tearing down")?
            }
            EventKind::Warning { message } => writeln!(self.err, "cc-ci: {message}")?,
            EventKind::RunFinished(end) => match (&end.reason, end.class) {
                (Some(reason), _) => writeln!(self.err, "cc-ci run: {reason}")?,
                (None, ExitClass::NoTests) => writeln!(
                    out,
                    "no tests collected (after filters): nothing to verify, nothing deployed"
                )?,
                (None, _) if self.planned => terminal::summary(self.run.result(), out)?,
                (None, _) => {}
            },
            _ => {}
        }
        out.flush()
    }
}

impl Subscriber for TerminalReporter {
    fn event(&mut self, ev: &RunEvent) {
        self.run.event(ev);
        let _ = self.show(ev);
    }
}

/// `--list` (libtest's `id: test` lines) or `--collect-only` (pytest's ids and count).
pub fn list(ids: &[&str], pytest_style: bool, w: &mut dyn Write) -> std::io::Result<()> {
    for id in ids {
        if pytest_style {
            writeln!(w, "{id}")?;
        } else {
            writeln!(w, "{id}: test")?;
        }
    }
    if pytest_style {
        writeln!(w, "\n{} tests collected", ids.len())
    } else {
        writeln!(w, "\n{} tests, 0 benchmarks", ids.len())
    }
}
