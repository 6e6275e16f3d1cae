//! The coord tree's keys — the grant key (signs grants) and the ledger key (authenticates spool files
//! and seals the chain head): 32 random bytes in a regular file with mode 0600 owned by the user that
//! runs cc-ci, written whole to a temporary file and hard-linked into place, so two provisioners
//! racing agree on one key (the loser adopts the winner's) and no reader ever sees a partial key. A key with any group/other permission bit, another owner, the wrong length, or that is
//! not a regular file is refused. It never prints or logs a key.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

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

/// Inspects the key named `what` without reading it. Not a regular file, another owner or the wrong
/// length is an error.
pub fn inspect(path: &Path, what: &str) -> Result<KeyStatus, CoordError> {
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

/// Creates the key if it is missing. Returns whether this call created it. The key is written whole to
/// a temporary file first and then hard-linked into place (`link(2)` never replaces), so a reader sees
/// no key or a whole key, never a partial one; when another process links its key first, this call
/// adopts that one and the caller checks it like any existing key.
pub fn create_or_adopt(path: &Path) -> Result<bool, CoordError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut key = [0u8; KEY_LEN];
    let mut salt = [0u8; 8];
    getrandom::getrandom(&mut key)
        .and_then(|_| getrandom::getrandom(&mut salt))
        .map_err(|e| {
            CoordError::io(
                "generate the key",
                path,
                std::io::Error::other(e.to_string()),
            )
        })?;
    let tmp = dir.join(format!(
        ".tmp-key-{}-{:016x}",
        std::process::id(),
        u64::from_ne_bytes(salt)
    ));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(&key).and_then(|_| f.sync_all()));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(CoordError::io("write the new key", &tmp, e));
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir(dir)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(CoordError::io("link the new key into place", path, e)),
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
    fn racing_creators_agree_on_one_key_and_a_reader_never_sees_a_partial_one() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k");
        for _ in 0..20 {
            let _ = std::fs::remove_file(&p);
            let done = std::sync::atomic::AtomicBool::new(false);
            let created = std::thread::scope(|s| {
                let reader = s.spawn(|| {
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        // A partial key would be refused as "N bytes, not 32".
                        inspect(&p, GRANT).expect("a reader sees no key or a whole key");
                    }
                });
                let creators: Vec<_> = (0..4)
                    .map(|_| s.spawn(|| create_or_adopt(&p).unwrap()))
                    .collect();
                let n = creators
                    .into_iter()
                    .map(|c| c.join().unwrap())
                    .filter(|&won| won)
                    .count();
                done.store(true, std::sync::atomic::Ordering::Relaxed);
                reader.join().unwrap();
                n
            });
            assert_eq!(created, 1, "exactly one creator links its key");
            assert_eq!(inspect(&p, GRANT).unwrap(), KeyStatus::Sound);
        }
        let left: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("k")],
            "no temporary file is left"
        );
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
