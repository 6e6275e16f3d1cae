//! The per-host recipe cache: one mirror clone per recipe source under `cache_dir`, updated with
//! `git fetch` under an exclusive advisory file lock (`flock`, released by the kernel when a process
//! dies, so a crashed run never blocks the next). Runs only read the cache while holding the shared
//! lock, and copy out of it; no run ever checks anything out inside the cache.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::git::{git_limited, GitLimits};
use super::RecipeError;

/// How long a run waits for another process's cache update before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(600);

/// A held lock on a cache entry; released on drop (and by the kernel if the process dies).
#[derive(Debug)]
pub struct CacheLock {
    _file: File,
    path: PathBuf,
}

impl CacheLock {
    /// Waits up to `wait` for an exclusive lock on `path` (created if missing).
    pub fn exclusive(path: &Path, wait: Duration) -> Result<CacheLock, RecipeError> {
        Self::acquire(path, wait, true)
    }

    /// Waits up to `wait` for a shared lock on `path` (created if missing).
    pub fn shared(path: &Path, wait: Duration) -> Result<CacheLock, RecipeError> {
        Self::acquire(path, wait, false)
    }

    /// Takes the exclusive lock only if nobody holds it now.
    pub fn try_exclusive(path: &Path) -> Result<Option<CacheLock>, RecipeError> {
        let file = open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(CacheLock {
                _file: file,
                path: path.to_path_buf(),
            })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(lock_err(path, e)),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn acquire(path: &Path, wait: Duration, exclusive: bool) -> Result<CacheLock, RecipeError> {
        let file = open(path)?;
        let deadline = Instant::now() + wait;
        let mut pause = Duration::from_millis(20);
        loop {
            let r = if exclusive {
                file.try_lock()
            } else {
                file.try_lock_shared()
            };
            match r {
                Ok(()) => {
                    return Ok(CacheLock {
                        _file: file,
                        path: path.to_path_buf(),
                    })
                }
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(RecipeError::Lock {
                        path: path.to_path_buf(),
                        message: format!(
                            "still held by another process after {wait:?} (hint: a cache update \
                             is hung; find it with `fuser {}`)",
                            path.display()
                        ),
                    })
                }
                Err(TryLockError::Error(e)) => return Err(lock_err(path, e)),
            }
        }
    }
}

fn open(path: &Path) -> Result<File, RecipeError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .read(true)
        .open(path)
        .map_err(|e| lock_err(path, e))
}

fn lock_err(path: &Path, e: std::io::Error) -> RecipeError {
    RecipeError::Lock {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The cache entry of a fetch URL: `<cache_dir>/<name>-<12 hex of sha256(url)>.git`, so two sources
/// with the same recipe name (a fork and its upstream) never share a mirror.
pub fn entry_path(cache_dir: &Path, name: &str, url: &str) -> PathBuf {
    let h = Sha256::digest(url.as_bytes());
    cache_dir.join(format!("{name}-{}.git", &hex::encode(h)[..12]))
}

/// The lock file of a cache entry.
pub fn lock_path(entry: &Path) -> PathBuf {
    let mut s = entry.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// Creates or updates the mirror of `url` at `entry`, each git call within `limits`. The caller holds
/// the exclusive lock. A fetch that timed out or was interrupted is not retried as a fresh clone.
pub(crate) fn update_mirror(
    entry: &Path,
    url: &str,
    limits: &GitLimits,
) -> Result<(), RecipeError> {
    let parent = entry.parent().unwrap_or(Path::new("."));
    if entry.join("HEAD").exists() {
        // We hold the exclusive lock, so no git process of ours works in the mirror: any git lock
        // file in it was left by a killed process and would make every later fetch fail.
        remove_stale_git_locks(entry);
        let fetched = git_limited(
            entry,
            &["fetch", "--quiet", "--prune", "--force", "origin"],
            limits,
        );
        match fetched {
            Ok(_) => return Ok(()),
            Err(e @ (RecipeError::GitTimeout { .. } | RecipeError::GitInterrupted { .. })) => {
                return Err(e)
            }
            // A damaged mirror heals by a fresh clone; if that fails too, the fetch error is the news.
            Err(e) => return fresh_clone(entry, parent, url, limits).map_err(|_| e),
        }
    }
    fresh_clone(entry, parent, url, limits)
}

fn fresh_clone(
    entry: &Path,
    parent: &Path,
    url: &str,
    limits: &GitLimits,
) -> Result<(), RecipeError> {
    // Clone into a temporary directory and swap it into place only when complete, so a crash never
    // leaves a half-made mirror behind.
    let tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempdir_in(parent)
        .map_err(|e| RecipeError::io(parent, e))?;
    let target = tmp.path().join("m.git");
    let target_s = target.to_string_lossy().into_owned();
    git_limited(
        parent,
        &["clone", "--quiet", "--mirror", "--", url, &target_s],
        limits,
    )?;
    git_limited(&target, &["config", "gc.auto", "0"], limits)?;
    if entry.exists() {
        let old = tmp.path().join("old.git");
        std::fs::rename(entry, &old).map_err(|e| RecipeError::io(entry, e))?;
    }
    std::fs::rename(&target, entry).map_err(|e| RecipeError::io(entry, e))?;
    Ok(())
}

/// Removes `*.lock` files under a mirror's git dir (`packed-refs.lock`, `refs/**.lock`, …).
fn remove_stale_git_locks(dir: &Path) {
    let Ok(it) = std::fs::read_dir(dir) else {
        return;
    };
    for e in it.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if p.file_name().is_some_and(|n| n != "objects") {
                remove_stale_git_locks(&p);
            }
        } else if p.extension().is_some_and(|x| x == "lock") {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// Fetches one extra ref or commit into the mirror (for a `--ref` the mirror's refs do not reach).
/// The caller holds the exclusive lock. Returns false when the source does not have it; a timeout or
/// an interrupt is an error.
pub(crate) fn fetch_extra(
    entry: &Path,
    what: &str,
    limits: &GitLimits,
) -> Result<bool, RecipeError> {
    match git_limited(entry, &["fetch", "--quiet", "origin", "--", what], limits) {
        Ok(_) => Ok(true),
        Err(e @ (RecipeError::GitTimeout { .. } | RecipeError::GitInterrupted { .. })) => Err(e),
        Err(_) => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_lock_excludes_and_is_released_on_drop() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.lock");
        let held = CacheLock::exclusive(&p, Duration::from_secs(1)).unwrap();
        assert!(CacheLock::try_exclusive(&p).unwrap().is_none());
        let e = CacheLock::shared(&p, Duration::from_millis(100)).unwrap_err();
        assert!(e.to_string().contains("still held"), "{e}");
        drop(held);
        // Released: a waiter gets it. (A bounded wait, not a single try: another test of this process
        // forking a child between our open and its exec briefly shares the descriptor, lock included.)
        assert!(CacheLock::exclusive(&p, Duration::from_secs(10)).is_ok());
    }

    #[test]
    fn shared_locks_coexist() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.lock");
        let _a = CacheLock::shared(&p, Duration::from_secs(1)).unwrap();
        let _b = CacheLock::shared(&p, Duration::from_secs(1)).unwrap();
        assert!(CacheLock::try_exclusive(&p).unwrap().is_none());
    }

    #[test]
    fn entries_differ_by_url_and_keep_the_name() {
        let c = Path::new("/c");
        let a = entry_path(c, "hello", "https://a/hello.git");
        let b = entry_path(c, "hello", "https://b/hello.git");
        assert_ne!(a, b);
        assert!(a
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("hello-"));
        assert_eq!(lock_path(&a).extension().unwrap(), "lock");
    }
}
