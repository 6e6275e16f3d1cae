//! The hash-chained ledger through the real binary: verify finds tampering in the database and in the
//! mirror, a locked database spools events that reconcile commits exactly once, a SIGKILL in the
//! middle of many appends loses nothing acknowledged, and concurrent writers keep one chain.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use crate::support::cli::text;
use crate::support::coord::Tree;

fn append(t: &Tree, subject: &str, count: u64) -> String {
    t.ok(&[
        "ledger",
        "append",
        "--kind",
        "op",
        "--subject",
        subject,
        "--count",
        &count.to_string(),
    ])
}

/// How often each subject occurs among the committed events.
fn subjects(t: &Tree) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for e in t.events() {
        *m.entry(e["subject"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    m
}

#[test]
fn an_untouched_ledger_verifies_and_the_mirror_matches_the_export() {
    let t = Tree::provisioned();
    append(&t, "ev", 50);
    let out = t.ok(&["ledger", "verify"]);
    assert!(out.contains("intact"), "{out}");
    let mirror = std::fs::read_to_string(t.base.join("ledger.jsonl")).unwrap();
    assert_eq!(mirror, t.ok(&["ledger", "export"]));
    let first: serde_json::Value = serde_json::from_str(mirror.lines().next().unwrap()).unwrap();
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let mut want = vec![
        "seq",
        "id",
        "ts",
        "host",
        "run_id",
        "kind",
        "subject",
        "outcome",
        "data",
        "prev_hash",
        "hash",
    ];
    let mut got = keys.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(first["prev_hash"], "0".repeat(64));
    assert_eq!(first["seq"], 1);
    let tail = t.ok(&["ledger", "tail", "-n", "3", "--json"]);
    assert_eq!(tail.lines().count(), 3);
    assert!(tail
        .lines()
        .last()
        .unwrap()
        .contains("\"subject\":\"ev-49\""));
}

#[test]
fn a_tampered_database_row_is_found_by_verify() {
    let t = Tree::provisioned();
    append(&t, "ev", 20);
    let conn = rusqlite::Connection::open(t.base.join("ledger.db")).unwrap();
    // The table refuses updates; an attacker drops the guard first.
    assert!(conn
        .execute("UPDATE events SET outcome = 'pass' WHERE seq = 7", [])
        .is_err());
    conn.execute_batch(
        "DROP TRIGGER events_no_update; UPDATE events SET outcome = 'pass' WHERE seq = 7;",
    )
    .unwrap();
    drop(conn);
    let out = t.expect(1, &["ledger", "verify"]);
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains("db seq 7") && s.contains("hash does not match"),
        "{s}"
    );
}

#[test]
fn a_tampered_mirror_line_is_found_by_verify() {
    let t = Tree::provisioned();
    append(&t, "ev", 20);
    let mirror = t.base.join("ledger.jsonl");
    let text = std::fs::read_to_string(&mirror).unwrap();
    let forged: Vec<String> = text
        .lines()
        .map(|l| {
            if l.contains("\"seq\":12,") {
                l.replace("\"outcome\":\"ok\"", "\"outcome\":\"forged\"")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&mirror, forged.join("\n") + "\n").unwrap();
    let out = t.expect(1, &["ledger", "verify"]);
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("mirror seq 12"), "{s}");

    // A mirror line dropped from the middle breaks the mirror's chain too.
    let dropped: Vec<&str> = text.lines().filter(|l| !l.contains("\"seq\":5,")).collect();
    std::fs::write(&mirror, dropped.join("\n") + "\n").unwrap();
    let out = t.expect(1, &["ledger", "verify"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("mirror seq 5"));
}

#[test]
fn events_written_while_the_database_is_locked_are_spooled_and_reconciled_exactly_once() {
    let t = Tree::provisioned();
    append(&t, "before", 3);
    let locker = rusqlite::Connection::open(t.base.join("ledger.db")).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE;").unwrap();
    let out = t.ok(&[
        "ledger",
        "append",
        "--kind",
        "op",
        "--subject",
        "locked",
        "--count",
        "5",
        "--busy-timeout-ms",
        "100",
    ]);
    assert_eq!(out.matches(" spooled ").count(), 5, "{out}");
    assert_eq!(std::fs::read_dir(t.base.join("spool")).unwrap().count(), 5);
    // Reconcile cannot commit while the lock is held: it fails loudly (after its busy timeout) and
    // keeps every spool file.
    let out = t.expect(2, &["coord", "reconcile"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ledger.db"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read_dir(t.base.join("spool")).unwrap().count(), 5);
    locker.execute_batch("COMMIT;").unwrap();
    drop(locker);

    // Two reconcilers at once, plus a writer: each spooled event lands once.
    let a = t
        .cmd(&["coord", "reconcile"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let b = t
        .cmd(&["coord", "reconcile"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    append(&t, "during", 3);
    for c in [a, b] {
        let o = c.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    t.ok(&["coord", "reconcile"]);
    assert_eq!(std::fs::read_dir(t.base.join("spool")).unwrap().count(), 0);
    let s = subjects(&t);
    for i in 0..5 {
        assert_eq!(s.get(&format!("locked-{i}")), Some(&1), "{s:?}");
    }
    assert_eq!(
        t.events().len(),
        1 + 3 + 5 + 3,
        "provision + before + locked + during"
    );
    t.ok(&["ledger", "verify"]);
    let again = t.ok(&["coord", "reconcile"]);
    assert!(again.contains("0 spooled event(s) committed"), "{again}");
}

#[test]
fn a_lagging_mirror_and_a_torn_line_are_repaired_by_reconcile() {
    let t = Tree::provisioned();
    append(&t, "ev", 30);
    let mirror = t.base.join("ledger.jsonl");
    let text = std::fs::read_to_string(&mirror).unwrap();
    let keep: Vec<&str> = text.lines().take(10).collect();
    // Ten complete lines and half of the eleventh, as a crash mid-write leaves it.
    let torn = &text.lines().nth(10).unwrap()[..40];
    std::fs::write(&mirror, keep.join("\n") + "\n" + torn).unwrap();
    let v = t.ok(&["ledger", "verify"]);
    assert!(v.contains("lags the database by 21"), "{v}");
    let r = t.ok(&["coord", "reconcile"]);
    assert!(
        r.contains("mirror repaired by 21 line(s)") && r.contains("torn"),
        "{r}"
    );
    assert_eq!(std::fs::read_to_string(&mirror).unwrap(), text);
    t.ok(&["ledger", "verify"]);
}

#[test]
fn sigkill_in_the_middle_of_appends_loses_no_acknowledged_event() {
    let t = Tree::provisioned();
    let mut child = t
        .cmd(&[
            "ledger",
            "append",
            "--kind",
            "op",
            "--subject",
            "k",
            "--count",
            "100000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut acked = Vec::new();
    let mut line = String::new();
    while acked.len() < 300 {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "child ended early"
        );
        acked.push(line.split_whitespace().nth(1).unwrap().to_string());
    }
    child.kill().unwrap(); // SIGKILL
                           // Acknowledgements already in the pipe count too.
    for l in reader.lines() {
        let l = l.unwrap();
        acked.push(l.split_whitespace().nth(1).unwrap().to_string());
    }
    let _ = child.wait();
    t.ok(&["coord", "reconcile"]);
    t.ok(&["ledger", "verify"]);
    let s = subjects(&t);
    for a in &acked {
        assert_eq!(s.get(a), Some(&1), "acknowledged {a} must be present once");
    }
    assert!(s.values().all(|&n| n == 1), "no event twice");
}

#[test]
fn concurrent_processes_append_one_unbroken_chain() {
    let t = Tree::provisioned();
    let kids: Vec<_> = (0..4)
        .map(|i| {
            t.cmd(&[
                "ledger",
                "append",
                "--kind",
                "op",
                "--subject",
                &format!("p{i}"),
                "--count",
                "150",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
        })
        .collect();
    for mut k in kids {
        assert!(k.wait().unwrap().success());
    }
    std::thread::sleep(Duration::from_millis(10));
    // An append that waited past the busy timeout (a loaded host) went to the spool, by design: the
    // reconcile every run starts with brings it in. Then all 601 are in one chain.
    t.ok(&["coord", "reconcile"]);
    let v = t.ok(&["ledger", "verify"]);
    assert!(
        v.contains("intact: 601 event(s) in the database, 601 in the mirror"),
        "{v}"
    );
    assert_eq!(subjects(&t).len(), 601);
}
