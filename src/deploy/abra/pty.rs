//! Running one command on a pseudo-terminal: abra wants a terminal on stdin and stdout for `recipe
//! lint`, `app backup` and `app restore` even with `--no-input` ("inappropriate ioctl for device").
//! The child is the leader of a new session on the terminal, so its process group (abra and whatever it
//! started) is killed as one at the deadline. Nothing is ever written to the terminal. It never prints.

use std::io::Read;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use super::command::Raw;
use crate::child::kill_group;

/// Terminal size: wide enough that abra's tables are not wrapped.
const ROWS: u16 = 50;
const COLS: u16 = 250;

/// How long the terminal may stay open after the command exited (a child of abra holding it) before
/// the command's process group is killed.
const DRAIN: Duration = Duration::from_secs(5);

/// Why a command could not be started on a terminal (`None` exit code, this message as output).
pub(super) struct NotStarted(pub String);

/// What a run on a terminal ended with.
pub(super) enum Ended {
    Exited(Raw),
    TimedOut,
}

/// Runs `program args…` with `env` on a new pseudo-terminal for at most `timeout`. Everything the
/// command writes (stdout and stderr share the terminal) comes back as `stdout`, with `\r\n` made `\n`.
pub(super) fn run(
    program: &Path,
    args: &[String],
    env: &[(String, String)],
    timeout: Duration,
) -> Result<Ended, NotStarted> {
    let started = Instant::now();
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        NotStarted(format!(
            "cannot start {} on a terminal ({what}: {e}) (hint: check --abra)",
            program.display()
        ))
    };
    let (pty, pts) = pty_process::blocking::open().map_err(|e| fail("opening a pty", &e))?;
    pty.resize(pty_process::Size::new(ROWS, COLS))
        .map_err(|e| fail("sizing the pty", &e))?;
    let mut cmd = pty_process::blocking::Command::new(program).args(args);
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    // `spawn` consumes our end of the terminal's slave side: only the child holds it from now on.
    let mut child = cmd.spawn(pts).map_err(|e| fail("spawning", &e))?;
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut pty = pty;
        let mut out = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            match pty.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // EIO: every process holding the slave side is gone.
                Err(_) => break,
            }
        }
        let _ = tx.send(out);
    });
    let status = match child.wait_timeout(timeout) {
        Ok(Some(s)) => s,
        Ok(None) | Err(_) => {
            kill_group(pid);
            let _ = child.kill();
            let _ = child.wait();
            let _ = rx.recv_timeout(DRAIN);
            return Ok(Ended::TimedOut);
        }
    };
    let bytes = match rx.recv_timeout(DRAIN) {
        Ok(b) => b,
        Err(_) => {
            // Something abra started still holds the terminal: it goes with abra's process group.
            kill_group(pid);
            rx.recv_timeout(DRAIN).unwrap_or_default()
        }
    };
    let text = String::from_utf8_lossy(&bytes)
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    Ok(Ended::Exited(Raw {
        stdout: text,
        stderr: String::new(),
        code: status.code(),
        duration: started.elapsed(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Duration) -> Ended {
        let args = vec!["-c".to_string(), script.to_string()];
        match run(Path::new("/bin/sh"), &args, &[], timeout) {
            Ok(e) => e,
            Err(NotStarted(m)) => panic!("{m}"),
        }
    }

    #[test]
    fn the_command_sees_a_terminal_on_stdin_and_stdout_and_its_output_comes_back() {
        let Ended::Exited(raw) = sh(
            "test -t 0 && echo in-tty; test -t 1 && echo out-tty; echo err >&2; exit 3",
            Duration::from_secs(30),
        ) else {
            panic!("timed out")
        };
        assert_eq!(raw.code, Some(3));
        assert_eq!(raw.stdout, "in-tty\nout-tty\nerr\n");
    }

    #[test]
    fn a_hung_command_on_a_terminal_is_killed_with_its_group_at_the_deadline() {
        let d = tempfile::tempdir().unwrap();
        let pidfile = d.path().join("child.pid");
        let started = Instant::now();
        let r = sh(
            &format!("sleep 300 & echo $! > {}; wait", pidfile.display()),
            Duration::from_millis(700),
        );
        assert!(matches!(r, Ended::TimedOut));
        assert!(started.elapsed() < Duration::from_secs(30));
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        let gone = || {
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
                .map(|s| s.split(") ").nth(1).is_some_and(|r| r.starts_with('Z')))
                .unwrap_or(true)
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !gone() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(gone(), "the background sleep must be killed too");
    }

    #[test]
    fn a_missing_program_is_reported_not_started() {
        let Err(NotStarted(m)) = run(
            Path::new("/nonexistent/abra"),
            &[],
            &[],
            Duration::from_secs(5),
        ) else {
            panic!("started a missing program")
        };
        assert!(m.contains("/nonexistent/abra") && m.contains("hint"), "{m}");
    }
}
