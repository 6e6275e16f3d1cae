//! The run's voice in the coord ledger: every op, verdict, gate decision and teardown becomes an
//! event. Everything is redacted before it is written. A failed append is counted and reported, never
//! ignored.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::coord::{Ledger, NewEvent};
use crate::redact::Redactor;

/// Writes the run's events.
pub struct Recorder {
    ledger: Ledger,
    run_id: String,
    redactor: Redactor,
    failures: AtomicUsize,
}

impl Recorder {
    pub fn new(ledger: Ledger, run_id: &str, redactor: Redactor) -> Self {
        Self {
            ledger,
            run_id: run_id.to_string(),
            redactor,
            failures: AtomicUsize::new(0),
        }
    }

    /// Appends one event. A failure is printed and counted (the run then ends with an internal error).
    pub fn event(&self, kind: &str, subject: &str, outcome: &str, data: serde_json::Value) {
        let data = self.redact_value(data);
        let ev = NewEvent::new(
            kind,
            self.redactor.redact(subject),
            self.redactor.redact(outcome),
        )
        .run(&self.run_id)
        .data(data);
        if let Err(e) = self.ledger.append(ev) {
            self.failures.fetch_add(1, Ordering::SeqCst);
            eprintln!(
                "cc-ci: ledger: could not record {kind} {subject}: {}",
                self.redactor.redact(&e.to_string())
            );
        }
    }

    /// How many events could not be recorded.
    pub fn failures(&self) -> usize {
        self.failures.load(Ordering::SeqCst)
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    fn redact_value(&self, v: serde_json::Value) -> serde_json::Value {
        if self.redactor.is_empty() {
            return v;
        }
        let text = v.to_string();
        if !self.redactor.leaks(&text) {
            return v;
        }
        serde_json::from_str(&self.redactor.redact(&text)).unwrap_or(serde_json::Value::Null)
    }
}
