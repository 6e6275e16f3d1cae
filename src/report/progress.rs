//! The progress line while an op waits: a live line on a terminal, a status line every 10 s in CI logs.
//! A subscriber of `Progress` events; times come from the events, so what it prints is reproducible.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use super::event::{EventKind, RunEvent, Subscriber};

/// How often a status line is printed when the output is not a terminal.
pub const STATUS_EVERY: Duration = Duration::from_secs(10);

/// A pause longer than this between updates starts a new wait (elapsed time counts from it).
const NEW_WAIT_AFTER: Duration = Duration::from_secs(5);

/// Widest live line on a terminal.
const LINE_WIDTH: usize = 120;

#[derive(Debug, Default)]
struct Wait {
    start_ms: u64,
    last_line_ms: Option<u64>,
    last_update_ms: Option<u64>,
}

/// Renders `Progress` events as a live line (`tty`) or periodic status lines.
pub struct ProgressLine {
    out: Box<dyn Write + Send>,
    tty: bool,
    waits: BTreeMap<String, Wait>,
    drew: bool,
}

impl ProgressLine {
    /// `tty`: redraw one line in place; else print a line every [`STATUS_EVERY`].
    pub fn new(out: Box<dyn Write + Send>, tty: bool) -> Self {
        Self {
            out,
            tty,
            waits: BTreeMap::new(),
            drew: false,
        }
    }

    fn update(&mut self, label: &str, state: &str, now_ms: u64) {
        let w = self.waits.entry(label.to_string()).or_insert(Wait {
            start_ms: now_ms,
            ..Wait::default()
        });
        let gap = w.last_update_ms.map(|t| now_ms.saturating_sub(t));
        if gap.is_some_and(|g| g > NEW_WAIT_AFTER.as_millis() as u64) {
            w.start_ms = now_ms;
            w.last_line_ms = None;
        }
        w.last_update_ms = Some(now_ms);
        let elapsed = (now_ms - w.start_ms) / 1000;
        if self.tty {
            let line: String = format!("{label} [{elapsed}s] {state}")
                .chars()
                .take(LINE_WIDTH)
                .collect();
            let _ = write!(self.out, "\r\x1b[2K{line}");
            let _ = self.out.flush();
            self.drew = true;
        } else if w
            .last_line_ms
            .is_none_or(|t| now_ms.saturating_sub(t) >= STATUS_EVERY.as_millis() as u64)
        {
            let _ = writeln!(self.out, "{label} [{elapsed}s] {state}");
            w.last_line_ms = Some(now_ms);
        }
    }

    /// Clears the live line.
    fn clear(&mut self) {
        if self.tty && self.drew {
            let _ = write!(self.out, "\r\x1b[2K");
            let _ = self.out.flush();
            self.drew = false;
        }
    }
}

impl Subscriber for ProgressLine {
    fn event(&mut self, ev: &RunEvent) {
        match &ev.kind {
            // An op's wait counts from the op's start.
            EventKind::OpStarted { op, .. } => {
                let start = Wait {
                    start_ms: ev.elapsed_ms,
                    ..Wait::default()
                };
                self.waits.insert(format!("{op} op"), start);
            }
            EventKind::Progress(p) => self.update(&p.label, &p.state, ev.elapsed_ms),
            EventKind::OpFinished(_) | EventKind::Interrupted { .. } => self.clear(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::event::Progress;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn progress(ms: u64, state: &str) -> RunEvent {
        RunEvent {
            timestamp: time::OffsetDateTime::UNIX_EPOCH,
            elapsed_ms: ms,
            kind: EventKind::Progress(Progress {
                label: "deploy op".into(),
                state: state.into(),
            }),
        }
    }

    #[test]
    fn without_a_terminal_a_status_line_is_printed_every_ten_seconds() {
        let buf = Buf::default();
        let mut p = ProgressLine::new(Box::new(buf.clone()), false);
        for (ms, s) in [(1000, "0/1"), (4000, "0/1"), (8000, "0/1"), (11_500, "1/1")] {
            p.event(&progress(ms, s));
        }
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text, "deploy op [0s] 0/1\ndeploy op [10s] 1/1\n");
    }

    #[test]
    fn an_op_wait_counts_from_the_op_start() {
        let buf = Buf::default();
        let mut p = ProgressLine::new(Box::new(buf.clone()), false);
        p.event(&RunEvent {
            timestamp: time::OffsetDateTime::UNIX_EPOCH,
            elapsed_ms: 500,
            kind: EventKind::OpStarted {
                tier: crate::spec::Tier::Install,
                op: "deploy".into(),
            },
        });
        p.event(&progress(9600, "app 1/1 healthy"));
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text, "deploy op [9s] app 1/1 healthy\n");
    }

    #[test]
    fn a_long_pause_starts_a_new_wait_counted_from_zero() {
        let buf = Buf::default();
        let mut p = ProgressLine::new(Box::new(buf.clone()), false);
        p.event(&progress(0, "a"));
        p.event(&progress(30_000, "b"));
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text, "deploy op [0s] a\ndeploy op [0s] b\n");
    }
}
