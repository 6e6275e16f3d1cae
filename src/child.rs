//! External processes (git, abra, pytest, Chromium, a recipe's install script): each in its own process
//! group, waited for under a deadline, and killed with its whole group when the deadline passes, so
//! nothing it started outlives it. One mechanism for every caller; it never decides what a failure
//! means (each caller words its own error).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

/// How a process run under a deadline ended.
#[derive(Debug)]
pub enum Ended<T> {
    Exited(T),
    /// The deadline passed: the process group was killed and the process reaped.
    TimedOut,
}

/// Makes `cmd` lead a process group of its own (call before spawning).
pub fn own_group(cmd: &mut Command) -> &mut Command {
    cmd.process_group(0)
}

/// Kills the process group led by `pid` (the process and everything it started).
pub fn kill_group(pid: u32) {
    let Ok(pgid) = i32::try_from(pid) else { return };
    if pgid > 1 {
        // SAFETY: kill(2) takes plain integers; a negative pid names a process group.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

/// Kills `child`'s group while `child` is unreaped (so its pid, and with it the group id, cannot have
/// been reused), then reaps it.
pub fn stop(child: &mut Child) {
    kill_group(child.id());
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits at most `deadline` for `child` (spawned in its own group); past it, or when waiting fails,
/// the group is killed and the child reaped.
pub fn wait_within(child: &mut Child, deadline: Duration) -> std::io::Result<Ended<ExitStatus>> {
    match child.wait_timeout(deadline) {
        Ok(Some(status)) => Ok(Ended::Exited(status)),
        Ok(None) => {
            stop(child);
            Ok(Ended::TimedOut)
        }
        Err(e) => {
            stop(child);
            Err(e)
        }
    }
}

/// Runs `cmd` in its own group with a null stdin and stdout/stderr captured (read as it runs, so a
/// chatty process never blocks on a full pipe), waiting at most `deadline`. `Err` when it could not be
/// started or waited for.
pub fn output_within(cmd: &mut Command, deadline: Duration) -> std::io::Result<Ended<Output>> {
    let mut child = own_group(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    let ended = wait_within(&mut child, deadline);
    // The group is gone or has exited: the pipes close and the readers end.
    let (stdout, stderr) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    Ok(match ended? {
        Ended::Exited(status) => Ended::Exited(Output {
            status,
            stdout,
            stderr,
        }),
        Ended::TimedOut => Ended::TimedOut,
    })
}

fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn output_is_captured_apart_and_the_status_kept() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
        let Ended::Exited(o) = output_within(&mut cmd, Duration::from_secs(10)).unwrap() else {
            panic!("timed out");
        };
        assert_eq!(o.status.code(), Some(3));
        assert_eq!(o.stdout, b"out\n");
        assert_eq!(o.stderr, b"err\n");
    }

    #[test]
    fn at_the_deadline_the_whole_group_dies_even_a_child_holding_the_pipe() {
        let d = tempfile::tempdir().unwrap();
        let pidfile = d.path().join("pid");
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("sleep 30 & echo $! > {}; wait", pidfile.display()));
        let start = Instant::now();
        let ended = output_within(&mut cmd, Duration::from_millis(500)).unwrap();
        assert!(matches!(ended, Ended::TimedOut));
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // SAFETY: signal 0 only checks that the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.split_whitespace().nth(2) == Some("Z"));
        assert!(
            !alive || zombie,
            "the grandchild {pid} outlived the deadline"
        );
    }
}
