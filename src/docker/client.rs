//! The engine handle: the one [`Transport`] (the only connection to the engine), the bollard client
//! over it with a negotiated API version, and one shared multi-thread tokio runtime, behind the blocking
//! [`Engine`] facade. Every other file of this module adds `impl Engine` blocks; none of them creates a
//! runtime, a client or a connection of its own.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use http::Method;

use super::transport::{RawAnswer, Transport};
use super::DockerError;

/// The Docker engine, as a blocking facade. `Send + Sync`; share it in an `Arc`.
pub struct Engine {
    pub(crate) docker: Docker,
    transport: Arc<Transport>,
    rt: tokio::runtime::Runtime,
    host: String,
    api_version: String,
    /// How long calls ride out an engine that stopped answering, in ms (see `outage.rs`).
    pub(crate) engine_wait_ms: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Engine({} API {})", self.host, self.api_version)
    }
}

const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// bollard's per-call timeout. Long: an archive download or an attached exec can take minutes; every
/// caller bounds its own wait.
const CALL_TIMEOUT: Duration = Duration::from_secs(600);

impl Engine {
    /// Connects to the engine named by `DOCKER_HOST` (default: the local socket) and negotiates the API
    /// version down to what the engine speaks (1.41 on Debian's docker.io 20.10).
    pub fn connect() -> Result<Engine, DockerError> {
        let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| DEFAULT_HOST.to_string());
        let no_engine = |m: String| DockerError::NoEngine {
            host: host.clone(),
            message: m,
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cc-ci-docker")
            .enable_all()
            .build()
            .map_err(|e| no_engine(format!("cannot start the async runtime: {e}")))?;
        let transport = Arc::new(Transport::for_host(&host).map_err(no_engine)?);
        let docker = transport
            .bollard(CALL_TIMEOUT, bollard::API_DEFAULT_VERSION)
            .map_err(|e| no_engine(e.to_string()))?;
        let docker = rt
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(15), docker.negotiate_version()).await
            })
            .map_err(|_| no_engine("no answer within 15 s".into()))?
            .map_err(|e| no_engine(e.to_string()))?;
        let v = docker.client_version();
        let api_version = format!("{}.{}", v.major_version, v.minor_version);
        Ok(Engine {
            docker,
            transport,
            rt,
            host,
            api_version,
            engine_wait_ms: std::sync::atomic::AtomicU64::new(
                super::outage::DEFAULT_ENGINE_WAIT.as_millis() as u64,
            ),
        })
    }

    /// The API version both sides speak, e.g. `1.41`.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// Where the engine answers, e.g. `unix:///var/run/docker.sock`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Fails with the command to fix it when this engine is not a swarm manager.
    pub fn require_swarm(&self) -> Result<(), DockerError> {
        let info = self
            .block(self.docker.info())
            .map_err(|e| DockerError::api("info", e))?;
        let swarm = info.swarm.unwrap_or_default();
        let state = swarm
            .local_node_state
            .map(|s| s.to_string())
            .unwrap_or_else(|| "unknown".into());
        if state != "active" {
            return Err(DockerError::SwarmInactive { state });
        }
        if swarm.control_available != Some(true) {
            return Err(DockerError::SwarmInactive {
                state: "active, but this node is not a manager".into(),
            });
        }
        Ok(())
    }

    /// A call bollard's model cannot carry, through the same connection (see `transport.rs`).
    pub(crate) async fn raw(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<RawAnswer, String> {
        self.transport
            .raw(&self.api_version, method, path_and_query, body)
            .await
    }

    /// Runs a future on the shared runtime and blocks the calling thread until it finishes.
    pub(crate) fn block<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Engine>();
    }
}
