//! The spool: events written while the database could not take them. Each event is one file
//! `<time>-<id>.json` holding `{"v": 1, "event": {…}, "mac": hex}`, the MAC made with the ledger key
//! over the event's canonical JSON, written atomically (temporary file, fsync, rename) so a reader
//! sees all of it or nothing. Reading authenticates and validates a file; anything that is not a
//! regular file, too large, unauthenticated or malformed is rejected with the reason, and reconcile
//! moves it to `spool/quarantine/`. This module never touches the database.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::event::{canonical, format_rfc3339, parse_rfc3339, Stamped};
use super::key::KEY_LEN;
use super::seal::{spool_mac, spool_mac_verifies};
use super::sys::{read_regular, sync_dir, write_atomic};
use super::CoordError;

/// The spool file format version.
const VERSION: u32 = 1;

/// The largest spool file read; an event is small.
pub const MAX_SPOOL_BYTES: u64 = 1 << 20;

/// Where rejected files go.
pub const QUARANTINE: &str = "quarantine";

/// A spool file as written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpoolFile {
    v: u32,
    event: Stamped,
    mac: String,
}

/// The canonical text the MAC is computed over.
fn canonical_event(ev: &Stamped) -> String {
    canonical(&serde_json::to_value(ev).unwrap_or_default())
}

/// The file name of a spooled event: its time (digits only, so names sort by time) and its id.
pub fn file_name(ev: &Stamped) -> String {
    let stamp: String = ev
        .ts
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    format!("{stamp}-{}.json", ev.id)
}

/// Writes `ev`, authenticated with `key`, into the spool directory and returns the file's path.
pub fn write(spool: &Path, ev: &Stamped, key: &[u8; KEY_LEN]) -> Result<PathBuf, CoordError> {
    let path = spool.join(file_name(ev));
    write_atomic(&path, to_line(ev, key).as_bytes(), 0o600)?;
    Ok(path)
}

/// `ev` authenticated with `key`, as one line of JSON without the newline: the content of a spool
/// file, and one line of a fallback file (`cc-ci coord reconcile --from`).
pub fn to_line(ev: &Stamped, key: &[u8; KEY_LEN]) -> String {
    let file = SpoolFile {
        v: VERSION,
        mac: spool_mac(key, &canonical_event(ev)),
        event: ev.clone(),
    };
    // A Stamped is plain data: serializing it cannot fail.
    serde_json::to_string(&file).unwrap_or_default()
}

/// Parses, authenticates and validates one spool record (a spool file's bytes or a fallback line).
pub fn parse(bytes: &[u8], key: &[u8; KEY_LEN]) -> Result<Stamped, String> {
    let file: SpoolFile = serde_json::from_slice(bytes).map_err(|e| format!("malformed: {e}"))?;
    if file.v != VERSION {
        return Err(format!("unknown spool format version {}", file.v));
    }
    if !spool_mac_verifies(key, &canonical_event(&file.event), &file.mac) {
        return Err(
            "unauthenticated: its MAC does not verify under this host's ledger key (forged or altered)"
                .into(),
        );
    }
    validate(&file.event).map_err(|why| format!("malformed: {why}"))?;
    Ok(file.event)
}

/// The spool files, oldest first (names start with the event time). Entries of any type are listed,
/// so that a FIFO or a directory planted under a spool name is quarantined, not skipped.
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

/// What reading one spool file gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Spooled {
    /// The file is gone (another reconciler took it).
    Gone,
    /// An authenticated, valid event.
    Event(Stamped),
    /// Not to be committed: why, and the SHA-256 of its bytes when they could be read.
    Rejected {
        reason: String,
        sha256: Option<String>,
    },
}

/// Reads, authenticates and validates one spool file.
pub fn read(path: &Path, key: &[u8; KEY_LEN]) -> Spooled {
    let bytes = match read_regular(path, MAX_SPOOL_BYTES) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Spooled::Gone,
        Err(e) => {
            return Spooled::Rejected {
                reason: format!("unreadable: {e}"),
                sha256: None,
            }
        }
    };
    let sha256 = Some(hex::encode(Sha256::digest(&bytes)));
    let reject = |reason: String| Spooled::Rejected {
        reason,
        sha256: sha256.clone(),
    };
    let file = match parse(&bytes, key) {
        Ok(ev) => ev,
        Err(reason) => return reject(reason),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    if name.as_deref() != Some(file_name(&file).as_str()) {
        return reject(format!(
            "malformed: the file name does not match its event (expected {})",
            file_name(&file)
        ));
    }
    Spooled::Event(file)
}

/// Checks the fields of a stamped event: what the ledger itself would have written.
pub fn validate(ev: &Stamped) -> Result<(), String> {
    if ev.id.len() != 32
        || !ev
            .id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!("id {:?} is not 32 lowercase hex digits", ev.id));
    }
    match parse_rfc3339(&ev.ts) {
        Some(t) if format_rfc3339(t) == ev.ts => {}
        _ => return Err(format!("ts {:?} is not an RFC 3339 UTC time", ev.ts)),
    }
    let plain = |s: &str| !s.is_empty() && s.len() <= 255 && !s.chars().any(char::is_control);
    if !plain(&ev.host) {
        return Err(format!("host {:?} is not a host name", ev.host));
    }
    if ev.run_id.as_deref().is_some_and(|r| !plain(r)) {
        return Err(format!("run_id {:?} is not a run id", ev.run_id));
    }
    let kind_ok = ev.kind.len() <= 64
        && ev.kind.starts_with(|c: char| c.is_ascii_lowercase())
        && ev
            .kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !kind_ok {
        return Err(format!("kind {:?} is not an event kind", ev.kind));
    }
    if !ev.data.is_object() {
        return Err("data is not a JSON object".into());
    }
    Ok(())
}

/// Moves a rejected file into `spool/quarantine/` (never deleting it; a name already taken gets a
/// numeric suffix). `Ok(None)` when the file is gone (another reconciler moved it).
pub fn quarantine(spool: &Path, path: &Path) -> Result<Option<PathBuf>, CoordError> {
    let dir = spool.join(QUARANTINE);
    match std::fs::symlink_metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(CoordError::Invalid {
                path: dir,
                what: "exists but is not a directory".into(),
                hint: "move it away; reconcile quarantines rejected spool files there".into(),
            })
        }
        Err(_) => {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&dir)
                .or_else(|e| match e.kind() {
                    std::io::ErrorKind::AlreadyExists => Ok(()),
                    _ => Err(e),
                })
                .map_err(|e| CoordError::io("create directory", &dir, e))?;
        }
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut dest = dir.join(&name);
    let mut n = 1;
    while std::fs::symlink_metadata(&dest).is_ok() {
        dest = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    match std::fs::rename(path, &dest) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CoordError::io("quarantine", path, e)),
    }
    sync_dir(&dir)?;
    sync_dir(spool)?;
    Ok(Some(dest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::NewEvent;
    use serde_json::json;

    const K: [u8; KEY_LEN] = [5u8; KEY_LEN];

    fn ev(subject: &str) -> Stamped {
        Stamped::stamp(NewEvent::new("op", subject, "ok"), "h")
    }

    #[test]
    fn spooled_events_read_back_in_time_order() {
        let d = tempfile::tempdir().unwrap();
        let a = ev("a");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = ev("b");
        write(d.path(), &b, &K).unwrap();
        write(d.path(), &a, &K).unwrap();
        let files = list(d.path()).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(read(&files[0], &K), Spooled::Event(a));
        assert_eq!(read(&files[1], &K), Spooled::Event(b));
        assert_eq!(read(&d.path().join("gone.json"), &K), Spooled::Gone);
    }

    fn rejected(path: &Path) -> String {
        match read(path, &K) {
            Spooled::Rejected { reason, .. } => reason,
            other => panic!("{} was accepted: {other:?}", path.display()),
        }
    }

    #[test]
    fn a_hand_written_event_is_rejected_as_unauthenticated() {
        let d = tempfile::tempdir().unwrap();
        let e = ev("x");
        let p = d.path().join(file_name(&e));
        let forged = json!({"v": 1, "event": e, "mac": "00".repeat(32)});
        std::fs::write(&p, forged.to_string()).unwrap();
        assert!(rejected(&p).contains("unauthenticated"));
        // The old format: a bare event.
        std::fs::write(&p, serde_json::to_vec(&e).unwrap()).unwrap();
        assert!(rejected(&p).contains("malformed"));
    }

    #[test]
    fn an_authenticated_but_malformed_event_is_rejected() {
        let d = tempfile::tempdir().unwrap();
        let mut bad_ts = ev("x");
        bad_ts.ts = "not a time".into();
        let mut bad_data = ev("y");
        bad_data.data = json!("a string");
        let mut bad_kind = ev("z");
        bad_kind.kind = "Verdict; DROP".into();
        for (e, why) in [(bad_ts, "ts"), (bad_data, "data"), (bad_kind, "kind")] {
            let p = write(d.path(), &e, &K).unwrap();
            let r = rejected(&p);
            assert!(r.contains("malformed") && r.contains(why), "{r}");
        }
    }

    #[test]
    fn extra_fields_renamed_files_fifos_and_oversized_files_are_rejected() {
        let d = tempfile::tempdir().unwrap();
        let e = ev("x");
        let p = write(d.path(), &e, &K).unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        v["extra"] = json!(1);
        std::fs::write(&p, v.to_string()).unwrap();
        assert!(rejected(&p).contains("unknown field"));
        let p = write(d.path(), &e, &K).unwrap();
        let moved = d.path().join("0-other.json");
        std::fs::rename(&p, &moved).unwrap();
        assert!(rejected(&moved).contains("file name"));
        let fifo = d.path().join("1-fifo.json");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(rejected(&fifo).contains("a FIFO"));
        let big = d.path().join("2-big.json");
        std::fs::write(&big, vec![b' '; MAX_SPOOL_BYTES as usize + 1]).unwrap();
        assert!(rejected(&big).contains("larger than"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn arbitrary_bytes_are_never_an_event(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
                let d = tempfile::tempdir().unwrap();
                let p = d.path().join("1-x.json");
                std::fs::write(&p, &bytes).unwrap();
                prop_assert!(!matches!(read(&p, &K), Spooled::Event(_)));
            }

            #[test]
            fn a_spooled_event_reads_back_as_itself(
                subject in any::<String>(),
                outcome in any::<String>(),
                value in any::<String>(),
                run in proptest::option::of("[a-z0-9-]{1,20}"),
            ) {
                let d = tempfile::tempdir().unwrap();
                let mut n = NewEvent::new("verdict", subject, outcome).data(json!({ "v": value }));
                if let Some(r) = &run {
                    n = n.run(r);
                }
                let ev = Stamped::stamp(n, "host");
                let p = write(d.path(), &ev, &K).unwrap();
                prop_assert_eq!(read(&p, &K), Spooled::Event(ev));
            }
        }
    }

    #[test]
    fn quarantine_keeps_every_file_under_a_free_name() {
        let d = tempfile::tempdir().unwrap();
        for _ in 0..2 {
            let p = d.path().join("x.json");
            std::fs::write(&p, "{}").unwrap();
            quarantine(d.path(), &p).unwrap().unwrap();
        }
        let q = d.path().join(QUARANTINE);
        assert!(q.join("x.json").is_file() && q.join("x.json.1").is_file());
        assert_eq!(
            quarantine(d.path(), &d.path().join("gone.json")).unwrap(),
            None
        );
    }
}
