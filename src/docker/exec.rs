//! Running a command in a service's container. Guarantee 7 lives here: every attempt re-resolves a
//! running container, captures stdout, stderr and the exit code, and any failure (container gone or
//! stopped mid-exec, exec create/start error, unexpected exit code) is retried until the deadline; then
//! the last error and stderr are returned. A failed exec is never reported as empty output.

use std::time::{Duration, Instant};

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;

use super::{DockerError, Engine, ExecOptions, ExecOutput};

/// One attempt's outcome.
enum Attempt {
    /// The command ran in a container that is still running afterwards.
    Ran(ExecOutput),
    /// The engine failed us (no container, exec error, container gone); worth retrying.
    Engine(String),
}

impl Engine {
    /// Runs `cmd` in a running container of `service` (short name) of `stack`.
    pub fn exec(
        &self,
        stack: &str,
        service: &str,
        cmd: &[String],
        opts: &ExecOptions,
    ) -> Result<ExecOutput, DockerError> {
        self.block(self.exec_async(stack, service, cmd, opts))
    }

    pub(crate) async fn exec_async(
        &self,
        stack: &str,
        service: &str,
        cmd: &[String],
        opts: &ExecOptions,
    ) -> Result<ExecOutput, DockerError> {
        let start = Instant::now();
        let deadline = start + opts.deadline;
        let full = format!("{stack}_{service}");
        let mut attempts = 0u32;
        let mut backoff = Duration::from_millis(250);
        let mut last_error = String::new();
        let mut last_stderr = String::new();
        loop {
            attempts += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let attempt = match tokio::time::timeout(
                remaining.max(Duration::from_millis(100)),
                self.exec_once(&full, cmd),
            )
            .await
            {
                Ok(a) => a,
                // An attempt cut short by the deadline says less than the one before it (its exit
                // code, its stderr): that one stays the last error.
                Err(_) if attempts > 1 => Attempt::Engine(format!(
                    "{last_error} (the attempt at the deadline did not finish)"
                )),
                Err(_) => Attempt::Engine(format!(
                    "attempt did not finish within the remaining {remaining:?}"
                )),
            };
            match attempt {
                Attempt::Ran(mut out) => {
                    out.attempts = attempts;
                    match opts.expect_exit {
                        None => return Ok(out),
                        Some(want) if out.exit_code == want => return Ok(out),
                        Some(want) => {
                            last_error = format!("exit code {} (wanted {want})", out.exit_code);
                            last_stderr = out.stderr;
                        }
                    }
                }
                Attempt::Engine(e) => last_error = e,
            }
            // Keep trying until the deadline has really passed: the last sleep is cut to the deadline
            // and one more attempt is made there.
            let now = Instant::now();
            if now >= deadline {
                return Err(DockerError::Exec {
                    service: full,
                    command: cmd.join(" "),
                    attempts,
                    waited: start.elapsed(),
                    last_error,
                    stderr: last_stderr,
                });
            }
            tokio::time::sleep(backoff.min(deadline - now)).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    async fn exec_once(&self, full: &str, cmd: &[String]) -> Attempt {
        let containers = match self.service_containers(full, false).await {
            Ok(c) => c,
            Err(e) => return Attempt::Engine(e.to_string()),
        };
        let Some(id) = containers.first().and_then(|c| c.id.clone()) else {
            return Attempt::Engine(format!("no running container for service {full}"));
        };
        let short: String = id.chars().take(12).collect();
        let created = self
            .docker
            .create_exec(
                &id,
                CreateExecOptions::<String> {
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(cmd.to_vec()),
                    ..Default::default()
                },
            )
            .await;
        let exec_id = match created {
            Ok(r) => r.id,
            Err(e) => return Attempt::Engine(format!("exec create in {short}: {e}")),
        };
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        match self.docker.start_exec(&exec_id, None).await {
            Ok(StartExecResults::Attached { mut output, .. }) => {
                while let Some(item) = output.next().await {
                    match item {
                        Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => {
                            stdout.extend_from_slice(&message)
                        }
                        Ok(LogOutput::StdErr { message }) => stderr.extend_from_slice(&message),
                        Ok(LogOutput::StdIn { .. }) => {}
                        Err(e) => {
                            return Attempt::Engine(format!("exec stream in {short} broke: {e}"))
                        }
                    }
                }
            }
            Ok(StartExecResults::Detached) => {
                return Attempt::Engine("exec started detached (no output)".into())
            }
            Err(e) => return Attempt::Engine(format!("exec start in {short}: {e}")),
        }
        let inspect = match self.docker.inspect_exec(&exec_id).await {
            Ok(i) => i,
            Err(e) => return Attempt::Engine(format!("exec inspect in {short}: {e}")),
        };
        let Some(exit_code) = inspect.exit_code else {
            return Attempt::Engine(format!(
                "exec in {short} ended without an exit code (container stopping?)"
            ));
        };
        // A container that stopped under the command may have cut its output short.
        let still_running = self
            .docker
            .inspect_container(&id, None)
            .await
            .ok()
            .and_then(|c| c.state)
            .and_then(|s| s.running)
            .unwrap_or(false);
        if !still_running {
            return Attempt::Engine(format!("container {short} stopped during the exec"));
        }
        Attempt::Ran(ExecOutput {
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            exit_code,
            attempts: 0,
        })
    }
}
