//! Driving the abra double directly (its knobs, a call with or without a terminal) and reading the
//! calls it recorded.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use super::abra::{double, shell_quote};

/// Sets the double's knobs for every call with this ABRA_DIR (`KEY=VALUE` lines); the test process's
/// own environment stays untouched.
pub fn knobs(abra_dir: &Path, lines: &str) {
    std::fs::create_dir_all(abra_dir).unwrap();
    std::fs::write(abra_dir.join("abra-double.env"), lines).unwrap();
}

/// The double as a command with `ABRA_DIR=abra_dir`, its stdin null and its output captured (no
/// terminal).
pub fn double_command(abra_dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(double());
    c.args(args)
        .env("ABRA_DIR", abra_dir)
        .env_remove("ABRA_DOUBLE_LOG")
        .stdin(Stdio::null());
    c
}

/// The double run on a terminal, through util-linux `script -qec` (which the Python harness used for
/// abra), with `ABRA_DIR=abra_dir`. Returns (exit code, everything it wrote).
pub fn double_on_terminal(abra_dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut line = shell_quote(&double().display().to_string());
    for a in args {
        line.push(' ');
        line.push_str(&shell_quote(a));
    }
    let out = Command::new("timeout")
        .args(["120", "script", "-qec", &line, "/dev/null"])
        .env("ABRA_DIR", abra_dir)
        .env_remove("ABRA_DOUBLE_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run script");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).replace('\r', ""),
    )
}

/// Whether the double saw a terminal on stdin and stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct Tty {
    pub stdin: bool,
    pub stdout: bool,
}

/// One recorded abra call.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Call {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub tty: Tty,
}

impl Call {
    /// `abra app deploy x --no-input` style text of the call.
    pub fn line(&self) -> String {
        format!("abra {}", self.argv.join(" "))
    }
}

/// Every call recorded in `log`, in order (an absent log is no calls).
pub fn read_log(log: &Path) -> Vec<Call> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad log line {l}: {e}")))
        .collect()
}
