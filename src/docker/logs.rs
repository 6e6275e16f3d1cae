//! Log tails of a service: the newest task containers' output (running or exited), as text. Read-only.

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptions;
use futures_util::StreamExt;

use super::{DockerError, Engine};

/// Containers whose logs are read (newest first): the current task and the ones it replaced.
const CONTAINERS: usize = 3;

impl Engine {
    /// The last `tail` lines of each of the newest task containers of `service` (short name).
    pub fn logs(&self, stack: &str, service: &str, tail: usize) -> Result<String, DockerError> {
        self.block(self.logs_async(stack, service, tail))
    }

    pub(crate) async fn logs_async(
        &self,
        stack: &str,
        service: &str,
        tail: usize,
    ) -> Result<String, DockerError> {
        let full = format!("{stack}_{service}");
        let containers = self.service_containers(&full, true).await?;
        if containers.is_empty() {
            return Err(DockerError::NoContainer {
                stack: stack.into(),
                service: service.into(),
            });
        }
        let mut out = String::new();
        for c in containers.iter().take(CONTAINERS) {
            let id = c.id.clone().unwrap_or_default();
            let short: String = id.chars().take(12).collect();
            let status = c.status.clone().unwrap_or_default();
            let mut stream = self.docker.logs(
                &id,
                Some(LogsOptions {
                    stdout: true,
                    stderr: true,
                    tail: tail.to_string(),
                    ..Default::default()
                }),
            );
            let mut text = String::new();
            while let Some(item) = stream.next().await {
                match item {
                    Ok(LogOutput::StdOut { message })
                    | Ok(LogOutput::StdErr { message })
                    | Ok(LogOutput::Console { message }) => {
                        text.push_str(&String::from_utf8_lossy(&message))
                    }
                    Ok(LogOutput::StdIn { .. }) => {}
                    Err(e) => {
                        text.push_str(&format!("(log stream broke: {e})\n"));
                        break;
                    }
                }
            }
            out.push_str(&format!("== container {short} ({status}) ==\n{text}"));
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        Ok(out)
    }
}
