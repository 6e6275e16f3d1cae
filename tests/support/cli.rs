//! Runs the real `cc-ci` binary with a clean, hermetic environment (no real HOME or XDG variables).

use std::path::Path;
use std::process::{Command, Output};

/// A `cc-ci` command whose environment is cleared of everything that could leak the machine's own
/// state into a test: HOME and XDG point into `home`, and every `CCCI_*` variable is removed.
pub fn cc_ci(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cc-ci"));
    for (k, _) in std::env::vars() {
        if k.starts_with("CCCI_") || k.starts_with("XDG_") || k == "CI" {
            cmd.env_remove(&k);
        }
    }
    cmd.env("HOME", home);
    // Runs take no screenshot unless a test asks (`--screenshots auto` beats the variable): a browser
    // per install and upgrade would slow every run of the suite; tests/e2e/screenshots.rs asks.
    cmd.env("CCCI_SCREENSHOTS", "off");
    cmd.stdin(std::process::Stdio::null());
    cmd
}

/// Stdout and stderr of an output, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
