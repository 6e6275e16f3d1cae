//! The [`EventBus`]: the one way the runner reports. It stamps each event with its time, masks every
//! registered secret in it, keeps it (for results and `events.jsonl`), and hands it to each subscriber in
//! the order they subscribed. Shared by the session, its worker and the trial threads; one event is
//! delivered at a time.

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use time::OffsetDateTime;

use crate::redact::Redactor;

use super::aggregate::Aggregator;
use super::event::{EventKind, RunEvent, Subscriber};
use super::model::RunResult;

/// Delivers the run's events.
pub struct EventBus {
    start: Instant,
    redactor: Redactor,
    inner: Mutex<Inner>,
}

struct Inner {
    subscribers: Vec<Box<dyn Subscriber>>,
    log: Vec<RunEvent>,
    result: Aggregator,
}

impl EventBus {
    /// A bus masking the secrets `redactor` holds at the time of each event.
    pub fn new(redactor: Redactor) -> Self {
        Self {
            start: Instant::now(),
            redactor,
            inner: Mutex::new(Inner {
                subscribers: Vec::new(),
                log: Vec::new(),
                result: Aggregator::default(),
            }),
        }
    }

    /// Adds a subscriber, served after those before it. It is first handed every event emitted so far,
    /// so a subscriber made late (once the run's directory is known) still sees the whole run.
    pub fn subscribe(&self, s: Box<dyn Subscriber>) {
        let mut inner = self.lock();
        let s = replay(s, &inner.log);
        inner.subscribers.push(s);
    }

    /// Like [`EventBus::subscribe`], but served before every other subscriber (files are written
    /// before the summary that names them is printed).
    pub fn subscribe_first(&self, s: Box<dyn Subscriber>) {
        let mut inner = self.lock();
        let s = replay(s, &inner.log);
        inner.subscribers.insert(0, s);
    }

    /// Emits one event to every subscriber.
    pub fn emit(&self, kind: EventKind) {
        let ev = self.redact(RunEvent {
            timestamp: OffsetDateTime::now_utc(),
            elapsed_ms: self.start.elapsed().as_millis() as u64,
            kind,
        });
        let mut inner = self.lock();
        inner.result.event(&ev);
        for s in inner.subscribers.iter_mut() {
            s.event(&ev);
        }
        inner.log.push(ev);
    }

    /// The run as the events so far tell it.
    pub fn result(&self) -> RunResult {
        self.lock().result.result().clone()
    }

    /// Milliseconds since the bus was made (the run's duration at its end).
    pub fn elapsed_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// True when a secret registered by now is in an event already delivered (and so maybe printed).
    pub fn leaked(&self) -> bool {
        if self.redactor.is_empty() {
            return false;
        }
        let inner = self.lock();
        inner.log.iter().any(|ev| {
            serde_json::to_string(ev)
                .map(|s| self.redactor.leaks(&s))
                .unwrap_or(false)
        })
    }

    /// Every event delivered so far.
    pub fn events(&self) -> Vec<RunEvent> {
        self.lock().log.clone()
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn redact(&self, ev: RunEvent) -> RunEvent {
        if self.redactor.is_empty() {
            return ev;
        }
        let Ok(text) = serde_json::to_string(&ev) else {
            return ev;
        };
        if !self.redactor.leaks(&text) {
            return ev;
        }
        let mut value: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) => return ev,
        };
        mask(&mut value, &self.redactor);
        serde_json::from_value(value).unwrap_or(ev)
    }
}

fn replay(mut s: Box<dyn Subscriber>, log: &[RunEvent]) -> Box<dyn Subscriber> {
    for ev in log {
        s.event(ev);
    }
    s
}

fn mask(v: &mut serde_json::Value, redactor: &Redactor) {
    match v {
        serde_json::Value::String(s) if redactor.leaks(s) => *s = redactor.redact(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| mask(i, redactor)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|i| mask(i, redactor)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::event::Collector;
    use std::sync::Arc;

    struct Shared(Arc<Mutex<Collector>>);
    impl Subscriber for Shared {
        fn event(&mut self, ev: &RunEvent) {
            self.0.lock().unwrap().event(ev);
        }
    }

    #[test]
    fn every_subscriber_sees_each_event_masked_and_in_order() {
        let redactor = Redactor::new();
        let bus = EventBus::new(redactor.clone());
        let seen = Arc::new(Mutex::new(Collector::default()));
        bus.subscribe(Box::new(Shared(Arc::clone(&seen))));
        bus.emit(EventKind::Warning {
            message: "first".into(),
        });
        redactor.add("hunter2hunter2");
        bus.emit(EventKind::Warning {
            message: "the value is hunter2hunter2".into(),
        });
        let events = &seen.lock().unwrap().events;
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[1].kind,
            EventKind::Warning {
                message: "the value is ***".into()
            }
        );
        assert!(events[0].elapsed_ms <= events[1].elapsed_ms);
        assert!(!bus.leaked());
    }
}
