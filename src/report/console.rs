//! The terminal as a subscriber of the run's events: the header once the run is planned, a line per
//! tier and per op, seeding failures, the pause prompt, and the closing summary — the text of
//! [`terminal`](super::terminal), in the order things happen. Diagnostics (signals, warnings, why a
//! run could not start) go to the error stream. It decides nothing; a write error is ignored (the
//! ledger and results.json are the record).

use std::io::Write;

use crate::exit::ExitClass;

use super::aggregate::Aggregator;
use super::event::{
    EventKind, OpFinish, OpOutcome, Pause, RunEvent, SkipReason, Subscriber, TierStart,
};
use super::libtest::{TrialBlock, TrialStyle};
use super::terminal;

/// Writes what a person reads while a run goes.
pub struct TerminalReporter {
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    /// Where trial blocks go (`--logfile`), when not to `out`.
    trials_out: Option<Box<dyn Write + Send>>,
    style: TrialStyle,
    run: Aggregator,
    planned: bool,
    /// A tier has started: a lint verdict after this is the abra lint, shown in the summary only.
    tiers_begun: bool,
    /// Longest test id of the current tier.
    width: usize,
    block: Option<TrialBlock>,
    /// Files the artifact writer could not write: never named in the summary.
    unwritten: super::artifacts::Unwritten,
}

impl TerminalReporter {
    /// `out` gets the run's story (stdout), `err` its diagnostics (stderr). Trials look like libtest's
    /// pretty format without colour.
    pub fn new(out: Box<dyn Write + Send>, err: Box<dyn Write + Send>) -> Self {
        Self {
            out,
            err,
            trials_out: None,
            style: TrialStyle::default(),
            run: Aggregator::default(),
            planned: false,
            tiers_begun: false,
            width: 0,
            block: None,
            unwritten: Default::default(),
        }
    }

    /// Leaves out of the summary the files `unwritten` names (shared with the artifact writer).
    pub fn with_unwritten(mut self, unwritten: super::artifacts::Unwritten) -> Self {
        self.unwritten = unwritten;
        self
    }

    /// Trial blocks in `style`, written to `logfile` instead of `out` when given (libtest's
    /// `--format`, `--color`, `-q`, `--logfile`).
    pub fn with_trials(
        mut self,
        style: TrialStyle,
        logfile: Option<Box<dyn Write + Send>>,
    ) -> Self {
        self.style = style;
        self.trials_out = logfile;
        self
    }

    /// The trial block's part of an event.
    fn show_trials(&mut self, ev: &RunEvent) -> std::io::Result<()> {
        let w: &mut dyn Write = match &mut self.trials_out {
            Some(f) => f,
            None => &mut self.out,
        };
        match (&ev.kind, &mut self.block) {
            (EventKind::TrialsStarted(s), _) => {
                self.block = Some(TrialBlock::start(self.style, s, self.width, w)?);
            }
            (EventKind::TrialStarted { id, .. }, Some(b)) => b.test_started(id, w)?,
            (EventKind::TrialFinished(f), Some(b)) => b.test_finished(f, w)?,
            (EventKind::TrialsFinished(f), Some(b)) => {
                b.finish(f, w)?;
                self.block = None;
            }
            _ => {}
        }
        w.flush()
    }

    fn show(&mut self, ev: &RunEvent) -> std::io::Result<()> {
        if let EventKind::TierStarted(t) = &ev.kind {
            self.width = t
                .tests
                .iter()
                .map(|id| id.chars().count())
                .max()
                .unwrap_or(0);
        }
        self.show_trials(ev)?;
        let out = &mut self.out;
        match &ev.kind {
            EventKind::Planned(_) => {
                self.planned = true;
                terminal::header(self.run.result(), out)?;
            }
            // A decision after the header: a grant use spent (or refused) at the first repo-local file.
            EventKind::GateDecided(g) if self.planned => writeln!(
                out,
                "trust gate: {}  {} — {}",
                g.word(),
                g.gate.as_str(),
                g.reason
            )?,
            // The built-in lint runs at plan time: its verdict shows before the engine is touched.
            EventKind::Linted(l) if !self.tiers_begun => terminal::lint_lines(l, out)?,
            EventKind::TierStarted(t) => {
                self.tiers_begun = true;
                tier_banner(t, out)?
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
            EventKind::DeployerNote(n) => {
                if let Some(line) = &n.notice {
                    writeln!(out, "{line}")?;
                }
            }
            EventKind::OpFinished(o) => op_line(o, out)?,
            EventKind::Screenshot(s) => writeln!(out, "{}", s.line())?,
            EventKind::TierSkipped(s) => match &s.why {
                SkipReason::NotRun { reason } => {
                    writeln!(out, "\n── {} not run: {reason} ──", s.tier)?
                }
                SkipReason::NotApplicable {
                    reason,
                    declared: true,
                } => writeln!(out, "\n── {} not applicable: {reason} ──", s.tier)?,
                SkipReason::NotApplicable { reason, .. } => {
                    writeln!(out, "\n── {} unsupported: {reason} ──", s.tier)?
                }
            },
            EventKind::Paused(p) => pause_lines(p, out)?,
            EventKind::Interrupted { signal } => writeln!(
                self.err,
                "\ncc-ci: {signal} received: stopping the run and tearing down"
            )?,
            EventKind::SessionPanicked => {
                writeln!(self.err, "cc-ci: the session panicked; tearing down")?
            }
            EventKind::Warning { message } => writeln!(self.err, "cc-ci: {message}")?,
            EventKind::RecordIncomplete(u) => writeln!(self.err, "cc-ci: {}", unrecorded_line(u))?,
            EventKind::RunFinished(end) => {
                let summary = match (&end.reason, end.class) {
                    (Some(reason), _) => {
                        writeln!(self.err, "cc-ci run: {reason}").map(|_| false)?
                    }
                    (None, ExitClass::NoTests) => writeln!(
                        out,
                        "no tests collected (after filters): nothing to verify, nothing deployed"
                    )
                    .map(|_| false)?,
                    (None, _) if self.planned => {
                        let mut r = self.run.result().clone();
                        let a = &mut r.artifacts;
                        for p in [&mut a.junit, &mut a.markdown, &mut a.results] {
                            if p.as_deref().is_some_and(|p| self.unwritten.contains(p)) {
                                *p = None;
                            }
                        }
                        terminal::summary(&r, out).map(|_| true)?
                    }
                    (None, _) => false,
                };
                // The summary carries the checkpoint; a run that ended without one still says it.
                if let (false, Some(c)) = (summary, &end.ledger_checkpoint) {
                    writeln!(out, "ledger checkpoint {c}")?;
                }
            }
            _ => {}
        }
        out.flush()
    }
}

/// `── install (op=deploy, generic=run, overlay=0 file(s), 3 test(s)) ──`
fn tier_banner(t: &TierStart, out: &mut dyn Write) -> std::io::Result<()> {
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
    )
}

/// `deploy op ok in 9.6s` (an op an overlay skipped says nothing).
fn op_line(o: &OpFinish, out: &mut dyn Write) -> std::io::Result<()> {
    let secs = o.duration_ms as f64 / 1000.0;
    match &o.outcome {
        OpOutcome::Ok => writeln!(out, "{} op ok in {secs:.1}s", o.op),
        OpOutcome::Failed { error } => writeln!(out, "{} op FAILED in {secs:.1}s: {error}", o.op),
        OpOutcome::Skipped { .. } => Ok(()),
        OpOutcome::Unsupported { reason } => {
            writeln!(out, "{} op unsupported here: {reason}", o.op)
        }
    }
}

/// The `--pause-after` prompt with how to look inside the app, or why there is no prompt.
fn pause_lines(p: &Pause, out: &mut dyn Write) -> std::io::Result<()> {
    let tier = p.tier;
    if !p.waiting {
        return writeln!(
            out,
            "--pause-after {tier}: standard input is not a terminal; not pausing"
        );
    }
    writeln!(
        out,
        "paused after {tier}: the app is live (run {}).",
        p.run_id
    )?;
    writeln!(
        out,
        "  run a command in it (one per call; repeat with other commands):"
    )?;
    writeln!(out, "    {}", p.exec_hint())?;
    if !p.services.is_empty() {
        writeln!(out, "  services: {}", p.services.join(", "))?;
    }
    writeln!(out, "Press Enter to continue (teardown follows as always)…")
}

impl Subscriber for TerminalReporter {
    fn event(&mut self, ev: &RunEvent) {
        self.run.event(ev);
        let _ = self.show(ev);
    }
}

/// `--list` (libtest's `id: test` lines and count) or `--collect-only` (pytest's ids and its closing
/// line, `N/M tests collected (K deselected) in T`). `deselected` counts the tests the filters left out;
/// `elapsed_s` is how long collecting took.
pub fn list(
    ids: &[&str],
    deselected: usize,
    pytest_style: bool,
    elapsed_s: f64,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    for id in ids {
        if pytest_style {
            writeln!(w, "{id}")?;
        } else {
            writeln!(w, "{id}: test")?;
        }
    }
    if !pytest_style {
        let tests = if ids.len() == 1 { "test" } else { "tests" };
        return writeln!(w, "\n{} {tests}, 0 benchmarks", ids.len());
    }
    writeln!(
        w,
        "\n{} in {elapsed_s:.2}s",
        collected(ids.len(), deselected)
    )
}

/// pytest's words for a collection: `1 test collected`, `2/5 tests collected (3 deselected)`,
/// `no tests collected (5 deselected)`.
pub fn collected(selected: usize, deselected: usize) -> String {
    let total = selected + deselected;
    let tests = if total == 1 { "test" } else { "tests" };
    match (selected, deselected) {
        (0, 0) => "no tests collected".to_string(),
        (0, d) => format!("no tests collected ({d} deselected)"),
        (n, 0) => format!("{n} {tests} collected"),
        (n, d) => format!("{n}/{total} {tests} collected ({d} deselected)"),
    }
}

/// The closing line of a run whose ledger record is incomplete: the exact count, where the events are
/// kept (or that they are lost) and what to do.
pub fn unrecorded_line(u: &super::Unrecorded) -> String {
    let why = match u.reasons.as_slice() {
        [] => String::new(),
        r => format!(" ({})", r.join("; ")),
    };
    match &u.file {
        Ok(path) => format!(
            "{} ledger event(s) could not be recorded{why}; kept in {} — after freeing space: cc-ci coord reconcile --from {} (exit 3: the run's record is incomplete)",
            u.count,
            path.display(),
            path.display()
        ),
        Err(e) => format!(
            "{} ledger event(s) could not be recorded{why} and could not be kept in a file either ({e}): they are lost (exit 3: the run's record is incomplete)",
            u.count
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_collection_reads_as_pytest_closes_it() {
        assert_eq!(collected(1, 0), "1 test collected");
        assert_eq!(collected(3, 0), "3 tests collected");
        assert_eq!(collected(1, 5), "1/6 tests collected (5 deselected)");
        assert_eq!(collected(0, 3), "no tests collected (3 deselected)");
        assert_eq!(collected(0, 0), "no tests collected");
        let mut out = Vec::new();
        list(&["a::b::c"], 2, true, 0.123, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a::b::c\n\n1/3 tests collected (2 deselected) in 0.12s\n"
        );
        let mut out = Vec::new();
        list(&["a::b::c"], 2, false, 0.1, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a::b::c: test\n\n1 test, 0 benchmarks\n"
        );
    }
}
