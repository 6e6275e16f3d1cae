//! The coord tree's keys — the grant key (signs grants) and the ledger key (authenticates spool files
//! and seals the chain head): 32 random bytes in a regular file with mode 0600 owned by the user that
//! runs cc-ci, created with `O_EXCL` so two provisioners racing agree on one key (the loser reads the
//! winner's). A key with any group/other permission bit, another owner, the wrong length, or that is
//! not a regular file is refused. It never prints or logs a key.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use super::sys::sync_dir;
use super::CoordError;

/// Length of the key in bytes.
pub const KEY_LEN: usize = 32;

/// What is at the key's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Missing,
    /// A regular file of the right length with mode 0600 or stricter.
    Sound,
    /// A regular file of the right length whose mode grants group/other bits.
    Insecure {
        mode: u32,
    },
}

/// The grant key's name in messages.
pub const GRANT: &str = "grant key";
/// The ledger key's name in messages.
pub const LEDGER: &str = "ledger key";

/// The effective user id of this process.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// An error for a path owned by someone else than the user running cc-ci.
pub fn foreign_owner(path: &Path, what: &str, uid: u32) -> CoordError {
    CoordError::Invalid {
        path: path.to_path_buf(),
        what: format!(
            "the {what} is owned by uid {uid}, not by uid {} who runs cc-ci",
            euid()
        ),
        hint: format!(
            "run cc-ci as its owner, or `chown {} {}`",
            euid(),
            path.display()
        ),
    }
}

/// Waits (up to 2 s) while the key is a file created in the last two seconds and still shorter than
/// [`KEY_LEN`]: another provisioner made it with `O_EXCL` and is writing it.
fn settle(path: &Path) {
    let fresh_and_short = || {
        std::fs::symlink_metadata(path).is_ok_and(|m| {
            m.is_file()
                && m.len() < KEY_LEN as u64
                && m.modified()
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age < Duration::from_secs(2))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    while fresh_and_short() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Inspects the key named `what` without reading it. Not a regular file, another owner or the wrong
/// length is an error.
pub fn inspect(path: &Path, what: &str) -> Result<KeyStatus, CoordError> {
    settle(path);
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(KeyStatus::Missing),
        Err(e) => return Err(CoordError::io("inspect the key", path, e)),
    };
    if !meta.file_type().is_file() {
        return Err(CoordError::Invalid {
            path: path.to_path_buf(),
            what: format!(
                "the {what} is {}, not a regular file",
                super::sys::kind(meta.file_type())
            ),
            hint: format!(
                "remove it and run `cc-ci coord provision` (rm -r {})",
                path.display()
            ),
        });
    }
    if meta.uid() != euid() {
        return Err(foreign_owner(path, what, meta.uid()));
    }
    if meta.len() != KEY_LEN as u64 {
        let lost = if what == GRANT {
            "grants signed with the old key stop working"
        } else {
            "spooled events and the seal made with the old key stop verifying"
        };
        return Err(CoordError::Invalid {
            path: path.to_path_buf(),
            what: format!("the {what} is {} bytes, not {KEY_LEN}", meta.len()),
            hint: format!(
                "remove it and run `cc-ci coord provision` to make a new key (rm {}); {lost}",
                path.display()
            ),
        });
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Ok(KeyStatus::Insecure { mode });
    }
    Ok(KeyStatus::Sound)
}

/// Creates the key if it is missing. Returns whether this call created it. When another process
/// creates it first, waits briefly for its 32 bytes to land and then checks it like any existing key.
pub fn create_or_adopt(path: &Path) -> Result<bool, CoordError> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut f) => {
            let mut key = [0u8; KEY_LEN];
            getrandom::getrandom(&mut key).map_err(|e| {
                CoordError::io(
                    "generate the grant key",
                    path,
                    std::io::Error::other(e.to_string()),
                )
            })?;
            f.write_all(&key)
                .and_then(|_| f.sync_all())
                .map_err(|e| CoordError::io("write the grant key", path, e))?;
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let deadline = Instant::now() + Duration::from_secs(2);
            while std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) < KEY_LEN as u64
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(false)
        }
        Err(e) => Err(CoordError::io("create the grant key", path, e)),
    }
}

/// Sets the key's mode to 0600.
pub fn repair(path: &Path) -> Result<(), CoordError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| CoordError::io("chmod 600 the grant key", path, e))
}

/// Reads a sound key named `what`. Missing, insecure or invalid keys are errors.
pub fn load(path: &Path, what: &'static str) -> Result<[u8; KEY_LEN], CoordError> {
    match inspect(path, what)? {
        KeyStatus::Missing => Err(CoordError::NotProvisioned {
            path: path.to_path_buf(),
        }),
        KeyStatus::Insecure { mode } => Err(CoordError::KeyInsecure {
            what,
            path: path.to_path_buf(),
            mode,
        }),
        KeyStatus::Sound => {
            let bytes = super::sys::read_regular(path, KEY_LEN as u64)
                .map_err(|e| CoordError::io("read the key", path, e))?;
            bytes.try_into().map_err(|_| CoordError::Invalid {
                path: path.to_path_buf(),
                what: format!("the {what} changed length while being read"),
                hint: "run `cc-ci coord provision`".into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_is_32_bytes_0600_and_adopted_on_the_second_call() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k");
        assert!(create_or_adopt(&p).unwrap());
        assert_eq!(inspect(&p, GRANT).unwrap(), KeyStatus::Sound);
        let k1 = load(&p, GRANT).unwrap();
        assert!(!create_or_adopt(&p).unwrap());
        assert_eq!(load(&p, GRANT).unwrap(), k1);
        assert_ne!(k1, [0u8; KEY_LEN]);
    }

    #[test]
    fn a_group_readable_key_is_insecure_until_repaired() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k");
        create_or_adopt(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(
            inspect(&p, GRANT).unwrap(),
            KeyStatus::Insecure { mode: 0o640 }
        );
        assert!(matches!(
            load(&p, GRANT),
            Err(CoordError::KeyInsecure { .. })
        ));
        repair(&p).unwrap();
        assert_eq!(inspect(&p, GRANT).unwrap(), KeyStatus::Sound);
    }

    #[test]
    fn wrong_length_and_directories_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k");
        std::fs::write(&p, b"short").unwrap();
        let e = inspect(&p, GRANT).unwrap_err().to_string();
        assert!(e.contains("5 bytes") && e.contains("hint"), "{e}");
        let dir = d.path().join("kd");
        std::fs::create_dir(&dir).unwrap();
        let e = inspect(&dir, LEDGER).unwrap_err().to_string();
        assert!(
            e.contains("ledger key is a directory, not a regular file"),
            "{e}"
        );
    }

    #[test]
    fn a_key_owned_by_another_user_is_refused_with_the_chown_to_fix_it() {
        // Root can hand a file to another user; anyone else cannot, and meets a root-owned file.
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k");
        create_or_adopt(&p).unwrap();
        let other = if euid() == 0 { 65534 } else { 0 };
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        let owned = unsafe { libc::chown(c.as_ptr(), other, u32::MAX) } == 0;
        let p = if owned {
            p
        } else {
            std::path::PathBuf::from("/etc/passwd")
        };
        let e = inspect(&p, GRANT).unwrap_err().to_string();
        assert!(
            e.contains(&format!("owned by uid {other}")) && e.contains("chown"),
            "{e}"
        );
    }
}
