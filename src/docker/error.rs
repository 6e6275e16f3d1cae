//! Errors of the engine layer. Each variant carries what a person needs to act: the stack, the
//! service, the engine's own message, and a hint where one helps. It never holds secret values (callers
//! redact what they pass in).

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while talking to the Docker engine.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("cannot reach the docker engine at {host}: {message} (hint: start it with scripts/setup-engine.sh, or point DOCKER_HOST at a running engine)")]
    NoEngine { host: String, message: String },
    #[error("the docker engine at {host} stopped answering and did not come back within {waited}: {message} (an infrastructure failure, not the recipe's; hint: see why dockerd stopped, e.g. its log)")]
    EngineGone {
        host: String,
        waited: String,
        message: String,
    },
    #[error("swarm mode is not active on this engine (state: {state}) (hint: run `docker swarm init --advertise-addr 127.0.0.1`)")]
    SwarmInactive { state: String },
    #[error("engine call {op} failed: {message}")]
    Api { op: String, message: String },
    #[error("stack {stack} did not converge within {waited:?}: {detail}")]
    NotConverged {
        stack: String,
        waited: Duration,
        detail: String,
    },
    #[error("upgrade rolled back: service {service} of stack {stack} failed its update and swarm reverted it ({message})")]
    RolledBack {
        stack: String,
        service: String,
        message: String,
    },
    #[error("update paused: service {service} of stack {stack} stopped updating ({message}) (hint: see `docker service ps {service}`)")]
    UpdatePaused {
        stack: String,
        service: String,
        message: String,
    },
    #[error("service {service} is crash-looping ({failures} failed tasks): {error}\n--- log tail ---\n{logs}")]
    CrashLoop {
        service: String,
        failures: usize,
        error: String,
        logs: String,
    },
    #[error("service {service} is unhealthy: {detail}")]
    Unhealthy { service: String, detail: String },
    #[error("image {image} is not present and could not be pulled: {reason} (service {service})")]
    ImageMissing {
        service: String,
        image: String,
        reason: String,
    },
    #[error("cannot reach service {service} of stack {stack} through a forwarder: {reason}")]
    Forward {
        stack: String,
        service: String,
        reason: String,
    },
    #[error("no running container for service {service} of stack {stack} (hint: is the app deployed and converged?)")]
    NoContainer { stack: String, service: String },
    #[error("exec `{command}` in {service} failed after {attempts} attempts over {waited:?}: {last_error}\n--- stderr ---\n{stderr}")]
    Exec {
        service: String,
        command: String,
        attempts: u32,
        waited: Duration,
        last_error: String,
        stderr: String,
    },
    #[error("backup of stack {stack} failed: {message}")]
    Backup { stack: String, message: String },
    #[error("restore of stack {stack} failed: {message}")]
    Restore { stack: String, message: String },
    #[error("teardown of stack {stack} left resources behind: {}", leftovers.join(", "))]
    Teardown {
        stack: String,
        leftovers: Vec<String>,
    },
    #[error("run lock {path}: {message}")]
    Lock { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl DockerError {
    /// Wraps a bollard (or raw API) error with the name of the call that failed.
    pub fn api(op: impl Into<String>, e: impl std::fmt::Display) -> DockerError {
        DockerError::Api {
            op: op.into(),
            message: e.to_string(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> DockerError {
        DockerError::Io {
            path: path.into(),
            source,
        }
    }
}

/// True when a bollard error is the engine's 404 (the object does not exist).
pub(crate) fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// True when a bollard error is the engine's 409 (conflict: already exists, or in use).
pub(crate) fn is_conflict(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 409,
            ..
        }
    )
}
