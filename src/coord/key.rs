//! The grant key: 32 random bytes in a regular file with mode 0600, created with `O_EXCL` so two
//! provisioners racing agree on one key (the loser reads the winner's). A key with any group/other
//! permission bit, the wrong length, or that is not a regular file is refused. It never prints or
//! logs the key.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
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

/// Inspects the key without reading it. Not a regular file or the wrong length is an error.
pub fn inspect(path: &Path) -> Result<KeyStatus, CoordError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(KeyStatus::Missing),
        Err(e) => return Err(CoordError::io("inspect the grant key", path, e)),
    };
    if !meta.file_type().is_file() {
        return Err(CoordError::Invalid {
            path: path.to_path_buf(),
            what: "the grant key is not a regular file".into(),
            hint: format!(
                "remove it and run `cc-ci coord provision` (rm -r {})",
                path.display()
            ),
        });
    }
    if meta.len() != KEY_LEN as u64 {
        return Err(CoordError::Invalid {
            path: path.to_path_buf(),
            what: format!("the grant key is {} bytes, not {KEY_LEN}", meta.len()),
            hint: format!(
                "remove it and run `cc-ci coord provision` to make a new key (rm {}); grants signed with the old key stop working",
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

/// Reads a sound key. Missing, insecure or invalid keys are errors.
pub fn load(path: &Path) -> Result<[u8; KEY_LEN], CoordError> {
    match inspect(path)? {
        KeyStatus::Missing => Err(CoordError::NotProvisioned {
            path: path.to_path_buf(),
        }),
        KeyStatus::Insecure { mode } => Err(CoordError::KeyInsecure {
            path: path.to_path_buf(),
            mode,
        }),
        KeyStatus::Sound => {
            let bytes =
                std::fs::read(path).map_err(|e| CoordError::io("read the grant key", path, e))?;
            bytes.try_into().map_err(|_| CoordError::Invalid {
                path: path.to_path_buf(),
                what: "the grant key changed length while being read".into(),
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
        assert_eq!(inspect(&p).unwrap(), KeyStatus::Sound);
        let k1 = load(&p).unwrap();
        assert!(!create_or_adopt(&p).unwrap());
        assert_eq!(load(&p).unwrap(), k1);
        assert_ne!(k1, [0u8; KEY_LEN]);
    }

    #[test]
    fn a_group_readable_key_is_insecure_until_repaired() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k");
        create_or_adopt(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(inspect(&p).unwrap(), KeyStatus::Insecure { mode: 0o640 });
        assert!(matches!(load(&p), Err(CoordError::KeyInsecure { .. })));
        repair(&p).unwrap();
        assert_eq!(inspect(&p).unwrap(), KeyStatus::Sound);
    }

    #[test]
    fn wrong_length_and_directories_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k");
        std::fs::write(&p, b"short").unwrap();
        let e = inspect(&p).unwrap_err().to_string();
        assert!(e.contains("5 bytes") && e.contains("hint"), "{e}");
        let dir = d.path().join("kd");
        std::fs::create_dir(&dir).unwrap();
        assert!(inspect(&dir)
            .unwrap_err()
            .to_string()
            .contains("not a regular file"));
    }
}
