//! Waiting for a stack to converge. The waiter looks at the stack whenever its [`StackWatch`] says so
//! (an event of the stack, container health included, the quick follow-ups after it, or the safety
//! tick). It fails fast on a rolled-back or paused update and on a crash loop (with the task's error and
//! its log tail). It never changes the stack.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::services::StackSnapshot;
use super::watch::StackWatch;
use super::{ConvergeReport, DockerError, Engine};

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
        let mut watch = match poll_interval {
            None => StackWatch::new(self, stack, SAFETY_TICK),
            Some(i) => StackWatch::polling(stack, i),
        };
        let mut crashes: Option<CrashWatch> = None;
        let mut last_line = String::new();
        loop {
            let snap = self.snapshot(stack).await?;
            let crashes = crashes.get_or_insert_with(|| CrashWatch::baseline(&snap));
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
            self.fail_fast(stack, &snap, crashes).await?;
            if !states.is_empty() && states.iter().all(|s| s.converged()) {
                return Ok(ConvergeReport {
                    services: states,
                    waited: start.elapsed(),
                    event_checks: watch.event_wakes + watch.follow_up_wakes,
                    tick_checks: watch.tick_wakes,
                });
            }
            if Instant::now() >= deadline {
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
            watch.wait(deadline).await;
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
struct CrashWatch {
    seen_before: HashSet<String>,
}

impl CrashWatch {
    fn baseline(snap: &StackSnapshot) -> CrashWatch {
        let seen_before = snap
            .tasks
            .iter()
            .filter(|t| is_failed(t))
            .map(|t| t.id.clone().unwrap_or_default())
            .collect();
        CrashWatch { seen_before }
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
