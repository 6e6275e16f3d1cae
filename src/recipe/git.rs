//! A thin, synchronous wrapper around the `git` binary: one place that sets a non-interactive
//! environment, gives every call a deadline, and turns failures into [`RecipeError`]. Each git runs in
//! its own process group; on its deadline, or when the process-wide interrupt flag is raised
//! (SIGINT/SIGTERM, see [`interrupt_flag`]), the whole group is killed before the call returns, so no
//! git (or ssh, or remote helper) outlives it. It never touches a directory it was not given.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use super::RecipeError;

/// How long one git call may take unless the caller says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// How often a running git is checked for its deadline and the interrupt flag.
const POLL: Duration = Duration::from_millis(50);

/// The flag that interrupts every git call of this process when raised. The runner registers it for
/// SIGINT and SIGTERM (`signal_hook::flag::register`); a raised flag kills the running git's process
/// group and makes the call fail with [`RecipeError::GitInterrupted`].
pub fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    Arc::clone(FLAG.get_or_init(|| Arc::new(AtomicBool::new(false))))
}

/// The deadline and the interrupt flag of git calls.
#[derive(Debug, Clone)]
pub struct GitLimits {
    /// Wall-clock limit of one git call (clone, fetch, …).
    pub timeout: Duration,
    /// Raised: stop at once.
    pub cancel: Arc<AtomicBool>,
}

impl Default for GitLimits {
    /// [`DEFAULT_TIMEOUT`] and the process-wide [`interrupt_flag`].
    fn default() -> Self {
        GitLimits {
            timeout: DEFAULT_TIMEOUT,
            cancel: interrupt_flag(),
        }
    }
}

impl GitLimits {
    /// The default flag with another timeout.
    pub fn with_timeout(timeout: Duration) -> Self {
        GitLimits {
            timeout,
            ..Self::default()
        }
    }
}

/// Runs `git -C dir args…` with the default limits and returns its trimmed stdout.
pub(crate) fn git(dir: &Path, args: &[&str]) -> Result<String, RecipeError> {
    git_limited(dir, args, &GitLimits::default())
}

/// Runs `git -C dir args…` within `limits` and returns its trimmed stdout.
pub(crate) fn git_limited(
    dir: &Path,
    args: &[&str],
    limits: &GitLimits,
) -> Result<String, RecipeError> {
    let out = run(dir, args, limits)?;
    if !out.success {
        return Err(RecipeError::Git {
            args: args.join(" "),
            dir: dir.to_path_buf(),
            stderr: out.stderr.trim().to_string(),
        });
    }
    Ok(out.stdout.trim().to_string())
}

/// Runs `git -C dir args…` and reports only whether it succeeded (for probes like `cat-file -e`).
pub(crate) fn git_ok(dir: &Path, args: &[&str]) -> Result<bool, RecipeError> {
    run(dir, args, &GitLimits::default()).map(|o| o.success)
}

struct Finished {
    success: bool,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str], limits: &GitLimits) -> Result<Finished, RecipeError> {
    if limits.cancel.load(Ordering::SeqCst) {
        return Err(interrupted(dir, args));
    }
    let mut child = command(dir, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(RecipeError::GitSpawn)?;
    let deadline = Instant::now() + limits.timeout;
    let (tx, rx) = mpsc::channel();
    let readers = [
        reader(child.stdout.take(), 0, tx.clone()),
        reader(child.stderr.take(), 1, tx),
    ];
    let status = loop {
        match child.wait_timeout(POLL) {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                crate::child::stop(&mut child);
                return Err(RecipeError::GitSpawn(e));
            }
        }
        if let Some(e) = overdue(&mut child, dir, args, limits, deadline) {
            return Err(e);
        }
    };
    // git has exited; its pipes close when every process that inherited them has too.
    let mut out = [String::new(), String::new()];
    for _ in readers {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left.max(POLL)) {
            Ok((i, text)) => out[i] = text,
            Err(_) => {
                // A descendant still holds a pipe open past the deadline: it is in git's group.
                crate::child::kill_group(child.id());
                return Err(timed_out(dir, args, limits));
            }
        }
    }
    let [stdout, stderr] = out;
    Ok(Finished {
        success: status.success(),
        stdout,
        stderr,
    })
}

/// Kills the group and returns the error when the deadline passed or the flag was raised.
fn overdue(
    child: &mut Child,
    dir: &Path,
    args: &[&str],
    limits: &GitLimits,
    deadline: Instant,
) -> Option<RecipeError> {
    let e = if limits.cancel.load(Ordering::SeqCst) {
        interrupted(dir, args)
    } else if Instant::now() >= deadline {
        timed_out(dir, args, limits)
    } else {
        return None;
    };
    crate::child::stop(child);
    Some(e)
}

fn reader<R: Read + Send + 'static>(
    pipe: Option<R>,
    index: usize,
    tx: mpsc::Sender<(usize, String)>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        let _ = tx.send((index, String::from_utf8_lossy(&buf).into_owned()));
    })
}

fn timed_out(dir: &Path, args: &[&str], limits: &GitLimits) -> RecipeError {
    RecipeError::GitTimeout {
        args: args.join(" "),
        dir: dir.to_path_buf(),
        timeout: limits.timeout,
    }
}

fn interrupted(dir: &Path, args: &[&str]) -> RecipeError {
    RecipeError::GitInterrupted {
        args: args.join(" "),
        dir: dir.to_path_buf(),
    }
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(["-c", "advice.detachedHead=false", "-c", "gc.auto=0"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        // ssh must fail rather than ask (host keys, passwords): there is nobody to answer.
        .env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        .stdin(Stdio::null());
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A git:// remote on 127.0.0.1 that accepts and never answers.
    fn silent_remote() -> (TcpListener, String) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("git://127.0.0.1:{}/x.git", l.local_addr().unwrap().port());
        (l, url)
    }

    /// Whether `pid` still runs (a zombie waiting to be reaped by init counts as gone).
    fn running(pid: i32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => !stat
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z')),
            Err(_) => false,
        }
    }

    #[test]
    fn a_silent_remote_times_out_and_leaves_no_process_of_its_group() {
        let (l, url) = silent_remote();
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("c").to_string_lossy().into_owned();
        let limits = GitLimits {
            timeout: Duration::from_millis(1500),
            cancel: Arc::new(AtomicBool::new(false)),
        };
        let started = Instant::now();
        let e = git_limited(d.path(), &["clone", "--", &url, &dest], &limits).unwrap_err();
        assert!(matches!(e, RecipeError::GitTimeout { .. }), "{e}");
        assert!(e.to_string().contains("1500ms"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(30));
        // The server side sees the client's end of the connection closed: nobody holds it any more.
        let (mut conn, _) = l.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buf = Vec::new();
        let eof = conn.read_to_end(&mut buf);
        assert!(eof.is_ok(), "the connection is still held open: {eof:?}");
    }

    #[test]
    fn a_raised_flag_kills_the_running_git_and_its_group() {
        let (_l, url) = silent_remote();
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("c").to_string_lossy().into_owned();
        let cancel = Arc::new(AtomicBool::new(false));
        let limits = GitLimits {
            timeout: Duration::from_secs(300),
            cancel: Arc::clone(&cancel),
        };
        let raiser = {
            let c = Arc::clone(&cancel);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(500));
                c.store(true, Ordering::SeqCst);
            })
        };
        let started = Instant::now();
        let e = git_limited(d.path(), &["clone", "--", &url, &dest], &limits).unwrap_err();
        raiser.join().unwrap();
        assert!(matches!(e, RecipeError::GitInterrupted { .. }), "{e}");
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn a_timeout_kills_what_git_started_too() {
        // An alias stands in for git's own children (ssh, remote helpers): they run in git's group.
        let d = tempfile::tempdir().unwrap();
        let limits = GitLimits {
            timeout: Duration::from_millis(800),
            cancel: Arc::new(AtomicBool::new(false)),
        };
        let pidfile = d.path().join("pid");
        let alias = format!(
            "alias.hang=!sh -c 'sleep 300 & echo $! > {}; wait'",
            pidfile.display()
        );
        let e = git_limited(d.path(), &["-c", &alias, "hang"], &limits).unwrap_err();
        assert!(matches!(e, RecipeError::GitTimeout { .. }), "{e}");
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let until = Instant::now() + Duration::from_secs(5);
        while running(pid) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!running(pid), "the grandchild {pid} survived git's timeout");
    }

    #[test]
    fn a_raised_flag_stops_a_call_before_it_starts() {
        let d = tempfile::tempdir().unwrap();
        let limits = GitLimits {
            timeout: DEFAULT_TIMEOUT,
            cancel: Arc::new(AtomicBool::new(true)),
        };
        let e = git_limited(d.path(), &["init"], &limits).unwrap_err();
        assert!(matches!(e, RecipeError::GitInterrupted { .. }), "{e}");
        assert!(!d.path().join(".git").exists());
    }
}
