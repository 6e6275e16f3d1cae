//! Small operating-system helpers for the coord tree: host name, advisory file locks, durable atomic
//! writes, directory fsync, and opening only regular files (a FIFO, socket, device or symlink planted
//! in the tree is refused without ever blocking on it). It knows nothing about events or grants.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
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
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| CoordError::io("write", &tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, dest).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CoordError::io("rename into place", dest, e)
    })?;
    sync_dir(dir)
}

/// What kind of file a file type is, for messages: `a FIFO`, `a directory`, `a symlink`, ….
pub fn kind(ft: std::fs::FileType) -> &'static str {
    if ft.is_file() {
        "a regular file"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_symlink() {
        "a symlink"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_char_device() {
        "a character device"
    } else {
        "not a regular file"
    }
}

fn not_regular(ft: std::fs::FileType) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("it is {}, not a regular file", kind(ft)),
    )
}

/// Checks that `path`, if it exists, is a regular file (not followed if a symlink). `Ok(false)` when
/// it does not exist.
pub fn check_regular(path: &Path) -> std::io::Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => Ok(true),
        Ok(m) => Err(not_regular(m.file_type())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Opens `path` for reading only if it is a regular file. The type is checked before opening (a
/// FIFO is never opened), the open itself is non-blocking and does not follow a symlink (a FIFO
/// swapped in meanwhile cannot block it), and the opened file is checked again.
pub fn open_regular(path: &Path) -> std::io::Result<File> {
    let m = std::fs::symlink_metadata(path)?;
    if !m.file_type().is_file() {
        return Err(not_regular(m.file_type()));
    }
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)?;
    let m = f.metadata()?;
    if !m.file_type().is_file() {
        return Err(not_regular(m.file_type()));
    }
    Ok(f)
}

/// Reads a regular file of at most `max` bytes (see [`open_regular`]).
pub fn read_regular(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let f = open_regular(path)?;
    let mut buf = Vec::new();
    f.take(max + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is larger than {max} bytes"),
        ));
    }
    Ok(buf)
}

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

    fn fifo(p: &Path) {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn a_fifo_is_refused_without_blocking_and_named() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.json");
        fifo(&p);
        let e = read_regular(&p, 100).unwrap_err();
        assert!(e.to_string().contains("a FIFO"), "{e}");
        assert!(check_regular(&p).is_err());
        std::os::unix::fs::symlink("/etc/hostname", d.path().join("l")).unwrap();
        let e = open_regular(&d.path().join("l")).unwrap_err();
        assert!(e.to_string().contains("a symlink"), "{e}");
        assert!(!check_regular(&d.path().join("missing")).unwrap());
    }

    #[test]
    fn a_file_over_the_limit_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("big");
        std::fs::write(&p, vec![b'x'; 11]).unwrap();
        assert_eq!(read_regular(&p, 11).unwrap().len(), 11);
        let e = read_regular(&p, 10).unwrap_err();
        assert!(e.to_string().contains("larger than 10 bytes"), "{e}");
    }

    #[test]
    fn write_atomic_names_the_path_when_the_directory_is_missing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("missing").join("f.json");
        let e = write_atomic(&p, b"x", 0o600).unwrap_err().to_string();
        assert!(e.contains("missing"), "{e}");
    }
}
