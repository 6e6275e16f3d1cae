//! Small operating-system helpers for the coord tree: host name, advisory file locks, durable atomic
//! writes, directory fsync, and opening only regular files (a FIFO, socket, device or symlink planted
//! in the tree is refused without ever blocking on it). It knows nothing about events or grants.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::CoordError;

/// The host name of this machine (`gethostname(2)`), or `unknown` if the call fails.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: buf is a valid writable buffer of the given length.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".to_string();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// An exclusive `flock(2)` held until dropped. Locks on distinct open files conflict even between
/// threads of one process, which is what the mirror needs.
pub struct FileLock<'a> {
    file: &'a File,
}

impl<'a> FileLock<'a> {
    pub fn exclusive(file: &'a File, path: &Path) -> Result<Self, CoordError> {
        loop {
            // SAFETY: the descriptor is owned by `file`, which outlives the lock.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Ok(FileLock { file });
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(CoordError::io("lock", path, err));
            }
        }
    }
}

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        // SAFETY: the descriptor is still open (borrowed for the lock's lifetime).
        unsafe {
            libc::flock(self.file.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

/// Writes `bytes` to `dest` atomically and durably: a temporary file in the same directory, fsync,
/// rename, fsync of the directory. Readers see either nothing or the whole file.
pub fn write_atomic(dest: &Path, bytes: &[u8], mode: u32) -> Result<(), CoordError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), name));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(|e| CoordError::io("create", &tmp, e))?;
    if let Err(e) = f.write_all(bytes).and_then(|_| f.sync_all()) {
        // A full disk: no half-written temporary file is left behind.
        drop(f);
        let _ = std::fs::remove_file(&tmp);
        return Err(CoordError::io("write", &tmp, e));
    }
    drop(f);
    std::fs::rename(&tmp, dest).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CoordError::io("rename into place", dest, e)
    })?;
    sync_dir(dir)
}

pub use crate::regular::{check_regular, kind, read_regular};

/// Fsyncs a directory so a rename or unlink in it is durable.
pub fn sync_dir(dir: &Path) -> Result<(), CoordError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| CoordError::io("fsync directory", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_is_not_empty() {
        assert!(!hostname().is_empty());
    }

    #[test]
    fn write_atomic_replaces_the_whole_file_and_leaves_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.json");
        write_atomic(&p, b"one", 0o600).unwrap();
        write_atomic(&p, b"two", 0o600).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn write_atomic_names_the_path_when_the_directory_is_missing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("missing").join("f.json");
        let e = write_atomic(&p, b"x", 0o600).unwrap_err().to_string();
        assert!(e.contains("missing"), "{e}");
    }
}
