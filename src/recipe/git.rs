//! A thin, synchronous wrapper around the `git` binary: one place that sets a non-interactive
//! environment and turns failures into [`RecipeError::Git`]. It never touches a directory it was not
//! given.

use std::path::Path;
use std::process::{Command, Stdio};

use super::RecipeError;

/// Runs `git -C dir args…` and returns its trimmed stdout.
pub(crate) fn git(dir: &Path, args: &[&str]) -> Result<String, RecipeError> {
    let out = command(dir, args).output().map_err(RecipeError::GitSpawn)?;
    if !out.status.success() {
        return Err(RecipeError::Git {
            args: args.join(" "),
            dir: dir.to_path_buf(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Runs `git -C dir args…` and reports only whether it succeeded (for probes like `cat-file -e`).
pub(crate) fn git_ok(dir: &Path, args: &[&str]) -> Result<bool, RecipeError> {
    let status = command(dir, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(RecipeError::GitSpawn)?;
    Ok(status.success())
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(["-c", "advice.detachedHead=false", "-c", "gc.auto=0"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .stdin(Stdio::null());
    cmd
}
