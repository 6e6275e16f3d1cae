//! Unit tests of `verify`: tampering in the database, the mirror and the seal, checkpoints, and the
//! reports that must name what they found (line numbers, escapes, hints).

use super::*;
use crate::coord::{provision, Ledger, NewEvent, ProvisionOptions};

fn tree(n: usize) -> (tempfile::TempDir, CoordPaths) {
    let d = tempfile::tempdir().unwrap();
    let p = CoordPaths::resolve_with(Some(&d.path().join("c")), &|_| None).unwrap();
    provision(&p, &ProvisionOptions::default()).unwrap();
    let l = Ledger::open(&p).unwrap();
    for i in 0..n {
        l.append(NewEvent::new("op", format!("e{i}"), "ok"))
            .unwrap();
    }
    (d, p)
}

fn sql(p: &CoordPaths, s: &str) {
    rusqlite::Connection::open(&p.ledger_db)
        .unwrap()
        .execute_batch(s)
        .unwrap();
}

fn mirror_lines(p: &CoordPaths) -> Vec<String> {
    std::fs::read_to_string(&p.mirror)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn first(p: &CoordPaths) -> Divergence {
    let r = verify(p).unwrap();
    assert!(!r.intact, "{r}");
    r.first_divergence.unwrap()
}

#[test]
fn a_deleted_row_breaks_the_database_chain() {
    let (_d, p) = tree(5);
    sql(
        &p,
        "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 3;",
    );
    let d = first(&p);
    assert_eq!((d.source, d.seq), ("db", 3));
    assert_eq!(d.what, "seq out of order");
}

#[test]
fn rewritten_data_is_a_hash_mismatch() {
    let (_d, p) = tree(5);
    sql(
        &p,
        r#"DROP TRIGGER events_no_update; UPDATE events SET data = '{"x":1}' WHERE seq = 4;"#,
    );
    let d = first(&p);
    assert_eq!((d.source, d.seq), ("db", 4));
    assert!(d.what.contains("hash does not match"), "{d:?}");
}

#[test]
fn removing_the_newest_rows_and_their_mirror_lines_breaks_the_seal() {
    let (_d, p) = tree(6);
    sql(
        &p,
        "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq > 4;",
    );
    let kept = mirror_lines(&p)[..4].join("\n") + "\n";
    std::fs::write(&p.mirror, kept).unwrap();
    let d = first(&p);
    assert_eq!((d.source, d.seq), ("db", 4));
    assert!(d.what.contains("events were removed"), "{d:?}");
    // Dropping the seal as well does not help.
    sql(&p, "DELETE FROM meta WHERE key = 'seal';");
    assert!(first(&p).what.contains("not sealed"));
}

/// Rewrites every row with fresh hashes (and the mirror to match): a consistent chain.
fn rewrite_chain(p: &CoordPaths) {
    let rows = db::rows_after(&db::open_ro(&p.ledger_db).unwrap(), 0, 1000).unwrap();
    let conn = rusqlite::Connection::open(&p.ledger_db).unwrap();
    conn.execute_batch("DROP TRIGGER events_no_update;")
        .unwrap();
    let mut prev = GENESIS.to_string();
    let mut mirror = String::new();
    for mut r in rows {
        r.outcome = "rewritten".into();
        r.prev_hash = prev.clone();
        r.hash = r.view().compute_hash();
        conn.execute(
            "UPDATE events SET outcome = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            rusqlite::params![r.outcome, r.prev_hash, r.hash, r.seq as i64],
        )
        .unwrap();
        mirror.push_str(&r.view().to_line());
        mirror.push('\n');
        prev = r.hash;
    }
    std::fs::write(&p.mirror, mirror).unwrap();
}

#[test]
fn a_consistently_rewritten_chain_fails_the_seal_and_the_checkpoint() {
    let (_d, p) = tree(4);
    let cp = Ledger::open(&p).unwrap().checkpoint().unwrap().unwrap();
    assert!(verify_with(&p, Some(&cp)).unwrap().intact);
    rewrite_chain(&p);
    let d = first(&p);
    assert!(d.what.contains("rewritten"), "{d:?}");
    // A key holder re-seals the rewritten head: only the published checkpoint still catches it.
    let key = key::load(&p.ledger_key, key::LEDGER).unwrap();
    let conn = rusqlite::Connection::open(&p.ledger_db).unwrap();
    let (seq, hash) = db::last(&conn).unwrap();
    seal::write(&conn, &key, seq, &hash).unwrap();
    assert!(verify(&p).unwrap().intact);
    let d = verify_with(&p, Some(&cp))
        .unwrap()
        .first_divergence
        .unwrap();
    assert_eq!((d.source, d.seq), ("db", cp.seq));
    assert!(d.what.contains("checkpoint"), "{d:?}");
    let beyond = Checkpoint {
        seq: cp.seq + 3,
        hash: cp.hash.clone(),
    };
    let d = verify_with(&p, Some(&beyond))
        .unwrap()
        .first_divergence
        .unwrap();
    assert!(d.what.contains("truncated"), "{d:?}");
}

#[test]
fn a_missing_ledger_key_is_reported_not_ignored() {
    let (_d, p) = tree(2);
    std::fs::remove_file(&p.ledger_key).unwrap();
    assert!(first(&p).what.contains("ledger key is missing"));
}

#[test]
fn a_mirror_line_the_database_lacks_is_divergence_and_a_short_mirror_is_lag() {
    let (_d, p) = tree(3);
    let text = std::fs::read_to_string(&p.mirror).unwrap();
    let last = text.lines().last().unwrap().to_string();
    std::fs::write(&p.mirror, format!("{text}{last}\n")).unwrap();
    let d = first(&p);
    assert_eq!((d.source, d.seq, d.line), ("mirror", 5, Some(5)));
    assert!(d.what.contains("lacks"), "{d:?}");

    let short: Vec<&str> = text.lines().take(2).collect();
    std::fs::write(&p.mirror, short.join("\n") + "\n").unwrap();
    let r = verify(&p).unwrap();
    assert!(r.intact, "{r}");
    assert_eq!(r.mirror_lag, 2);
}

#[test]
fn lag_is_not_claimed_when_the_database_diverges_first() {
    let (_d, p) = tree(5);
    sql(
        &p,
        r#"DROP TRIGGER events_no_update; UPDATE events SET outcome = 'x' WHERE seq = 2;"#,
    );
    let r = verify(&p).unwrap();
    assert_eq!(r.mirror_lag, 0);
    assert!(!r.to_string().contains("lags"), "{r}");
}

#[test]
fn a_crlf_or_respaced_line_shows_where_and_how_it_differs() {
    let (_d, p) = tree(3);
    let mut lines = mirror_lines(&p);
    lines[1].push('\r');
    std::fs::write(&p.mirror, lines.join("\n") + "\n").unwrap();
    let d = first(&p);
    assert_eq!((d.seq, d.line), (2, Some(2)));
    assert!(d.what.contains("written differently"), "{d:?}");
    assert_ne!(d.expected, d.found);
    assert!(d.found.contains("\\r"), "{d:?}");
    let mut lines = mirror_lines(&p);
    lines[1] = lines[1].trim_end_matches('\r').replacen(",", ", ", 1);
    std::fs::write(&p.mirror, lines.join("\n") + "\n").unwrap();
    let d = first(&p);
    assert_ne!(d.expected, d.found);
}

#[test]
fn a_non_utf8_byte_is_reported_with_its_line() {
    let (_d, p) = tree(3);
    let mut bytes = std::fs::read(&p.mirror).unwrap();
    let second = bytes.iter().position(|&b| b == b'\n').unwrap() + 10;
    bytes[second] = 0xff;
    std::fs::write(&p.mirror, bytes).unwrap();
    let d = first(&p);
    assert_eq!((d.source, d.seq, d.line), ("mirror", 2, Some(2)));
    assert!(d.what.contains("not UTF-8 (byte 10 of the line)"), "{d:?}");
}

#[test]
fn a_missing_mirror_says_how_to_rebuild_it_and_a_fifo_mirror_is_refused() {
    let (_d, p) = tree(2);
    std::fs::remove_file(&p.mirror).unwrap();
    let r = verify(&p).unwrap();
    assert!(r.intact, "{r}");
    assert!(
        r.to_string().contains("coord reconcile` rebuilds it"),
        "{r}"
    );
    let c = std::ffi::CString::new(p.mirror.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let d = first(&p);
    assert!(d.found.contains("a FIFO"), "{d:?}");
}

#[test]
fn a_corrupt_database_is_tampering_and_the_mirror_is_verified_on_its_own() {
    let (_d, p) = tree(40);
    let len = std::fs::metadata(&p.ledger_db).unwrap().len();
    let mut bytes = std::fs::read(&p.ledger_db).unwrap();
    for b in bytes.iter_mut().skip(100).take(len as usize / 2) {
        *b = 0x5a;
    }
    std::fs::write(&p.ledger_db, bytes).unwrap();
    let r = verify(&p).unwrap();
    assert!(!r.intact, "{r}");
    let d = r.first_divergence.as_ref().unwrap();
    assert!(d.what.contains("corrupt"), "{d:?}");
    let text = r.to_string();
    assert!(
        text.contains("the mirror verifies on its own: 41 event(s)")
            && text.contains("ledger rebuild"),
        "{text}"
    );
}

#[test]
fn an_unprovisioned_tree_says_to_provision() {
    let d = tempfile::tempdir().unwrap();
    let p = CoordPaths::resolve_with(Some(&d.path().join("never")), &|_| None).unwrap();
    let e = verify(&p).unwrap_err().to_string();
    assert!(e.contains("coord provision"), "{e}");
}
