//! Opening only regular files: a FIFO, socket, device, directory or symlink planted where a file
//! belongs (in the coord tree, among spec files) is refused without ever blocking on it. The type is
//! checked before opening, the open is non-blocking and does not follow a symlink, and the opened file
//! is checked again. Shared by `coord` and `discover`; it knows nothing about what the files hold.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
