//! Waiting for a stack to converge. The waiter looks at the stack whenever its [`StackWatch`] says so
//! (an event of the stack, container health included, the quick follow-ups after it, or the safety
//! tick). It fails fast on a rolled-back or paused update, on an image that is not there and cannot be
//! pulled, on a task swarm killed as unhealthy (or a container whose failing healthcheck streak reached
//! its retries), naming the healthcheck, the streak and the last probe's output, and on a crash loop
//! (with the task's error and its log tail). It never changes the stack (a pull may add an image).

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
        let mut deadline = start + timeout;
        let new_watch = || match poll_interval {
            None => StackWatch::new(self, stack, SAFETY_TICK),
            Some(i) => StackWatch::polling(stack, i),
        };
        let mut watch = new_watch();
        let mut crash_watch: Option<CrashWatch> = None;
        let mut last_line = String::new();
        loop {
            let looked = match self.snapshot(stack).await {
                Ok(snap) => {
                    let crashes = crash_watch.get_or_insert_with(|| CrashWatch::baseline(&snap));
                    self.fail_fast(stack, &snap, crashes).await.map(|_| snap)
                }
                Err(e) => Err(e),
            };
            let snap = match looked {
                Ok(snap) => snap,
                Err(e) => {
                    // An engine restart: wait for it (bounded), then look again with a fresh watch and
                    // crash baseline (the restart itself fails the tasks it stopped); the outage does
                    // not count against the deploy timeout.
                    let waited = self.ride_out().await?.ok_or(e)?;
                    deadline += waited;
                    progress(&format!(
                        "the engine did not answer for {}; it is back, waiting on",
                        crate::duration::rounded(waited)
                    ));
                    watch = new_watch();
                    crash_watch = None;
                    last_line.clear();
                    continue;
                }
            };
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
                    let mut d = format!("last state: {line}");
                    for n in self.health_notes(&snap).await {
                        d.push_str(&format!("; {n}"));
                    }
                    d
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

    /// Turns a rolled-back or paused update, a missing image, an unhealthy task or a crash loop into
    /// an error right away.
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
            if let Some(e) = self.named_failure(&name, &failed).await {
                return Err(e);
            }
            for cid in watch.new_ended(snap, svc.id.as_deref().unwrap_or_default()) {
                let health = self.container_health(&cid).await?;
                if let Some(h) = health.filter(|h| h.streak_failed()) {
                    return Err(unhealthy(&name, "swarm stopped its task as unhealthy", &h));
                }
            }
            if let Some(e) = self.unhealthy_running(snap, svc, &name).await? {
                return Err(e);
            }
            if failed.len() >= CRASH_LOOP_FAILURES {
                let error = failed.last().map(|f| f.error.clone()).unwrap_or_default();
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

    /// A failed task whose cause has a name of its own: an image that is not there (and cannot be
    /// pulled now), or a container swarm killed as unhealthy.
    async fn named_failure(&self, service: &str, failed: &[FailedTask]) -> Option<DockerError> {
        let last = failed.last()?;
        if let Some(image) = missing_image(&last.error) {
            // The engine's own pull is the reason; should it work now, swarm's next task starts.
            let reason = self.ensure_image_async(&image).await.err()?;
            return Some(DockerError::ImageMissing {
                service: service.into(),
                image,
                reason,
            });
        }
        if !last.error.contains("unhealthy container") {
            return None;
        }
        let report = match &last.container_id {
            Some(id) => self.container_health(id).await.ok().flatten(),
            None => None,
        };
        Some(match report {
            Some(h) => unhealthy(service, "swarm killed its task as unhealthy", &h),
            None => DockerError::Unhealthy {
                service: service.into(),
                detail: format!("swarm killed its task as unhealthy ({})", last.error),
            },
        })
    }

    /// A task meant to run whose container's healthcheck has failed past its retries (the engine
    /// calls it unhealthy; swarm is about to stop it).
    async fn unhealthy_running(
        &self,
        snap: &StackSnapshot,
        svc: &bollard::models::Service,
        service: &str,
    ) -> Result<Option<DockerError>, DockerError> {
        // A task with a healthcheck stays `starting` until its container is healthy: look at every
        // task meant to run.
        let live = snap.tasks.iter().filter(|t| {
            t.service_id == svc.id
                && t.desired_state.map(|s| s.to_string()).as_deref() == Some("running")
        });
        for t in live {
            let Some(id) = container_of(t) else { continue };
            let marked = snap
                .container_status
                .get(&id)
                .is_some_and(|s| s.contains("(unhealthy)"));
            if !marked {
                continue;
            }
            if let Some(h) = self.container_health(&id).await?.filter(|h| h.failed()) {
                let short: String = id.chars().take(12).collect();
                let what = format!("its container {short} turned unhealthy");
                return Ok(Some(unhealthy(service, &what, &h)));
            }
        }
        Ok(None)
    }
}

/// A task that failed since the wait began.
#[derive(Debug, Clone)]
struct FailedTask {
    /// The task's error, with the exit code when there is one.
    error: String,
    container_id: Option<String>,
}

/// Remembers which failed tasks existed when the wait began, so only new failures count.
struct CrashWatch {
    seen_before: HashSet<String>,
    /// Tasks that had ended when the wait began, and those whose container was looked at since.
    ended_before: HashSet<String>,
}

impl CrashWatch {
    fn baseline(snap: &StackSnapshot) -> CrashWatch {
        let ids = |f: fn(&bollard::models::Task) -> bool| {
            snap.tasks
                .iter()
                .filter(|t| f(t))
                .map(|t| t.id.clone().unwrap_or_default())
                .collect()
        };
        CrashWatch {
            seen_before: ids(is_failed),
            ended_before: ids(has_ended),
        }
    }

    /// Containers of the tasks of `service_id` that ended (failed, complete, shutdown) since the
    /// wait began and were not handed out before. Swarm stops an unhealthy container with SIGTERM:
    /// an app that exits 0 on it leaves a `complete` task without an error, and only the container's
    /// health log says why.
    fn new_ended(&mut self, snap: &StackSnapshot, service_id: &str) -> Vec<String> {
        let mut out = Vec::new();
        for t in &snap.tasks {
            let id = t.id.clone().unwrap_or_default();
            if t.service_id.as_deref() != Some(service_id)
                || !has_ended(t)
                || !self.ended_before.insert(id)
            {
                continue;
            }
            out.extend(container_of(t));
        }
        out
    }

    /// The tasks of `service_id` that failed since the wait began, oldest first.
    fn new_failures(&self, snap: &StackSnapshot, service_id: &str) -> Vec<FailedTask> {
        let mut tasks: Vec<&bollard::models::Task> = snap
            .tasks
            .iter()
            .filter(|t| t.service_id.as_deref() == Some(service_id) && is_failed(t))
            .filter(|t| {
                !self
                    .seen_before
                    .contains(t.id.as_deref().unwrap_or_default())
            })
            .collect();
        tasks.sort_by_key(|t| t.status.as_ref().and_then(|s| s.timestamp.clone()));
        tasks
            .into_iter()
            .map(|t| {
                let st = t.status.clone().unwrap_or_default();
                let err = st.err.or(st.message).unwrap_or_default();
                let code = st.container_status.as_ref().and_then(|c| c.exit_code);
                let error = match code {
                    Some(c) if c != 0 => format!("{err} (exit code {c})"),
                    _ => err,
                };
                FailedTask {
                    error,
                    container_id: container_of(t),
                }
            })
            .collect()
    }
}

/// The error for a container whose healthcheck failed past its retries.
fn unhealthy(service: &str, what: &str, h: &super::health::HealthReport) -> DockerError {
    let after = h
        .ran_for
        .map(crate::duration::rounded)
        .unwrap_or_else(|| "?".into());
    DockerError::Unhealthy {
        service: service.into(),
        detail: format!("{what} after {after}: {}", h.describe()),
    }
}

/// A task that will not run again: failed, rejected, complete or shut down.
fn has_ended(t: &bollard::models::Task) -> bool {
    let s = t
        .status
        .as_ref()
        .and_then(|s| s.state)
        .map(|s| s.to_string());
    matches!(
        s.as_deref(),
        Some("failed" | "rejected" | "complete" | "shutdown" | "orphaned")
    )
}

/// The container of a task, once it has one.
fn container_of(t: &bollard::models::Task) -> Option<String> {
    t.status
        .as_ref()
        .and_then(|s| s.container_status.as_ref())
        .and_then(|c| c.container_id.clone())
        .filter(|id| !id.is_empty())
}

/// The image of a task error `No such image: <image>` (how swarm says it is not there).
fn missing_image(error: &str) -> Option<String> {
    let rest = error.split("No such image: ").nth(1)?;
    let image = rest.split_whitespace().next()?.trim_end_matches([',', ')']);
    (!image.is_empty()).then(|| image.to_string())
}

fn is_failed(t: &bollard::models::Task) -> bool {
    let s = t
        .status
        .as_ref()
        .and_then(|s| s.state)
        .map(|s| s.to_string());
    matches!(s.as_deref(), Some("failed") | Some("rejected"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_image_is_read_from_swarms_task_error() {
        assert_eq!(
            missing_image("No such image: ccci/no-such-image:1").as_deref(),
            Some("ccci/no-such-image:1")
        );
        assert_eq!(missing_image("task: non-zero exit (1)"), None);
    }
}
