//! The runner's seam to the engine: the few calls a session makes on the live app (read its services,
//! exec in them, read logs, wait for convergence, open a forwarder to a service for a screenshot, remove
//! the stack and look for leftovers). The real
//! one is `docker::Engine`; the session's unit tests (`session_tests.rs`) put a scripted app behind it,
//! so plan, op order, op-once, filters and teardown-on-failure are proven without Docker. Deployers
//! keep their own `Engine`.

use std::time::Duration;

use crate::docker::{
    ConvergeReport, DockerError, Engine, ExecOptions, ExecOutput, Forward, ForwardRequest,
    ServiceState,
};

/// What a session asks of the engine.
pub trait AppEngine: Send + Sync {
    /// The stack's services, now.
    fn services(&self, stack: &str) -> Result<Vec<ServiceState>, DockerError>;
    /// Runs `argv` in a running container of `service`, retrying as `opts` says.
    fn exec(
        &self,
        stack: &str,
        service: &str,
        argv: &[String],
        opts: &ExecOptions,
    ) -> Result<ExecOutput, DockerError>;
    /// The last `tail` lines of the service's logs.
    fn logs(&self, stack: &str, service: &str, tail: usize) -> Result<String, DockerError>;
    /// Waits until every service of the stack converged, or `timeout`.
    fn wait_converged(
        &self,
        stack: &str,
        timeout: Duration,
        progress: &mut dyn FnMut(&str),
    ) -> Result<ConvergeReport, DockerError>;
    /// Starts a short-lived forwarder to a service's port that the host can connect to (screenshots).
    fn open_forward(&self, req: &ForwardRequest) -> Result<Forward, DockerError>;
    /// Removes a forwarder (idempotent).
    fn close_forward(&self, fwd: &Forward) -> Result<(), DockerError>;
    /// Removes what of `stack` belongs to run `run_id` (never another run's resources).
    fn remove_stack(&self, stack: &str, run_id: &str) -> Result<(), DockerError>;
    /// Resources of the run (by its label) or of the stack still present, by name.
    fn leftovers(&self, run_id: Option<&str>, stack: &str) -> Result<Vec<String>, DockerError>;
    /// After a failure: `Some(why)` when the engine stopped answering and did not come back within
    /// the engine wait (an infrastructure failure, not the recipe's); `None` when it answers.
    fn engine_gone(&self) -> Option<String>;
}

impl AppEngine for Engine {
    fn services(&self, stack: &str) -> Result<Vec<ServiceState>, DockerError> {
        Engine::services(self, stack)
    }

    fn exec(
        &self,
        stack: &str,
        service: &str,
        argv: &[String],
        opts: &ExecOptions,
    ) -> Result<ExecOutput, DockerError> {
        Engine::exec(self, stack, service, argv, opts)
    }

    fn logs(&self, stack: &str, service: &str, tail: usize) -> Result<String, DockerError> {
        Engine::logs(self, stack, service, tail)
    }

    fn wait_converged(
        &self,
        stack: &str,
        timeout: Duration,
        progress: &mut dyn FnMut(&str),
    ) -> Result<ConvergeReport, DockerError> {
        Engine::wait_converged(self, stack, timeout, progress)
    }

    fn open_forward(&self, req: &ForwardRequest) -> Result<Forward, DockerError> {
        Engine::open_forward(self, req)
    }

    fn close_forward(&self, fwd: &Forward) -> Result<(), DockerError> {
        Engine::close_forward(self, fwd)
    }

    fn remove_stack(&self, stack: &str, run_id: &str) -> Result<(), DockerError> {
        Engine::remove_run_stack(self, stack, run_id)
    }

    fn engine_gone(&self) -> Option<String> {
        self.ride_out_blocking().err().map(|e| e.to_string())
    }

    fn leftovers(&self, run_id: Option<&str>, stack: &str) -> Result<Vec<String>, DockerError> {
        Engine::leftovers(self, run_id, stack)
    }
}
