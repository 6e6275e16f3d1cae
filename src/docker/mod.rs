//! The Docker engine, through bollard: the only async module. Offers a small blocking facade
//! ([`Engine`]) over one shared tokio runtime, so callers on plain threads (libtest-mimic trials) never
//! see async. Owns convergence, exec, logs, backup/restore archives, teardown, the run lock and the
//! janitor. It never decides what to test, and it never removes a resource that does not belong to the
//! stack or dead run it was asked about.

mod apply;
mod archive;
mod backup;
mod client;
mod converge;
mod error;
mod exec;
mod forwarder;
mod health;
mod hooks;
mod janitor;
mod logs;
mod outage;
mod preflight;
mod resources;
mod restore;
mod runlock;
mod services;
mod stacklock;
mod teardown;
mod transport;
mod watch;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub use apply::{NetworkRequest, ServiceChange};
pub use archive::{manifest_path, read_backup, BackupManifest, ManifestEntry, Member};
pub use client::Engine;
pub use error::DockerError;
pub use forwarder::{Forward, ForwardRequest, FORWARDER_IMAGE, LABEL_FORWARDER, LISTEN_PORT};
pub use janitor::{JanitorReport, JanitorScope, Removal};
pub use outage::DEFAULT_ENGINE_WAIT;
pub use preflight::host_port_in_use;
pub use runlock::{LockInfo, RunLock};
pub use stacklock::{acquire_stack, StackBusy};

/// Label carrying the run id on every resource the harness creates.
pub const LABEL_RUN_ID: &str = "cc-ci.run-id";
/// Label carrying the path of the run's lock file; the janitor reaps resources whose lock is not held.
pub const LABEL_RUN_LOCK: &str = "cc-ci.run-lock";
/// The stack namespace label `docker stack deploy` (and so abra) puts on everything of a stack.
pub const LABEL_NAMESPACE: &str = "com.docker.stack.namespace";
/// The label swarm puts on a task's container naming its service.
pub const LABEL_SERVICE_NAME: &str = "com.docker.swarm.service.name";

/// A backup artifact: what the engine's backup writes and its restore reads, and what every deployer
/// hands the runner (re-exported as `deploy::BackupArtifact`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct BackupArtifact {
    /// The backup file or directory (a `.tar.gz` or a directory with a manifest).
    pub path: PathBuf,
    /// SHA-256 of the artifact (hex) when it is a single file, or of its manifest.
    pub sha256: String,
    /// Entries (volume/path) it holds, for reports.
    pub entries: Vec<String>,
}

/// One service of a stack as the engine sees it now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceState {
    /// Short name, e.g. `app`.
    pub name: String,
    /// Full swarm name, e.g. `hello_x_app`.
    pub full_name: String,
    /// The service spec labels (compose deploy labels).
    pub labels: BTreeMap<String, String>,
    pub image: String,
    pub desired: u64,
    /// Tasks running the current spec.
    pub running: u64,
    /// `None` when the service has no healthcheck; else whether every running task is healthy.
    pub healthy: Option<bool>,
    /// Not healthy only because a healthcheck is still `starting` (none failed yet).
    #[serde(default)]
    pub health_starting: bool,
    /// Swarm's update state: `updating`, `completed`, `paused`, `rollback_started`, `rollback_completed`, …
    pub update_state: Option<String>,
}

impl ServiceState {
    /// Desired replicas running, healthy where a healthcheck exists, no update in flight or reverted.
    pub fn converged(&self) -> bool {
        self.running == self.desired
            && self.healthy != Some(false)
            && !matches!(
                self.update_state.as_deref(),
                Some("updating")
                    | Some("paused")
                    | Some("rollback_started")
                    | Some("rollback_paused")
                    | Some("rollback_completed")
            )
    }

    /// One line for progress output: `app 1/1 healthy`.
    pub fn summary(&self) -> String {
        let health = match (self.healthy, self.health_starting) {
            (Some(true), _) => " healthy",
            (Some(false), true) => " health: starting",
            (Some(false), false) => " unhealthy",
            (None, _) => "",
        };
        let update = match self.update_state.as_deref() {
            Some("completed") | None => String::new(),
            Some(s) => format!(" ({s})"),
        };
        format!(
            "{} {}/{}{health}{update}",
            self.name, self.running, self.desired
        )
    }
}

/// What [`Engine::wait_converged`] saw when the stack converged.
#[derive(Debug, Clone)]
pub struct ConvergeReport {
    pub services: Vec<ServiceState>,
    pub waited: Duration,
    /// How many state checks an engine event triggered: at the event, and the quick follow-ups after it
    /// (swarm records a task's new state a moment after the container event that caused it, and API
    /// 1.41 has no task events).
    pub event_checks: u32,
    /// How many state checks the safety tick triggered.
    pub tick_checks: u32,
}

/// How [`Engine::exec`] retries.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Give up after this long (default 90 s).
    pub deadline: Duration,
    /// `Some(code)`: retry until the command exits with it (default `Some(0)`). `None`: any exit code is
    /// a result; only engine failures (container gone, exec errors) are retried.
    pub expect_exit: Option<i64>,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            deadline: Duration::from_secs(90),
            expect_exit: Some(0),
        }
    }
}

/// The result of a command run in an app container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i64,
    /// How many attempts it took (1 when the first one worked).
    pub attempts: u32,
}

/// The stack's short service name from a full swarm name: `hello_x_app` → `app`.
pub(crate) fn short_name(stack: &str, full: &str) -> String {
    full.strip_prefix(stack)
        .and_then(|s| s.strip_prefix('_'))
        .unwrap_or(full)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(running: u64, healthy: Option<bool>, update: Option<&str>) -> ServiceState {
        ServiceState {
            name: "app".into(),
            full_name: "s_app".into(),
            labels: BTreeMap::new(),
            image: "i".into(),
            desired: 1,
            running,
            healthy,
            health_starting: false,
            update_state: update.map(String::from),
        }
    }

    #[test]
    fn converged_needs_replicas_health_and_a_settled_update() {
        assert!(state(1, Some(true), Some("completed")).converged());
        assert!(state(1, None, None).converged());
        assert!(!state(0, None, None).converged());
        assert!(!state(1, Some(false), None).converged());
        assert!(!state(1, Some(true), Some("updating")).converged());
        assert!(!state(1, Some(true), Some("rollback_completed")).converged());
    }

    #[test]
    fn a_starting_healthcheck_is_not_called_unhealthy() {
        let mut s = state(0, Some(false), None);
        assert_eq!(s.summary(), "app 0/1 unhealthy");
        s.health_starting = true;
        assert_eq!(s.summary(), "app 0/1 health: starting");
    }

    #[test]
    fn short_name_strips_the_stack_prefix() {
        assert_eq!(short_name("hello_x", "hello_x_app"), "app");
        assert_eq!(short_name("hello_x", "other"), "other");
    }

    #[test]
    fn the_engine_layer_imports_no_layer_above_it() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/docker");
        let above = [
            "deploy", "runner", "report", "spec", "discover", "recipe", "cli", "lint",
        ];
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for layer in above {
                let import = format!("crate::{layer}::");
                assert!(
                    !text.contains(&import),
                    "{} uses {import}: the engine layer must not know the layers above it",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn exec_defaults_to_ninety_seconds_and_exit_zero() {
        let o = ExecOptions::default();
        assert_eq!(o.deadline, Duration::from_secs(90));
        assert_eq!(o.expect_exit, Some(0));
    }
}
