//! `--durations=N`: the N slowest trials and ops of the run, written when it ends, as pytest's
//! "slowest durations" section reads (`12.30s op       install::deploy`). A subscriber of the event
//! stream; it decides nothing. Durations under the minimum (`--durations-min`, pytest's 0.005 s) are
//! counted and hidden unless `-vv`.

use std::io::Write;

use super::event::{EventKind, RunEvent, Subscriber};
use super::model::Outcome;

/// Collects durations and writes the slowest at the end of the run.
pub struct Durations {
    /// How many to show; 0 shows all.
    count: usize,
    /// Shorter durations are hidden (counted in one line).
    min_ms: u64,
    out: Box<dyn Write + Send>,
    /// (milliseconds, what: `op` or `trial`, its name), in arrival order.
    seen: Vec<(u64, &'static str, String)>,
}

impl Durations {
    /// `count` slowest (0: all), hiding those shorter than `min_ms`.
    pub fn new(count: usize, min_ms: u64, out: Box<dyn Write + Send>) -> Self {
        Self {
            count,
            min_ms,
            out,
            seen: Vec::new(),
        }
    }

    /// The section's text.
    pub fn render(&self) -> String {
        let mut all: Vec<&(u64, &'static str, String)> = self.seen.iter().collect();
        // Slowest first; ties keep the order things happened in.
        all.sort_by_key(|d| std::cmp::Reverse(d.0));
        if self.count > 0 {
            all.truncate(self.count);
        }
        let title = match self.count {
            0 => "slowest durations".to_string(),
            n => format!("slowest {n} durations"),
        };
        let mut text = format!("\n── {title} ──\n");
        let mut hidden = 0;
        for (ms, what, name) in all {
            if *ms < self.min_ms {
                hidden += 1;
                continue;
            }
            text.push_str(&format!("{:.2}s {what:<8} {name}\n", *ms as f64 / 1000.0));
        }
        if hidden > 0 {
            let min = self.min_ms as f64 / 1000.0;
            text.push_str(&format!(
                "({hidden} durations < {min}s hidden.  Use -vv to show these durations.)\n"
            ));
        }
        text
    }
}

impl Subscriber for Durations {
    fn event(&mut self, ev: &RunEvent) {
        match &ev.kind {
            EventKind::TrialFinished(t)
                if matches!(t.test.outcome, Outcome::Passed | Outcome::Failed { .. }) =>
            {
                self.seen
                    .push((t.test.duration_ms, "trial", t.test.id.clone()));
            }
            EventKind::OpFinished(o) => {
                self.seen
                    .push((o.duration_ms, "op", format!("{}::{}", o.tier, o.op)));
            }
            EventKind::RunFinished(_) if !self.seen.is_empty() => {
                let text = self.render();
                let _ = self.out.write_all(text.as_bytes());
                let _ = self.out.flush();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::event::{OpFinish, OpOutcome, RunEnd, TrialFinish};
    use crate::report::{TestResult, TestSource};
    use crate::spec::Tier;

    fn ev(kind: EventKind) -> RunEvent {
        RunEvent {
            timestamp: time::OffsetDateTime::now_utc(),
            elapsed_ms: 0,
            kind,
        }
    }

    fn trial(id: &str, ms: u64, outcome: Outcome) -> RunEvent {
        ev(EventKind::TrialFinished(TrialFinish {
            tier: Tier::Install,
            test: TestResult {
                id: id.into(),
                name: id.into(),
                file: "f".into(),
                source: TestSource::Generic,
                outcome,
                duration_ms: ms,
            },
        }))
    }

    fn op(ms: u64) -> RunEvent {
        ev(EventKind::OpFinished(OpFinish {
            tier: Tier::Install,
            op: "deploy".into(),
            outcome: OpOutcome::Ok,
            duration_ms: ms,
            deployer: "stack".into(),
            deploy_count: Some(1),
        }))
    }

    /// A writer the test can read after the subscriber has it.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn run(count: usize, min_ms: u64) -> String {
        let out = Shared::default();
        let mut d = Durations::new(count, min_ms, Box::new(out.clone()));
        for e in [
            op(12_300),
            trial("install::a::fast", 2, Outcome::Passed),
            trial(
                "install::a::slow",
                520,
                Outcome::Failed {
                    message: "x".into(),
                },
            ),
            trial(
                "install::a::skipped",
                0,
                Outcome::NotRun {
                    reason: "-x".into(),
                },
            ),
            trial("install::a::mid", 40, Outcome::Passed),
            ev(EventKind::RunFinished(RunEnd::stopped(
                crate::exit::ExitClass::Failed,
                None,
            ))),
        ] {
            d.event(&e);
        }
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        text
    }

    #[test]
    fn the_slowest_ops_and_trials_come_first_and_only_n_of_them() {
        let text = run(2, 5);
        assert_eq!(
            text,
            "\n── slowest 2 durations ──\n12.30s op       install::deploy\n0.52s trial    install::a::slow\n"
        );
    }

    #[test]
    fn zero_shows_all_and_short_ones_are_hidden_and_counted() {
        let text = run(0, 5);
        assert!(text.contains("── slowest durations ──"), "{text}");
        assert!(text.contains("0.04s trial    install::a::mid"), "{text}");
        assert!(!text.contains("fast"), "{text}");
        assert!(
            !text.contains("skipped"),
            "a trial that did not run has no duration: {text}"
        );
        assert!(
            text.contains("(1 durations < 0.005s hidden.  Use -vv to show these durations.)"),
            "{text}"
        );
        assert!(run(0, 0).contains("0.00s trial    install::a::fast"));
    }
}
