//! Waiting for a stack to converge. The waiter follows the engine's event stream (container and
//! service events of the stack) and re-checks the state on each one, with a slow safety tick for the
//! changes no event announces. It fails fast on a rolled-back or paused update and on a crash loop
//! (with the task's error and its log tail). It never changes the stack.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use bollard::query_parameters::EventsOptions;
use futures_util::StreamExt;

use super::services::StackSnapshot;
use super::{ConvergeReport, DockerError, Engine, LABEL_NAMESPACE};

/// How often the state is re-checked when no event arrives.
const SAFETY_TICK: Duration = Duration::from_secs(5);
/// Failed tasks of one service (since the wait began) that make a crash loop.
const CRASH_LOOP_FAILURES: usize = 3;

impl Engine {
    /// Waits until every service of `stack` has its desired replicas running the current spec, healthy
    /// where a healthcheck exists, with no update in flight. `progress` gets one line per state change.
    pub fn wait_converged(
        &self,
        stack: &str,
        timeout: Duration,
        progress: &mut dyn FnMut(&str),
    ) -> Result<ConvergeReport, DockerError> {
        self.block(self.wait_converged_async(stack, timeout, progress, None))
    }

    /// The fixed-interval poller the event-driven waiter replaced. Kept as the baseline the
    /// `converge` benchmark measures against; the harness itself never uses it.
    pub fn wait_converged_polling(
        &self,
        stack: &str,
        timeout: Duration,
        interval: Duration,
    ) -> Result<ConvergeReport, DockerError> {
        self.block(self.wait_converged_async(stack, timeout, &mut |_| {}, Some(interval)))
    }

    pub(crate) async fn wait_converged_async(
        &self,
        stack: &str,
        timeout: Duration,
        progress: &mut dyn FnMut(&str),
        poll_interval: Option<Duration>,
    ) -> Result<ConvergeReport, DockerError> {
        let start = Instant::now();
        let deadline = start + timeout;
        // Two streams, filtered by the engine: the stack's containers (by label) and services (service
        // events carry no labels, so they are matched by name below). Other stacks' chatter never
        // reaches us.
        let mut events = match poll_interval {
            None => {
                let stream = |filters: HashMap<String, Vec<String>>| {
                    self.docker.events(Some(EventsOptions {
                        since: None,
                        until: None,
                        filters: Some(filters),
                    }))
                };
                let containers = stream(HashMap::from([
                    ("type".to_string(), vec!["container".to_string()]),
                    (
                        "label".to_string(),
                        vec![format!("{LABEL_NAMESPACE}={stack}")],
                    ),
                ]));
                let services = stream(HashMap::from([(
                    "type".to_string(),
                    vec!["service".to_string()],
                )]));
                Some(futures_util::stream::select(containers, services))
            }
            Some(_) => None,
        };
        let tick = poll_interval.unwrap_or(SAFETY_TICK);
        let mut watch = CrashWatch::default();
        let mut last_line = String::new();
        let (mut event_checks, mut tick_checks) = (0u32, 0u32);
        let mut first = true;
        loop {
            let snap = self.snapshot(stack).await?;
            if first {
                watch.baseline(&snap);
                first = false;
            }
            let states = snap.states(stack);
            let line = states
                .iter()
                .map(|s| s.summary())
                .collect::<Vec<_>>()
                .join(", ");
            if line != last_line {
                progress(&line);
                last_line = line.clone();
            }
            self.fail_fast(stack, &snap, &mut watch).await?;
            if !states.is_empty() && states.iter().all(|s| s.converged()) {
                return Ok(ConvergeReport {
                    services: states,
                    waited: start.elapsed(),
                    event_checks,
                    tick_checks,
                });
            }
            let now = Instant::now();
            if now >= deadline {
                let detail = if states.is_empty() {
                    "the stack has no services".to_string()
                } else {
                    format!("last state: {line}")
                };
                return Err(DockerError::NotConverged {
                    stack: stack.to_string(),
                    waited: start.elapsed(),
                    detail,
                });
            }
            let sleep = tokio::time::sleep(tick.min(deadline - now));
            match events.as_mut() {
                None => {
                    sleep.await;
                    tick_checks += 1;
                }
                Some(stream) => {
                    tokio::pin!(sleep);
                    loop {
                        tokio::select! {
                            _ = &mut sleep => { tick_checks += 1; break; }
                            ev = stream.next() => match ev {
                                Some(Ok(ev)) if relevant(stack, &ev) => { event_checks += 1; break; }
                                Some(Ok(_)) => continue,
                                // The stream broke: fall back to the tick until the deadline.
                                Some(Err(_)) | None => { events = None; tick_checks += 1; (&mut sleep).await; break; }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Turns a rolled-back or paused update, or a crash loop, into an error right away.
    async fn fail_fast(
        &self,
        stack: &str,
        snap: &StackSnapshot,
        watch: &mut CrashWatch,
    ) -> Result<(), DockerError> {
        for svc in &snap.services {
            let name = super::services::spec_name(svc);
            let upd = svc.update_status.as_ref();
            let state = upd
                .and_then(|u| u.state)
                .map(|s| s.to_string())
                .unwrap_or_default();
            let message = upd.and_then(|u| u.message.clone()).unwrap_or_default();
            if state.starts_with("rollback") {
                return Err(DockerError::RolledBack {
                    stack: stack.into(),
                    service: name,
                    message,
                });
            }
            if state == "paused" {
                return Err(DockerError::UpdatePaused {
                    stack: stack.into(),
                    service: name,
                    message,
                });
            }
            if state == "updating" {
                // swarm's update monitor decides (rollback, pause or continue); do not pre-empt it.
                continue;
            }
            let failed = watch.new_failures(snap, svc.id.as_deref().unwrap_or_default());
            if failed.len() >= CRASH_LOOP_FAILURES {
                let error = failed.last().cloned().unwrap_or_default();
                let logs = self
                    .logs_async(stack, &super::short_name(stack, &name), 20)
                    .await
                    .unwrap_or_else(|e| format!("(no logs: {e})"));
                return Err(DockerError::CrashLoop {
                    service: name,
                    failures: failed.len(),
                    error,
                    logs,
                });
            }
        }
        Ok(())
    }
}

/// Remembers which failed tasks existed when the wait began, so only new failures count.
#[derive(Default)]
struct CrashWatch {
    seen_before: HashSet<String>,
}

impl CrashWatch {
    fn baseline(&mut self, snap: &StackSnapshot) {
        for t in &snap.tasks {
            if is_failed(t) {
                self.seen_before.insert(t.id.clone().unwrap_or_default());
            }
        }
    }

    /// Errors of the tasks of `service_id` that failed since the wait began, oldest first.
    fn new_failures(&self, snap: &StackSnapshot, service_id: &str) -> Vec<String> {
        snap.tasks
            .iter()
            .filter(|t| t.service_id.as_deref() == Some(service_id) && is_failed(t))
            .filter(|t| {
                !self
                    .seen_before
                    .contains(t.id.as_deref().unwrap_or_default())
            })
            .map(|t| {
                let st = t.status.clone().unwrap_or_default();
                let err = st.err.or(st.message).unwrap_or_default();
                let code = st.container_status.and_then(|c| c.exit_code);
                match code {
                    Some(c) if c != 0 => format!("{err} (exit code {c})"),
                    _ => err,
                }
            })
            .collect()
    }
}

fn is_failed(t: &bollard::models::Task) -> bool {
    let s = t
        .status
        .as_ref()
        .and_then(|s| s.state)
        .map(|s| s.to_string());
    matches!(s.as_deref(), Some("failed") | Some("rejected"))
}

/// A service event of the stack, or a container event (not an exec or a healthcheck probe) of it.
fn relevant(stack: &str, ev: &bollard::models::EventMessage) -> bool {
    let action = ev.action.as_deref().unwrap_or_default();
    if action.starts_with("exec_") {
        return false;
    }
    let attrs = ev.actor.as_ref().and_then(|a| a.attributes.as_ref());
    let typ = ev.typ.map(|t| t.to_string()).unwrap_or_default();
    match typ.as_str() {
        "service" => attrs
            .and_then(|a| a.get("name"))
            .is_some_and(|n| n.starts_with(&format!("{stack}_"))),
        "container" => attrs
            .and_then(|a| a.get(LABEL_NAMESPACE))
            .is_some_and(|n| n == stack),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{EventActor, EventMessage, EventMessageTypeEnum};

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
    fn only_the_stacks_own_events_count() {
        use EventMessageTypeEnum::*;
        assert!(relevant("s", &ev(SERVICE, "update", &[("name", "s_app")])));
        assert!(!relevant(
            "s",
            &ev(SERVICE, "update", &[("name", "other_app")])
        ));
        assert!(relevant(
            "s",
            &ev(CONTAINER, "start", &[(LABEL_NAMESPACE, "s")])
        ));
        assert!(relevant(
            "s",
            &ev(
                CONTAINER,
                "health_status: healthy",
                &[(LABEL_NAMESPACE, "s")]
            )
        ));
        assert!(!relevant(
            "s",
            &ev(CONTAINER, "exec_start: wget", &[(LABEL_NAMESPACE, "s")])
        ));
        assert!(!relevant(
            "s",
            &ev(CONTAINER, "start", &[(LABEL_NAMESPACE, "t")])
        ));
    }
}
