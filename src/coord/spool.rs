//! The spool: events written while the database could not take them. Each event is one file
//! `<time>-<id>.json`, written atomically (temporary file, fsync, rename) so a reader sees all of it or
//! nothing. Reconcile ingests and deletes them; this module never touches the database.

use std::path::{Path, PathBuf};

use super::event::Stamped;
use super::sys::write_atomic;
use super::CoordError;

/// Writes `ev` into the spool directory and returns the file's path.
pub fn write(spool: &Path, ev: &Stamped) -> Result<PathBuf, CoordError> {
    let stamp: String = ev
        .ts
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let path = spool.join(format!("{stamp}-{}.json", ev.id));
    let bytes = serde_json::to_vec(ev).map_err(|e| CoordError::Parse {
        path: path.clone(),
        why: e.to_string(),
    })?;
    write_atomic(&path, &bytes, 0o600)?;
    Ok(path)
}

/// The spool files, oldest first (names start with the event time).
pub fn list(spool: &Path) -> Result<Vec<PathBuf>, CoordError> {
    let rd = std::fs::read_dir(spool).map_err(|e| CoordError::io("list the spool", spool, e))?;
    let mut out = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| CoordError::io("list the spool", spool, e))?;
        let name = ent.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".json") && !name.starts_with('.') {
            out.push(ent.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Reads one spool file. `Ok(None)` when it vanished (another reconciler took it).
pub fn read(path: &Path) -> Result<Option<Stamped>, CoordError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CoordError::io("read a spool file", path, e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| CoordError::Parse {
            path: path.to_path_buf(),
            why: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::NewEvent;

    #[test]
    fn spooled_events_read_back_in_time_order() {
        let d = tempfile::tempdir().unwrap();
        let a = Stamped::stamp(NewEvent::new("op", "a", "ok"), "h");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = Stamped::stamp(NewEvent::new("op", "b", "ok"), "h");
        write(d.path(), &b).unwrap();
        write(d.path(), &a).unwrap();
        let files = list(d.path()).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(read(&files[0]).unwrap().unwrap(), a);
        assert_eq!(read(&files[1]).unwrap().unwrap(), b);
        assert!(read(&d.path().join("gone.json")).unwrap().is_none());
    }
}
