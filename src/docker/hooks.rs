//! backup-bot-two hooks: the shell commands of `backupbot.backup.pre-hook` / `post-hook` and
//! `backupbot.restore.pre-hook` / `post-hook`, run with `sh -c` inside a running container of the
//! service (where the database and its tools are). A hook's exit code is its verdict: the engine's own
//! failures (no container yet, the container stopped under the hook) are retried until the deadline, but
//! a hook that ran and failed is never re-run here — re-running a half-done dump or a half-loaded restore
//! on a timer is not what the recipe asked for. It never decides which hooks run; backup.rs and
//! restore.rs do.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Engine, ExecOptions};

/// How long one hook may take, retries of engine failures included.
pub(crate) const HOOK_DEADLINE: Duration = Duration::from_secs(120);

pub(crate) const BACKUP_PRE: &str = "backupbot.backup.pre-hook";
pub(crate) const BACKUP_POST: &str = "backupbot.backup.post-hook";
pub(crate) const RESTORE_PRE: &str = "backupbot.restore.pre-hook";
pub(crate) const RESTORE_POST: &str = "backupbot.restore.post-hook";

impl Engine {
    /// Runs the hook that `label` names in `labels`, if any, in a running container of `service`.
    /// The error names the label, the command, the exit code and the end of its stderr.
    pub(crate) async fn run_hook(
        &self,
        stack: &str,
        service: &str,
        labels: &BTreeMap<String, String>,
        label: &str,
    ) -> Result<(), String> {
        let Some(hook) = labels.get(label) else {
            return Ok(());
        };
        let cmd = vec!["sh".to_string(), "-c".to_string(), hook.clone()];
        let opts = ExecOptions {
            deadline: HOOK_DEADLINE,
            expect_exit: None,
        };
        let out = self
            .exec_async(stack, service, &cmd, &opts)
            .await
            .map_err(|e| format!("{label} `{hook}` in {service}: {e}"))?;
        if out.exit_code == 0 {
            return Ok(());
        }
        Err(format!(
            "{label} `{hook}` in {service} exited with code {}{}",
            out.exit_code,
            stderr_tail(&out.stderr)
        ))
    }
}

/// `: <last lines of stderr>` (at most 10 lines, 2000 bytes), or nothing when stderr is empty.
fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.trim_end().lines().collect();
    if lines.is_empty() {
        return String::new();
    }
    let tail = lines[lines.len().saturating_sub(10)..].join("\n");
    let cut = tail.len().saturating_sub(2000);
    let start = (cut..=tail.len())
        .find(|i| tail.is_char_boundary(*i))
        .unwrap_or(tail.len());
    format!(": {}", &tail[start..])
}

/// Joins the failure of a step with the failure of the post-hook that ran after it.
pub(crate) fn with_post_hook(
    step: Result<(), String>,
    post: Result<(), String>,
) -> Result<(), String> {
    match (step, post) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e),
        (Err(e), Err(p)) => Err(format!("{e}; then the post-hook failed too: {p}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_tail_keeps_the_last_ten_lines() {
        let text: String = (1..=15).map(|i| format!("line {i}\n")).collect();
        let t = stderr_tail(&text);
        assert!(t.starts_with(": line 6\n"), "{t}");
        assert!(t.ends_with("line 15"), "{t}");
        assert_eq!(stderr_tail("  \n"), "");
    }

    #[test]
    fn stderr_tail_is_bounded_and_cut_on_a_char_boundary() {
        let text = "é".repeat(3000);
        let t = stderr_tail(&text);
        assert!(t.len() <= 2002, "{}", t.len());
        assert!(t.ends_with('é'));
    }

    #[test]
    fn a_post_hook_failure_is_reported_after_the_step_that_failed_first() {
        assert_eq!(with_post_hook(Ok(()), Ok(())), Ok(()));
        assert_eq!(with_post_hook(Err("a".into()), Ok(())), Err("a".into()));
        assert_eq!(with_post_hook(Ok(()), Err("p".into())), Err("p".into()));
        assert_eq!(
            with_post_hook(Err("a".into()), Err("p".into())),
            Err("a; then the post-hook failed too: p".into())
        );
    }
}
