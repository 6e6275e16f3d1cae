//! Running one `abra` command: either with a null stdin and stdout/stderr captured apart, or on a
//! pseudo-terminal (`pty.rs`) for the commands abra refuses to run without one; always under a
//! wall-clock timeout that kills the whole process group, and with redaction of everything that comes
//! back. It never prints anything itself.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::child::Ended;

use crate::deploy::DeployError;
use crate::redact::Redactor;

/// How many lines of output an error carries.
pub const TAIL_LINES: usize = 30;

/// One finished call (already redacted).
#[derive(Debug, Clone)]
pub struct AbraCall {
    /// The command line as run, redacted.
    pub command: String,
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    pub duration: Duration,
}

/// How abra's standard streams are connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Io {
    /// Null stdin; stdout and stderr captured apart (stdout stays clean for `--machine` output).
    Pipes,
    /// A pseudo-terminal on stdin, stdout and stderr (one stream, returned as stdout).
    Terminal,
}

/// Raw result of a call. `stdout` is NOT redacted: the caller must register secrets from it before
/// anything else happens with it.
pub(crate) struct Raw {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
    pub duration: Duration,
}

/// Runs `abra args…` with `env`, connected as `io` says, and waits at most `timeout`.
pub(crate) fn run(
    abra: &Path,
    args: &[String],
    env: &[(String, String)],
    timeout: Duration,
    redactor: &Redactor,
    io: Io,
) -> Result<Raw, DeployError> {
    let display = display(abra, args);
    if io == Io::Terminal {
        return match super::pty::run(abra, args, env, timeout) {
            Ok(super::pty::Ended::Exited(raw)) => Ok(raw),
            Ok(super::pty::Ended::TimedOut) => Err(DeployError::Timeout {
                command: redactor.redact(&display),
                timeout,
            }),
            Err(super::pty::NotStarted(why)) => Err(DeployError::Command {
                command: redactor.redact(&display),
                code: None,
                tail: redactor.redact(&why),
            }),
        };
    }
    let started = Instant::now();
    let mut cmd = Command::new(abra);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = match crate::child::output_within(&mut cmd, timeout) {
        Ok(Ended::Exited(out)) => out,
        Ok(Ended::TimedOut) => {
            return Err(DeployError::Timeout {
                command: redactor.redact(&display),
                timeout,
            })
        }
        Err(e) => {
            return Err(DeployError::Command {
                command: redactor.redact(&display),
                code: None,
                tail: format!("cannot start {}: {e} (hint: check --abra)", abra.display()),
            })
        }
    };
    Ok(Raw {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
        duration: started.elapsed(),
    })
}

/// The command line for messages: `abra app deploy x --no-input`.
pub(crate) fn display(abra: &Path, args: &[String]) -> String {
    let name = abra
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "abra".into());
    let mut s = name;
    for a in args {
        s.push(' ');
        if a.is_empty() || a.chars().any(|c| c.is_whitespace() || c == '\'') {
            s.push_str(&format!("'{}'", a.replace('\'', "'\\''")));
        } else {
            s.push_str(a);
        }
    }
    s
}

/// The last `n` lines of `text`.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hung_command_is_killed_with_its_children_at_the_timeout() {
        let d = tempfile::tempdir().unwrap();
        let script = d.path().join("hang");
        let pidfile = d.path().join("child.pid");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nsleep 300 &\necho $! > {}\nwait\n",
                pidfile.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let r = Redactor::new();
        let started = Instant::now();
        let e = run(
            &script,
            &["x".into()],
            &[],
            Duration::from_millis(500),
            &r,
            Io::Pipes,
        )
        .err()
        .unwrap();
        assert!(matches!(e, DeployError::Timeout { .. }), "{e}");
        assert!(started.elapsed() < Duration::from_secs(60));
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        // A killed process may linger as a zombie until it is reaped: look at its state.
        let gone = || {
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
                .map(|s| s.split(") ").nth(1).is_some_and(|r| r.starts_with('Z')))
                .unwrap_or(true)
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !gone() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(gone(), "the grandchild sleep must be killed too");
    }

    #[test]
    fn display_quotes_arguments_with_spaces() {
        let s = display(Path::new("/x/abra"), &["a b".into(), "c".into()]);
        assert_eq!(s, "abra 'a b' c");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("1\n2\n3\n", 2), "2\n3");
    }
}
