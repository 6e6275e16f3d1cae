//! What a container's healthcheck says: the command, its retries and start period, the failing streak
//! and the last probe's exit code and output (the engine's health log), folded into one sentence for
//! the convergence waiter's "unhealthy" error. Read-only.

use std::time::Duration;

use bollard::models::{ContainerInspectResponse, HealthConfig};
use bollard::query_parameters::InspectContainerOptions;

use super::{DockerError, Engine};

/// The engine's defaults when a healthcheck leaves a field at zero (Docker's `defaultProbe*`).
const DEFAULT_RETRIES: i64 = 3;
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

/// The longest probe output kept in a message.
const OUTPUT_MAX: usize = 400;

/// One container's health, as the engine recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HealthReport {
    /// `starting`, `healthy`, `unhealthy`.
    pub status: String,
    /// The healthcheck command as written (`CMD wget -q …`, `CMD-SHELL curl …`).
    pub command: String,
    pub retries: i64,
    pub start_period: Duration,
    pub interval: Duration,
    /// Consecutive failed probes counted after the start period.
    pub streak: i64,
    /// The last probe's exit code and (trimmed) output, when a probe ran.
    pub last_probe: Option<(i64, String)>,
    /// How long the container ran (start to finish, or to now while it runs).
    pub ran_for: Option<Duration>,
}

impl HealthReport {
    /// True when the streak has reached the healthcheck's retries: the engine calls the container
    /// unhealthy and swarm replaces its task.
    pub fn failed(&self) -> bool {
        self.status == "unhealthy" || (self.retries > 0 && self.streak >= self.retries)
    }

    /// True when the failing streak reached the retries and the last probe failed: what an ended
    /// container must show to count as stopped for its health (the engine marks every container it
    /// stops `unhealthy`, a healthy one replaced by an upgrade included).
    pub fn streak_failed(&self) -> bool {
        self.streak >= self.retries.max(1) && self.last_probe.as_ref().is_some_and(|(c, _)| *c != 0)
    }

    /// `healthcheck `CMD …` failed 3 times in a row (retries 3, start period 5s, every 2s); last
    /// probe (exit 1): …`.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "healthcheck `{}` failed {} time(s) in a row (retries {}, start period {}, every {})",
            self.command,
            self.streak,
            self.retries,
            crate::duration::rounded(self.start_period),
            crate::duration::rounded(self.interval),
        );
        match &self.last_probe {
            Some((code, out)) if out.is_empty() => {
                s.push_str(&format!("; last probe exited {code} with no output"))
            }
            Some((code, out)) => s.push_str(&format!("; last probe (exit {code}): {out}")),
            None => s.push_str("; no probe result recorded"),
        }
        s
    }
}

impl Engine {
    /// The health of container `id`; `None` when it has no healthcheck or is gone.
    pub(crate) async fn container_health(
        &self,
        id: &str,
    ) -> Result<Option<HealthReport>, DockerError> {
        match self
            .docker
            .inspect_container(id, None::<InspectContainerOptions>)
            .await
        {
            Ok(c) => Ok(health_of_container(&c)),
            Err(e) if super::error::is_not_found(&e) => Ok(None),
            Err(e) => Err(DockerError::api(format!("inspect container {id}"), e)),
        }
    }

    /// What the services without a healthy container say about their healthcheck, for a timeout
    /// (a health stuck in `starting` included).
    pub(crate) async fn health_notes(&self, snap: &super::services::StackSnapshot) -> Vec<String> {
        let mut notes = Vec::new();
        for svc in &snap.services {
            let name = super::services::spec_name(svc);
            // A task with a healthcheck stays `starting` until healthy: every task meant to run.
            let live = snap.tasks.iter().filter(|t| {
                t.service_id == svc.id
                    && t.desired_state.map(|s| s.to_string()).as_deref() == Some("running")
            });
            for t in live {
                let Some(id) = t
                    .status
                    .as_ref()
                    .and_then(|s| s.container_status.as_ref())
                    .and_then(|c| c.container_id.clone())
                else {
                    continue;
                };
                let healthy = snap
                    .container_status
                    .get(&id)
                    .is_some_and(|s| s.contains("(healthy)"));
                if healthy {
                    continue;
                }
                if let Ok(Some(h)) = self.container_health(&id).await {
                    notes.push(format!("{name}: health {}, {}", h.status, h.describe()));
                    break;
                }
            }
        }
        notes
    }
}

/// The report of an inspected container, `None` without a healthcheck.
pub(crate) fn health_of_container(c: &ContainerInspectResponse) -> Option<HealthReport> {
    let config = c.config.as_ref()?.healthcheck.as_ref()?;
    let test = config.test.clone().unwrap_or_default();
    if test.is_empty() || test[0] == "NONE" {
        return None;
    }
    let state = c.state.as_ref();
    let health = state.and_then(|s| s.health.as_ref());
    let last_probe = health
        .and_then(|h| h.log.as_ref())
        .and_then(|l| l.last())
        .map(|p| {
            let out = p.output.clone().unwrap_or_default();
            (p.exit_code.unwrap_or(-1), trimmed(&out))
        });
    let ran_for = state.and_then(|s| {
        let start = parse_time(s.started_at.as_deref()?)?;
        let end = match s.finished_at.as_deref().and_then(parse_time) {
            Some(end) if end > start => end,
            _ => time::OffsetDateTime::now_utc(),
        };
        Some((end - start).try_into().unwrap_or_default())
    });
    Some(HealthReport {
        status: health
            .and_then(|h| h.status)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        command: command(&test),
        retries: retries(config),
        start_period: nanos(config.start_period),
        interval: match nanos(config.interval) {
            Duration::ZERO => DEFAULT_INTERVAL,
            d => d,
        },
        streak: health.and_then(|h| h.failing_streak).unwrap_or(0),
        last_probe,
        ran_for,
    })
}

fn retries(c: &HealthConfig) -> i64 {
    match c.retries {
        Some(r) if r > 0 => r,
        _ => DEFAULT_RETRIES,
    }
}

fn nanos(n: Option<i64>) -> Duration {
    Duration::from_nanos(n.unwrap_or(0).max(0) as u64)
}

/// `["CMD", "wget", "-q"]` → `CMD wget -q`; `["CMD-SHELL", "curl -f x"]` → `CMD-SHELL curl -f x`.
fn command(test: &[String]) -> String {
    test.join(" ")
}

/// The probe output on one line, at most [`OUTPUT_MAX`] characters (its end, where errors are).
fn trimmed(out: &str) -> String {
    let one = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let n = one.chars().count();
    if n <= OUTPUT_MAX {
        return one;
    }
    let tail: String = one.chars().skip(n - OUTPUT_MAX).collect();
    format!("…{tail}")
}

fn parse_time(s: &str) -> Option<time::OffsetDateTime> {
    if s.starts_with("0001-") {
        return None;
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A container as `docker inspect` prints one that swarm killed as unhealthy (trimmed).
    fn inspected() -> ContainerInspectResponse {
        serde_json::from_value(serde_json::json!({
            "Config": {"Healthcheck": {
                "Test": ["CMD", "sh", "-c", "echo probe says no; exit 1"],
                "Interval": 2_000_000_000i64, "Retries": 3, "StartPeriod": 5_000_000_000i64
            }},
            "State": {
                "StartedAt": "2026-11-30T10:00:00.5Z", "FinishedAt": "2026-11-30T10:00:12.9Z",
                "Health": {"Status": "unhealthy", "FailingStreak": 3, "Log": [
                    {"ExitCode": 1, "Output": "probe says no\n"},
                    {"ExitCode": 1, "Output": "probe   says\nno\n"}
                ]}
            }
        }))
        .unwrap()
    }

    #[test]
    fn an_unhealthy_container_names_its_command_streak_and_last_probe() {
        let h = health_of_container(&inspected()).unwrap();
        assert!(h.failed() && h.streak_failed());
        assert_eq!(h.ran_for.map(|d| d.as_millis()), Some(12_400));
        assert_eq!(
            h.describe(),
            "healthcheck `CMD sh -c echo probe says no; exit 1` failed 3 time(s) in a row \
             (retries 3, start period 5s, every 2s); last probe (exit 1): probe says no"
        );
    }

    #[test]
    fn no_healthcheck_is_no_report_and_zero_fields_take_the_engines_defaults() {
        let mut c = inspected();
        c.config.as_mut().unwrap().healthcheck = None;
        assert_eq!(health_of_container(&c), None);
        let mut c = inspected();
        let hc = c.config.as_mut().unwrap().healthcheck.as_mut().unwrap();
        hc.retries = Some(0);
        hc.interval = None;
        c.state
            .as_mut()
            .unwrap()
            .health
            .as_mut()
            .unwrap()
            .failing_streak = Some(2);
        c.state.as_mut().unwrap().health.as_mut().unwrap().status =
            Some(bollard::models::HealthStatusEnum::STARTING);
        let h = health_of_container(&c).unwrap();
        assert_eq!((h.retries, h.interval), (3, DEFAULT_INTERVAL));
        assert!(!h.failed() && !h.streak_failed());
        // A healthy container the engine stopped (an upgrade replaced it) reads `unhealthy` with no
        // failing streak: not stopped for its health.
        let mut c = inspected();
        let health = c.state.as_mut().unwrap().health.as_mut().unwrap();
        health.failing_streak = Some(0);
        health.log = Some(vec![serde_json::from_value(
            serde_json::json!({"ExitCode": 0, "Output": ""}),
        )
        .unwrap()]);
        let h = health_of_container(&c).unwrap();
        assert!(h.failed() && !h.streak_failed());
    }

    #[test]
    fn long_probe_output_keeps_its_end() {
        let long = format!("{} the real error", "x".repeat(1000));
        let t = trimmed(&long);
        assert!(t.starts_with('…') && t.ends_with("the real error"), "{t}");
        assert_eq!(t.chars().count(), OUTPUT_MAX + 1);
    }
}
