//! Test helpers shared by the unit tests of the recipe and runner modules (test builds only).

use std::path::Path;
use std::process::Command;

/// Runs `script` with `sh -c` in `dir` under a fixed git identity; panics with its stderr when it
/// fails; returns its trimmed stdout.
pub(crate) fn sh(dir: &Path, script: &str) -> String {
    let o = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}
