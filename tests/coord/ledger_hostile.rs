//! `cc-ci ledger verify|export` against a ledger someone has damaged or cut, through the real binary:
//! a truncated or rewritten chain fails its seal, a corrupt database is reported as such (exit 1) with
//! the mirror verified on its own and the way to rebuild, mirror lines are located by line number with
//! their bytes shown, and a read-only or never-provisioned tree gets an answer instead of an SQLite
//! error.

use std::path::Path;

use crate::support::cli::text;
use crate::support::coord::Tree;

fn append(t: &Tree, n: u64) {
    t.ok(&[
        "ledger",
        "append",
        "--kind",
        "op",
        "--subject",
        "ev",
        "--count",
        &n.to_string(),
    ]);
}

fn sql(t: &Tree, s: &str) {
    rusqlite::Connection::open(t.base.join("ledger.db"))
        .unwrap()
        .execute_batch(s)
        .unwrap();
}

fn out_text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn mirror(t: &Tree) -> std::path::PathBuf {
    t.base.join("ledger.jsonl")
}

fn keep_lines(p: &Path, n: usize) {
    let text = std::fs::read_to_string(p).unwrap();
    let kept: Vec<&str> = text.lines().take(n).collect();
    std::fs::write(p, kept.join("\n") + "\n").unwrap();
}

#[test]
fn deleting_the_newest_events_from_database_and_mirror_is_found() {
    let t = Tree::provisioned();
    append(&t, 10);
    sql(
        &t,
        "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq > 8;",
    );
    keep_lines(&mirror(&t), 8);
    let out = t.expect(1, &["ledger", "verify"]);
    assert!(
        out_text(&out).contains("events were removed"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_whole_chain_rewritten_with_fresh_hashes_is_found() {
    let t = Tree::provisioned();
    append(&t, 5);
    let export = t.ok(&["ledger", "export"]);
    let conn = rusqlite::Connection::open(t.base.join("ledger.db")).unwrap();
    conn.execute_batch("DROP TRIGGER events_no_update;")
        .unwrap();
    let mut prev = "0".repeat(64);
    let mut lines = String::new();
    for l in export.lines() {
        let mut ev: serde_json::Value = serde_json::from_str(l).unwrap();
        ev["outcome"] = "rewritten".into();
        ev["prev_hash"] = prev.clone().into();
        let canon = format!(
            "[{},{},{},{},{},{},{},{},{},{}]",
            ev["seq"],
            ev["id"],
            ev["ts"],
            ev["host"],
            ev["run_id"],
            ev["kind"],
            ev["subject"],
            ev["outcome"],
            ev["data"],
            ev["prev_hash"]
        );
        use sha2::Digest;
        let hash = hex::encode(sha2::Sha256::digest(canon.as_bytes()));
        conn.execute(
            "UPDATE events SET outcome = 'rewritten', prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![prev, hash, ev["seq"].as_i64().unwrap()],
        )
        .unwrap();
        ev["hash"] = hash.clone().into();
        lines.push_str(&format!(
            "{{\"seq\":{},\"id\":{},\"ts\":{},\"host\":{},\"run_id\":{},\"kind\":{},\"subject\":{},\"outcome\":{},\"data\":{},\"prev_hash\":{},\"hash\":{}}}\n",
            ev["seq"], ev["id"], ev["ts"], ev["host"], ev["run_id"], ev["kind"], ev["subject"],
            ev["outcome"], ev["data"], ev["prev_hash"], ev["hash"]
        ));
        prev = hash;
    }
    drop(conn);
    std::fs::write(mirror(&t), lines).unwrap();
    let out = t.expect(1, &["ledger", "verify"]);
    assert!(out_text(&out).contains("rewritten"), "{}", text(&out));
}

#[test]
fn a_corrupt_database_exits_1_checks_the_mirror_and_says_how_to_recover() {
    let t = Tree::provisioned();
    append(&t, 50);
    let db = t.base.join("ledger.db");
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .set_len(len / 3)
        .unwrap();
    let out = t.expect(1, &["ledger", "verify"]);
    let s = out_text(&out);
    assert!(s.contains("corrupt"), "{s}");
    assert!(
        s.contains("the mirror verifies on its own: 51 event(s)"),
        "{s}"
    );
    assert!(s.contains("cc-ci ledger rebuild"), "{s}");
    // Following the hint: move the damaged file aside, rebuild, and the chain verifies again.
    let out = t.expect(2, &["ledger", "rebuild"]);
    assert!(
        out_text(&out).contains("never overwrites"),
        "{}",
        text(&out)
    );
    std::fs::rename(&db, t.base.join("ledger.db.corrupt")).unwrap();
    let _ = std::fs::rename(
        t.base.join("ledger.db-wal"),
        t.base.join("ledger.db-wal.corrupt"),
    );
    let _ = std::fs::remove_file(t.base.join("ledger.db-shm"));
    let r = t.ok(&["ledger", "rebuild"]);
    assert!(r.contains("from 51 mirrored event(s)"), "{r}");
    t.ok(&["ledger", "verify"]);
    assert_eq!(t.events_of("rebuild").len(), 1);
}

#[test]
fn mirror_lines_are_located_and_their_bytes_shown() {
    let t = Tree::provisioned();
    append(&t, 4);
    let m = mirror(&t);
    let text0 = std::fs::read_to_string(&m).unwrap();
    std::fs::write(&m, text0.replace('\n', "\r\n")).unwrap();
    let out = t.expect(1, &["ledger", "verify"]);
    let s = out_text(&out);
    assert!(
        s.contains("mirror seq 1 (line 1)") && s.contains("\\r"),
        "{s}"
    );
    let mut bytes = text0.clone().into_bytes();
    let at = text0.match_indices('\n').nth(2).unwrap().0 + 5;
    bytes[at] = 0xfe;
    std::fs::write(&m, bytes).unwrap();
    let out = t.expect(1, &["ledger", "verify"]);
    assert!(
        out_text(&out).contains("(line 4): mirror line is not UTF-8"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_missing_mirror_gets_a_reconcile_hint_and_no_false_lag_is_claimed() {
    let t = Tree::provisioned();
    append(&t, 3);
    std::fs::remove_file(mirror(&t)).unwrap();
    let s = t.ok(&["ledger", "verify"]);
    assert!(
        s.contains("missing") && s.contains("cc-ci coord reconcile"),
        "{s}"
    );
    t.ok(&["coord", "reconcile"]);
    sql(
        &t,
        "DROP TRIGGER events_no_update; UPDATE events SET outcome = 'x' WHERE seq = 2;",
    );
    let out = t.expect(1, &["ledger", "verify"]);
    assert!(!out_text(&out).contains("lags"), "{}", text(&out));
}

#[test]
fn appends_after_a_garbage_mirror_line_still_reach_the_mirror() {
    let t = Tree::provisioned();
    append(&t, 2);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(mirror(&t))
        .unwrap();
    std::io::Write::write_all(&mut f, b"garbage\n").unwrap();
    t.ok(&["ledger", "append", "--kind", "op", "--subject", "after"]);
    let text0 = std::fs::read_to_string(mirror(&t)).unwrap();
    assert!(
        text0
            .lines()
            .last()
            .unwrap()
            .contains("\"subject\":\"after\""),
        "{text0}"
    );
    let out = t.expect(1, &["ledger", "verify"]);
    assert!(
        out_text(&out).contains("(line 4): unreadable mirror line"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_never_provisioned_tree_says_to_provision() {
    let t = Tree::new();
    for args in [
        &["ledger", "verify"][..],
        &["ledger", "export"],
        &["ledger", "tail"],
    ] {
        let out = t.expect(2, args);
        assert!(
            out_text(&out).contains("cc-ci coord provision"),
            "{args:?}: {}",
            text(&out)
        );
    }
}

#[test]
fn a_read_only_tree_with_a_live_wal_is_verified() {
    let t = Tree::provisioned();
    append(&t, 5);
    // A writer killed with its WAL uncheckpointed; then the tree is made read-only without the
    // `-shm` SQLite would have to create.
    let mut child = t
        .cmd(&[
            "ledger",
            "append",
            "--kind",
            "op",
            "--subject",
            "w",
            "--count",
            "1000000",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let wal = t.base.join("ledger.db-wal");
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) < 100_000 {
        assert!(std::time::Instant::now() < until, "no WAL grew");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_file(t.base.join("ledger.db-shm"));
    let ro = t.home.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let script = format!(
        "{} && {} ledger verify --coord-dir {}",
        if root {
            format!("mount --bind -o ro {} {}", t.base.display(), ro.display())
        } else {
            format!(
                "chmod a-w {} && ln -s {} {}/c",
                t.base.display(),
                t.base.display(),
                ro.display()
            )
        },
        env!("CARGO_BIN_EXE_cc-ci"),
        if root {
            ro.display().to_string()
        } else {
            format!("{}/c", ro.display())
        },
    );
    let mut cmd = if root {
        let mut c = std::process::Command::new("unshare");
        c.args(["-m", "sh", "-c", &script]);
        c
    } else {
        let mut c = std::process::Command::new("sh");
        c.args(["-c", &script]);
        c
    };
    let out = crate::support::process::output_within(&mut cmd, std::time::Duration::from_secs(120));
    if !root {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&t.base, std::fs::Permissions::from_mode(0o700));
    }
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(out_text(&out).contains("intact"), "{}", text(&out));
}
