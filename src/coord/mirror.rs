//! The JSONL mirror `ledger.jsonl`: one line per committed event, in seq order. Writers hold an
//! exclusive `flock` on it, cut a torn last line, and append every committed event the mirror lacks,
//! so concurrent appenders (threads or processes) keep it ordered and a lagging mirror heals itself.
//! It never writes an event that is not committed in the database.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rusqlite::Connection;

use super::db;
use super::event::Event;
use super::sys::FileLock;
use super::CoordError;

/// What a mirror sync did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MirrorSync {
    /// Lines appended.
    pub appended: u64,
    /// Bytes of a torn last line that were cut.
    pub cut_bytes: u64,
}

/// Brings the mirror up to the database: appends every committed event after the mirror's last seq.
/// `fresh` are events the caller has just committed (used directly when they follow the mirror's
/// tail, which spares a query). With `durable`, fsyncs the mirror before returning.
pub fn sync(
    conn: &Connection,
    mirror: &Path,
    db_path: &Path,
    fresh: &[Event],
    durable: bool,
) -> Result<MirrorSync, CoordError> {
    super::sys::check_regular(mirror).map_err(|e| CoordError::io("open the mirror", mirror, e))?;
    let mut f = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(mirror)
        .map_err(|e| CoordError::io("open the mirror", mirror, e))?;
    let lock_file = f
        .try_clone()
        .map_err(|e| CoordError::io("open the mirror", mirror, e))?;
    let _lock = FileLock::exclusive(&lock_file, mirror)?;
    let mut report = MirrorSync::default();
    let (last, cut) = tail(&mut f, mirror)?;
    report.cut_bytes = cut;
    let mut buf = String::new();
    match fresh.first() {
        Some(first) if first.seq == last + 1 => {
            for ev in fresh {
                buf.push_str(&ev.to_line());
                buf.push('\n');
                report.appended += 1;
            }
        }
        _ => {
            let mut after = last;
            loop {
                let evs = db::rows_after(conn, after, 5000)
                    .map_err(|e| CoordError::sql("read events for the mirror", db_path, e))?;
                let Some(l) = evs.last() else { break };
                after = l.seq;
                for ev in &evs {
                    buf.push_str(&ev.view().to_line());
                    buf.push('\n');
                    report.appended += 1;
                }
                if buf.len() > 1 << 20 {
                    f.write_all(buf.as_bytes())
                        .map_err(|e| CoordError::io("append to the mirror", mirror, e))?;
                    buf.clear();
                }
            }
        }
    }
    if !buf.is_empty() {
        f.write_all(buf.as_bytes())
            .map_err(|e| CoordError::io("append to the mirror", mirror, e))?;
    }
    if durable && (report.appended > 0 || report.cut_bytes > 0) {
        f.sync_data()
            .map_err(|e| CoordError::io("fsync the mirror", mirror, e))?;
    }
    Ok(report)
}

/// The seq of the mirror's last complete line (0 when empty). A torn last line (no newline) is cut
/// off; the number of bytes cut is returned. Must be called with the lock held.
fn tail(f: &mut File, path: &Path) -> Result<(u64, u64), CoordError> {
    let io = |e| CoordError::io("read the mirror", path, e);
    let len = f.seek(SeekFrom::End(0)).map_err(io)?;
    if len == 0 {
        return Ok((0, 0));
    }
    let mut chunk = 4096u64;
    loop {
        let start = len.saturating_sub(chunk);
        let mut buf = vec![0u8; (len - start) as usize];
        f.seek(SeekFrom::Start(start)).map_err(io)?;
        f.read_exact(&mut buf).map_err(io)?;
        // End of the last complete line.
        let end = match buf.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None if start == 0 => 0,
            None => {
                chunk *= 4;
                continue;
            }
        };
        let cut = buf.len() - end;
        let body = &buf[..end.saturating_sub(1)];
        let line_start = match body.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None if start == 0 || end == 0 => 0,
            None => {
                chunk *= 4;
                continue;
            }
        };
        if cut > 0 {
            f.set_len(start + end as u64)
                .map_err(|e| CoordError::io("cut a torn line off the mirror", path, e))?;
        }
        if end == 0 {
            return Ok((0, cut as u64));
        }
        let line = std::str::from_utf8(&body[line_start..]).unwrap_or("");
        let seq = match seq_of(line) {
            Some(seq) => seq,
            // Garbage written after the last event: mirroring goes on after it (never over it), so
            // `cc-ci ledger verify` shows the garbage at its line and no later event is lost.
            None => last_readable_seq(f, path)?,
        };
        return Ok((seq, cut as u64));
    }
}

/// The seq of the last line that has one (0 when none has).
fn last_readable_seq(f: &mut File, path: &Path) -> Result<u64, CoordError> {
    let io = |e| CoordError::io("read the mirror", path, e);
    let mut all = Vec::new();
    f.seek(SeekFrom::Start(0)).map_err(io)?;
    f.read_to_end(&mut all).map_err(io)?;
    Ok(all
        .split(|&b| b == b'\n')
        .rev()
        .find_map(|l| std::str::from_utf8(l).ok().and_then(seq_of))
        .unwrap_or(0))
}

fn seq_of(line: &str) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Seq {
        seq: u64,
    }
    serde_json::from_str::<Seq>(line).ok().map(|s| s.seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_reads_the_last_seq_and_cuts_a_torn_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.jsonl");
        std::fs::write(&p, "{\"seq\":1}\n{\"seq\":2}\n{\"seq\":3,\"id\"").unwrap();
        let mut f = OpenOptions::new().read(true).append(true).open(&p).unwrap();
        assert_eq!(tail(&mut f, &p).unwrap(), (2, 13));
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "{\"seq\":1}\n{\"seq\":2}\n"
        );
    }

    #[test]
    fn tail_of_an_empty_or_single_line_mirror() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.jsonl");
        std::fs::write(&p, "").unwrap();
        let mut f = OpenOptions::new().read(true).append(true).open(&p).unwrap();
        assert_eq!(tail(&mut f, &p).unwrap(), (0, 0));
        std::fs::write(&p, "{\"seq\":7}\n").unwrap();
        assert_eq!(tail(&mut f, &p).unwrap(), (7, 0));
        std::fs::write(&p, "{\"se").unwrap();
        assert_eq!(tail(&mut f, &p).unwrap(), (0, 4));
    }

    #[test]
    fn tail_skips_back_over_garbage_after_the_last_event() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.jsonl");
        std::fs::write(&p, "{\"seq\":1}\n{\"seq\":2}\ngarbage\n\u{ff}more\n").unwrap();
        let mut f = OpenOptions::new().read(true).append(true).open(&p).unwrap();
        assert_eq!(tail(&mut f, &p).unwrap(), (2, 0));
        std::fs::write(&p, "only garbage\n").unwrap();
        assert_eq!(tail(&mut f, &p).unwrap(), (0, 0));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, failure_persistence: None, ..Default::default() })]

        #[test]
        fn the_tail_of_any_mirror_never_panics_and_never_grows_it(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let d = tempfile::tempdir().unwrap();
            let p = d.path().join("m.jsonl");
            std::fs::write(&p, &bytes).unwrap();
            let mut f = OpenOptions::new().read(true).append(true).open(&p).unwrap();
            let _ = tail(&mut f, &p);
            proptest::prop_assert!(std::fs::metadata(&p).unwrap().len() <= bytes.len() as u64);
        }
    }

    #[test]
    fn tail_finds_a_line_longer_than_one_chunk() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.jsonl");
        let long = format!("{{\"seq\":9,\"x\":\"{}\"}}\n", "a".repeat(20_000));
        std::fs::write(&p, format!("{{\"seq\":8}}\n{long}")).unwrap();
        let mut f = OpenOptions::new().read(true).append(true).open(&p).unwrap();
        assert_eq!(tail(&mut f, &p).unwrap(), (9, 0));
    }
}
