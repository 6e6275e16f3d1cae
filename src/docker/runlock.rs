//! The run lock: `<run_dir>/lock`, a JSON note (run id, pid, stack, start time) held under an exclusive
//! `flock` for the life of the run. The kernel drops the lock when the process dies, even by SIGKILL, so
//! "is anyone holding it" is the janitor's test for a live run. It never deletes lock files.

#![allow(clippy::incompatible_msrv)] // File::try_lock is std since 1.89; the toolchain here is newer.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use super::DockerError;

/// What a lock file says about its run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockInfo {
    pub run_id: String,
    pub pid: u32,
    pub stack: String,
    /// RFC 3339 UTC.
    pub started: String,
}

/// An exclusive lock on a run directory, held until dropped.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    _file: File,
}

impl RunLock {
    /// Creates `run_dir` if needed, takes the exclusive lock on `<run_dir>/lock` and writes the note.
    /// Fails when another live process holds it.
    pub fn acquire(run_dir: &Path, run_id: &str, stack: &str) -> Result<RunLock, DockerError> {
        std::fs::create_dir_all(run_dir).map_err(|e| DockerError::io(run_dir, e))?;
        let path = run_dir.join("lock");
        let lock_err = |m: String| DockerError::Lock {
            path: path.clone(),
            message: m,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| DockerError::io(&path, e))?;
        // A janitor probing `is_alive` holds a shared lock for an instant: retry briefly before
        // concluding that another run holds it.
        let mut tries = 0;
        let locked = loop {
            match file.try_lock() {
                Err(TryLockError::WouldBlock) if tries < 10 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other,
            }
        };
        match locked {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = Self::read_info(&path)
                    .map(|i| format!("run {} (pid {})", i.run_id, i.pid))
                    .unwrap_or_else(|| "another process".into());
                return Err(lock_err(format!(
                    "held by {holder} (hint: each run needs its own run directory)"
                )));
            }
            Err(TryLockError::Error(e)) => return Err(lock_err(format!("cannot lock: {e}"))),
        }
        let started = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let info = LockInfo {
            run_id: run_id.into(),
            pid: std::process::id(),
            stack: stack.into(),
            started,
        };
        let json = serde_json::to_string(&info).map_err(|e| lock_err(e.to_string()))?;
        file.set_len(0).map_err(|e| DockerError::io(&path, e))?;
        file.rewind().map_err(|e| DockerError::io(&path, e))?;
        file.write_all(json.as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(|e| DockerError::io(&path, e))?;
        Ok(RunLock { path, _file: file })
    }

    /// The lock file's path (what the `cc-ci.run-lock` label carries).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True while some process (this one included) holds the lock at `lock_path`. A missing or
    /// unreadable file is not alive.
    pub fn is_alive(lock_path: &Path) -> bool {
        let Ok(file) = OpenOptions::new().read(true).open(lock_path) else {
            return false;
        };
        match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                false
            }
            Err(TryLockError::WouldBlock) => true,
            Err(TryLockError::Error(_)) => false,
        }
    }

    /// The note in a lock file, when it can be read.
    pub fn read_info(lock_path: &Path) -> Option<LockInfo> {
        let text = std::fs::read_to_string(lock_path).ok()?;
        serde_json::from_str(&text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_alive_and_a_dropped_one_is_not() {
        let d = tempfile::tempdir().unwrap();
        let lock = RunLock::acquire(d.path(), "r1", "s1").unwrap();
        assert!(RunLock::is_alive(lock.path()));
        let info = RunLock::read_info(lock.path()).unwrap();
        assert_eq!((info.run_id.as_str(), info.stack.as_str()), ("r1", "s1"));
        assert_eq!(info.pid, std::process::id());
        let p = lock.path().to_path_buf();
        drop(lock);
        assert!(!RunLock::is_alive(&p));
    }

    #[test]
    fn a_second_acquire_names_the_holder() {
        let d = tempfile::tempdir().unwrap();
        let _held = RunLock::acquire(d.path(), "r1", "s1").unwrap();
        let e = RunLock::acquire(d.path(), "r2", "s1").unwrap_err();
        assert!(e.to_string().contains("run r1"), "{e}");
    }

    #[test]
    fn a_missing_lock_file_is_not_alive() {
        let d = tempfile::tempdir().unwrap();
        assert!(!RunLock::is_alive(&d.path().join("nope")));
    }
}
