//! Riding out an engine that stopped answering (a restart of dockerd). After a failed call, a waiter
//! asks [`Engine::ride_out`]: when the engine answers (and its swarm has a leader), the failure was
//! the call's own and is returned as it was; when it does not, it waits with backoff until the engine
//! answers again, at most the engine wait (`--engine-wait`, default 60 s), and then says how long it
//! waited — or fails with [`DockerError::EngineGone`], an infrastructure failure, not the recipe's.
//! Teardown waits at least [`TEARDOWN_ENGINE_WAIT`]: the stack comes back with the engine.
//! It never changes anything on the engine.

use std::time::{Duration, Instant};

use bollard::query_parameters::ListServicesOptions;

use super::{DockerError, Engine};

/// The default engine wait.
pub const DEFAULT_ENGINE_WAIT: Duration = Duration::from_secs(60);
/// The least a teardown waits for an engine that stopped answering.
pub const TEARDOWN_ENGINE_WAIT: Duration = Duration::from_secs(120);
/// How long one probe of the engine may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// The first pause between probes; each next one doubles, up to [`BACKOFF_MAX`].
const BACKOFF_FIRST: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

impl Engine {
    /// How long engine calls wait for an engine that stopped answering.
    pub fn engine_wait(&self) -> Duration {
        Duration::from_millis(
            self.engine_wait_ms
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Sets how long engine calls wait for an engine that stopped answering (a restart).
    pub fn set_engine_wait(&self, wait: Duration) {
        self.engine_wait_ms.store(
            wait.as_millis().min(u64::MAX as u128) as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// `None` when the engine answers and a swarm call works; else why not (its own words).
    pub(crate) async fn probe(&self) -> Option<String> {
        let call = async {
            self.docker.ping().await?;
            self.docker
                .list_services(Some(ListServicesOptions {
                    filters: Some(std::collections::HashMap::from([(
                        "name".to_string(),
                        vec!["cc-ci-probe-none".to_string()],
                    )])),
                    ..Default::default()
                }))
                .await
                .map(|_| ())
        };
        match tokio::time::timeout(PROBE_TIMEOUT, call).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!(
                "no answer within {}",
                crate::duration::rounded(PROBE_TIMEOUT)
            )),
        }
    }

    /// After a failed call: `Ok(None)` when the engine answers (the failure was the call's own);
    /// `Ok(Some(waited))` when it did not and came back within the engine wait; else
    /// [`DockerError::EngineGone`].
    pub(crate) async fn ride_out(&self) -> Result<Option<Duration>, DockerError> {
        self.ride_out_within(self.engine_wait()).await
    }

    /// [`Engine::ride_out`] for teardown: it waits at least [`TEARDOWN_ENGINE_WAIT`], since a stack
    /// comes back with its engine and only a teardown removes it.
    pub(crate) async fn ride_out_teardown(&self) -> Result<Option<Duration>, DockerError> {
        self.ride_out_within(self.engine_wait().max(TEARDOWN_ENGINE_WAIT))
            .await
    }

    async fn ride_out_within(&self, wait: Duration) -> Result<Option<Duration>, DockerError> {
        let Some(mut last) = self.probe().await else {
            return Ok(None);
        };
        let start = Instant::now();
        let deadline = start + wait;
        let mut pause = BACKOFF_FIRST;
        while Instant::now() < deadline {
            tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
            pause = (pause * 2).min(BACKOFF_MAX);
            match self.probe().await {
                None => return Ok(Some(start.elapsed())),
                Some(m) => last = m,
            }
        }
        Err(DockerError::EngineGone {
            host: self.host().to_string(),
            waited: crate::duration::rounded(start.elapsed()),
            message: last,
        })
    }

    /// [`Engine::ride_out`] for blocking callers.
    pub fn ride_out_blocking(&self) -> Result<Option<Duration>, DockerError> {
        self.block(self.ride_out())
    }
}
