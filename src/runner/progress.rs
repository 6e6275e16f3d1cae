//! Progress while an op waits: a live line on a terminal, a status line every 10 s in CI logs.
//! Also the `--pause-after` prompt.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::spec::Tier;

/// How often a status line is printed when stderr is not a terminal.
pub const STATUS_EVERY: Duration = Duration::from_secs(10);

pub struct Reporter {
    what: String,
    start: Instant,
    last_line: Option<Instant>,
    last_update: Option<Instant>,
    tty: bool,
    drew: bool,
}

/// A pause longer than this between updates starts a new wait (elapsed time counts from it).
const NEW_WAIT_AFTER: Duration = Duration::from_secs(5);

impl Reporter {
    pub fn new(what: &str) -> Self {
        Self {
            what: what.to_string(),
            start: Instant::now(),
            last_line: None,
            last_update: None,
            tty: std::io::stderr().is_terminal(),
            drew: false,
        }
    }

    /// Shows the latest state.
    pub fn update(&mut self, state: &str) {
        if self
            .last_update
            .is_some_and(|t| t.elapsed() > NEW_WAIT_AFTER)
        {
            self.start = Instant::now();
            self.last_line = None;
        }
        self.last_update = Some(Instant::now());
        let elapsed = self.start.elapsed().as_secs();
        let mut err = std::io::stderr();
        if self.tty {
            let line: String = format!("{} [{elapsed}s] {state}", self.what)
                .chars()
                .take(120)
                .collect();
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
            self.drew = true;
        } else if self.last_line.is_none_or(|t| t.elapsed() >= STATUS_EVERY) {
            let _ = writeln!(err, "{} [{elapsed}s] {state}", self.what);
            self.last_line = Some(Instant::now());
        }
    }

    /// Clears the live line.
    pub fn finish(&mut self) {
        if self.tty && self.drew {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

/// Waits for Enter after a tier (only on a terminal; CI refuses the flag before the run starts).
pub fn pause(tier: Tier) {
    if !std::io::stdin().is_terminal() {
        println!("--pause-after {tier}: standard input is not a terminal; not pausing");
        return;
    }
    println!("paused after {tier}: the app is live. Press Enter to continue (teardown follows as always)…");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}
