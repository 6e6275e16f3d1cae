//! Following a stack (or a forwarder, `forwarder.rs`) through the engine's event stream, for the
//! waiters of this module (convergence, teardown, a forwarder's start). A [`StackWatch`] subscribes to
//! the containers' events (by label, health included) and to service events (matched by name), from
//! the moment it is made, and tells its owner when to look
//! at the stack again: at each relevant event, then a few quick follow-ups (swarm records task state
//! changes a moment after the container event that caused them, and API 1.41 has no task events), and
//! on a safety tick when nothing happens. It never reads or changes the stack itself.

use std::collections::HashMap;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bollard::models::EventMessage;
use bollard::query_parameters::EventsOptions;
use futures_util::{Stream, StreamExt};

use super::{Engine, LABEL_NAMESPACE};

/// The first follow-up after an event; each next one waits twice as long, until the safety tick.
const FOLLOW_UP: Duration = Duration::from_millis(40);

type Events = Pin<Box<dyn Stream<Item = Result<EventMessage, bollard::errors::Error>> + Send>>;

/// What a watch follows: containers carrying one label, services whose names start with a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Scope {
    label: String,
    value: String,
    service_prefix: String,
}

impl Scope {
    fn stack(stack: &str) -> Scope {
        Scope {
            label: LABEL_NAMESPACE.to_string(),
            value: stack.to_string(),
            service_prefix: format!("{stack}_"),
        }
    }
}

/// When to look at a stack again, and why it was looked at.
pub(crate) struct StackWatch {
    scope: Scope,
    events: Option<Events>,
    tick: Duration,
    follow_up: Option<Duration>,
    /// Wake-ups by a relevant event.
    pub event_wakes: u32,
    /// Wake-ups by a follow-up after an event (or after an action of the owner's).
    pub follow_up_wakes: u32,
    /// Wake-ups by the safety tick.
    pub tick_wakes: u32,
}

impl StackWatch {
    /// Follows `stack` from now on (the engine replays what happens between now and the moment the
    /// subscription is established), waking at least every `tick`.
    pub fn new(engine: &Engine, stack: &str, tick: Duration) -> StackWatch {
        Self::scoped(engine, Scope::stack(stack), tick)
    }

    /// Follows the forwarder service `name` (its containers carry `label_key=name`) from now on.
    pub fn forwarder(engine: &Engine, label_key: &str, name: &str, tick: Duration) -> StackWatch {
        let scope = Scope {
            label: label_key.to_string(),
            value: name.to_string(),
            service_prefix: name.to_string(),
        };
        Self::scoped(engine, scope, tick)
    }

    fn scoped(engine: &Engine, scope: Scope, tick: Duration) -> StackWatch {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let stream = |filters: HashMap<String, Vec<String>>| {
            engine.docker.events(Some(EventsOptions {
                since: Some(format!("{since:.6}")),
                until: None,
                filters: Some(filters),
            }))
        };
        // Filtered by the engine: the containers by label; services carry no labels in their
        // events, so they are matched by name in `relevant`.
        let containers = stream(HashMap::from([
            ("type".to_string(), vec!["container".to_string()]),
            (
                "label".to_string(),
                vec![format!("{}={}", scope.label, scope.value)],
            ),
        ]));
        let services = stream(HashMap::from([(
            "type".to_string(),
            vec!["service".to_string()],
        )]));
        let events: Events = Box::pin(futures_util::stream::select(containers, services));
        StackWatch {
            events: Some(events),
            scope,
            tick,
            follow_up: None,
            event_wakes: 0,
            follow_up_wakes: 0,
            tick_wakes: 0,
        }
    }

    /// No event stream: wakes every `interval` (the baseline the `converge` benchmark measures).
    pub fn polling(stack: &str, interval: Duration) -> StackWatch {
        StackWatch {
            scope: Scope::stack(stack),
            events: None,
            tick: interval,
            follow_up: None,
            event_wakes: 0,
            follow_up_wakes: 0,
            tick_wakes: 0,
        }
    }

    /// Starts quick follow-ups (unless some are under way): the owner just did something whose effect
    /// no event announces.
    pub fn follow_up(&mut self) {
        if self.events.is_some() && self.follow_up.is_none() {
            self.follow_up = Some(FOLLOW_UP);
        }
    }

    /// Returns when the stack is worth looking at again: a relevant event, a due follow-up, the safety
    /// tick, or the deadline (whichever comes first).
    pub async fn wait(&mut self, deadline: Instant) {
        let now = Instant::now();
        let sleep = tokio::time::sleep(
            self.follow_up
                .unwrap_or(self.tick)
                .min(deadline.saturating_duration_since(now)),
        );
        tokio::pin!(sleep);
        let Some(events) = self.events.as_mut() else {
            sleep.await;
            self.tick_wakes += 1;
            return;
        };
        loop {
            tokio::select! {
                _ = &mut sleep => {
                    match self.follow_up {
                        Some(f) => {
                            self.follow_up_wakes += 1;
                            self.follow_up = Some(f * 2).filter(|n| *n < self.tick);
                        }
                        None => self.tick_wakes += 1,
                    }
                    return;
                }
                ev = events.next() => match ev {
                    Some(Ok(ev)) if relevant(&self.scope, &ev) => {
                        self.event_wakes += 1;
                        self.follow_up = Some(FOLLOW_UP);
                        return;
                    }
                    Some(Ok(_)) => continue,
                    // The stream broke (engine restart): the tick alone from here on.
                    Some(Err(_)) | None => {
                        self.events = None;
                        self.follow_up = None;
                        (&mut sleep).await;
                        self.tick_wakes += 1;
                        return;
                    }
                }
            }
        }
    }
}

/// A service event of the scope, or a container event (not an exec or a healthcheck probe) of it.
fn relevant(scope: &Scope, ev: &EventMessage) -> bool {
    let action = ev.action.as_deref().unwrap_or_default();
    if action.starts_with("exec_") {
        return false;
    }
    let attrs = ev.actor.as_ref().and_then(|a| a.attributes.as_ref());
    let typ = ev.typ.map(|t| t.to_string()).unwrap_or_default();
    match typ.as_str() {
        "service" => attrs
            .and_then(|a| a.get("name"))
            .is_some_and(|n| n.starts_with(&scope.service_prefix)),
        "container" => attrs
            .and_then(|a| a.get(&scope.label))
            .is_some_and(|n| *n == scope.value),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{EventActor, EventMessageTypeEnum};

    fn ev(typ: EventMessageTypeEnum, action: &str, attrs: &[(&str, &str)]) -> EventMessage {
        EventMessage {
            typ: Some(typ),
            action: Some(action.into()),
            actor: Some(EventActor {
                id: Some("x".into()),
                attributes: Some(
                    attrs
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_forwarder_watch_follows_its_own_service_and_containers_only() {
        use EventMessageTypeEnum::*;
        let scope = Scope {
            label: "cc-ci.forwarder-service".into(),
            value: "ccci-fwd-r1-abcdef".into(),
            service_prefix: "ccci-fwd-r1-abcdef".into(),
        };
        let name = [("name", "ccci-fwd-r1-abcdef")];
        assert!(relevant(&scope, &ev(SERVICE, "create", &name)));
        assert!(!relevant(
            &scope,
            &ev(SERVICE, "create", &[("name", "s_app")])
        ));
        let own = [("cc-ci.forwarder-service", "ccci-fwd-r1-abcdef")];
        assert!(relevant(&scope, &ev(CONTAINER, "start", &own)));
        assert!(!relevant(
            &scope,
            &ev(CONTAINER, "start", &[(LABEL_NAMESPACE, "s")])
        ));
    }

    #[test]
    fn only_the_stacks_own_events_count() {
        use EventMessageTypeEnum::*;
        assert!(relevant(
            &Scope::stack("s"),
            &ev(SERVICE, "update", &[("name", "s_app")])
        ));
        assert!(!relevant(
            &Scope::stack("s"),
            &ev(SERVICE, "update", &[("name", "other_app")])
        ));
        assert!(relevant(
            &Scope::stack("s"),
            &ev(CONTAINER, "start", &[(LABEL_NAMESPACE, "s")])
        ));
        assert!(relevant(
            &Scope::stack("s"),
            &ev(
                CONTAINER,
                "health_status: healthy",
                &[(LABEL_NAMESPACE, "s")]
            )
        ));
        assert!(!relevant(
            &Scope::stack("s"),
            &ev(CONTAINER, "exec_start: wget", &[(LABEL_NAMESPACE, "s")])
        ));
        assert!(!relevant(
            &Scope::stack("s"),
            &ev(CONTAINER, "start", &[(LABEL_NAMESPACE, "t")])
        ));
    }

    /// A watch without an engine: no stream, wakes by the tick (follow-ups need a stream).
    #[test]
    fn a_polling_watch_wakes_by_its_interval_and_never_follows_up() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut w = StackWatch::polling("s", Duration::from_millis(10));
        w.follow_up();
        let start = Instant::now();
        rt.block_on(w.wait(Instant::now() + Duration::from_secs(5)));
        assert!(start.elapsed() >= Duration::from_millis(10));
        assert_eq!((w.event_wakes, w.follow_up_wakes, w.tick_wakes), (0, 0, 1));
    }

    #[test]
    fn the_deadline_cuts_the_wait_short() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut w = StackWatch::polling("s", Duration::from_secs(60));
        let start = Instant::now();
        rt.block_on(w.wait(Instant::now() + Duration::from_millis(20)));
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}
