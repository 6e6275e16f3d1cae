//! Hostile files in the coord tree, through the real binary: hand-written spool events are
//! quarantined (never committed), a forged file reusing a genuine event's id never deletes it, an id
//! collision raises an alarm and keeps both, and FIFOs planted where files belong are reported,
//! never waited on.

use std::path::Path;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::support::cli::text;
use crate::support::coord::Tree;

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) },
        0,
        "mkfifo {p:?}"
    );
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A stamped event as a spool file carries it.
fn event(id: &str, kind: &str, subject: &str, outcome: &str, data: Value) -> Value {
    json!({
        "id": id, "ts": "2026-11-30T10:00:00.000000Z", "host": "h", "run_id": null,
        "kind": kind, "subject": subject, "outcome": outcome, "data": data,
    })
}

fn spool_name(ev: &Value) -> String {
    format!("20261130T100000000000Z-{}.json", ev["id"].as_str().unwrap())
}

/// Compact JSON with sorted keys: what the ledger's MAC covers.
fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::String((*k).clone()), canonical(&m[*k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// A spool file authenticated with the tree's own ledger key (what only the key holder can make).
fn authenticated(t: &Tree, ev: &Value) -> Value {
    let key = std::fs::read(t.base.join("ledger-key")).unwrap();
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
    m.update(b"cc-ci spool v1\n");
    m.update(canonical(ev).as_bytes());
    json!({"v": 1, "event": ev, "mac": hex::encode(m.finalize().into_bytes())})
}

fn quarantined(t: &Tree) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(t.base.join("spool/quarantine"))
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn hand_written_spool_events_are_quarantined_and_recorded_never_committed() {
    let t = Tree::provisioned();
    let spool = t.base.join("spool");
    let verdict = event(
        &"a".repeat(32),
        "verdict",
        "hello/install",
        "pass",
        json!({}),
    );
    let grant = event(
        &"b".repeat(32),
        "grant_check",
        "repo-local:hello",
        "allow",
        json!({}),
    );
    let mut bad_ts = event(&"c".repeat(32), "op", "x", "ok", json!({}));
    bad_ts["ts"] = "not a time".into();
    let bad_data = event(&"d".repeat(32), "op", "x", "ok", json!("a string"));
    // The old bare format, a zero MAC, and two malformed events with a made-up MAC.
    std::fs::write(spool.join(spool_name(&verdict)), verdict.to_string()).unwrap();
    for ev in [&grant, &bad_ts, &bad_data] {
        let file = json!({"v": 1, "event": ev, "mac": "00".repeat(32)});
        std::fs::write(spool.join(spool_name(ev)), file.to_string()).unwrap();
    }
    let out = t.expect(1, &["coord", "reconcile"]);
    assert_eq!(
        stdout(&out).matches("quarantined  ").count(),
        4,
        "{}",
        text(&out)
    );
    assert_eq!(quarantined(&t).len(), 4);
    assert!(t.events_of("verdict").is_empty());
    assert!(t.events_of("grant_check").is_empty());
    let q = t.events_of("quarantine");
    assert_eq!(q.len(), 4, "{q:?}");
    assert!(q.iter().all(|e| e["data"]["sha256"].is_string()), "{q:?}");
    t.ok(&["ledger", "verify"]);
    // Nothing is left to quarantine twice.
    t.ok(&["coord", "reconcile"]);
    assert_eq!(t.events_of("quarantine").len(), 4);
}

#[test]
fn a_forged_file_reusing_a_spooled_events_id_never_deletes_the_genuine_one() {
    let t = Tree::provisioned();
    let locker = rusqlite::Connection::open(t.base.join("ledger.db")).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE;").unwrap();
    let ack = t.ok(&[
        "ledger",
        "append",
        "--kind",
        "verdict",
        "--subject",
        "hello/install",
        "--outcome",
        "fail",
        "--busy-timeout-ms",
        "100",
    ]);
    locker.execute_batch("COMMIT;").unwrap();
    drop(locker);
    let genuine = ack.trim().rsplit(' ').next().unwrap().to_string();
    let file: Value = serde_json::from_slice(&std::fs::read(&genuine).unwrap()).unwrap();
    let id = file["event"]["id"].as_str().unwrap();
    // The forgery sorts first and says the verdict passed.
    let mut forged = file["event"].clone();
    forged["outcome"] = "pass".into();
    let forged = json!({"v": 1, "event": forged, "mac": file["mac"]});
    let forged_path = t.base.join(format!("spool/00000000-{id}.json"));
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    t.expect(1, &["coord", "reconcile"]);
    let verdicts = t.events_of("verdict");
    assert_eq!(verdicts.len(), 1, "{verdicts:?}");
    assert_eq!(
        (verdicts[0]["id"].as_str(), verdicts[0]["outcome"].as_str()),
        (Some(id), Some("fail"))
    );
    assert_eq!(quarantined(&t), [format!("00000000-{id}.json")]);
}

#[test]
fn an_authenticated_file_colliding_with_a_committed_id_raises_an_alarm_and_is_kept() {
    let t = Tree::provisioned();
    t.ok(&[
        "ledger",
        "append",
        "--kind",
        "verdict",
        "--subject",
        "s",
        "--outcome",
        "fail",
    ]);
    let committed = t.events_of("verdict").remove(0);
    let id = committed["id"].as_str().unwrap();
    let mut other = event(id, "verdict", "s", "pass", json!({}));
    other["ts"] = committed["ts"].clone();
    let name = format!(
        "{}-{id}.json",
        committed["ts"]
            .as_str()
            .unwrap()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "")
    );
    let path = t.base.join("spool").join(&name);
    std::fs::write(&path, authenticated(&t, &other).to_string()).unwrap();
    let out = t.expect(1, &["coord", "reconcile"]);
    assert!(stdout(&out).contains("ALARM"), "{}", text(&out));
    let alarms = t.events_of("alarm");
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    assert_eq!(alarms[0]["outcome"], "spool_id_collision");
    assert_eq!(quarantined(&t), [name]);
    assert_eq!(t.events_of("verdict").len(), 1);
}

#[test]
fn fifos_planted_in_the_tree_are_reported_never_waited_on() {
    let t = Tree::provisioned();
    t.ok(&["ledger", "append", "--kind", "op", "--subject", "s"]);
    mkfifo(&t.base.join("grants/g-x.json"));
    let out = t.expect(
        1,
        &[
            "grant",
            "check",
            "--gate",
            "repo-local",
            "--recipe",
            "hello",
        ],
    );
    assert!(stdout(&out).contains("a FIFO"), "{}", text(&out));
    let out = t.ok(&["grant", "list"]);
    assert!(out.contains("a FIFO"), "{out}");

    mkfifo(&t.base.join("spool/1-x.json"));
    let out = t.expect(1, &["coord", "reconcile"]);
    assert!(stdout(&out).contains("a FIFO"), "{}", text(&out));
    assert_eq!(quarantined(&t), ["1-x.json"]);

    let mirror = t.base.join("ledger.jsonl");
    std::fs::remove_file(&mirror).unwrap();
    mkfifo(&mirror);
    let out = t.expect(1, &["ledger", "verify"]);
    assert!(stdout(&out).contains("a FIFO"), "{}", text(&out));
    let out = t.expect(2, &["coord", "reconcile"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a FIFO"),
        "{}",
        text(&out)
    );
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn mint_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut base = vec!["grant", "mint", "--reason", "x"];
    for (flag, default) in [
        ("--gate", "repo-local"),
        ("--recipe", "hello"),
        ("--ttl", "1h"),
    ] {
        if !extra.contains(&flag) {
            base.extend([flag, default]);
        }
    }
    base.extend_from_slice(extra);
    base
}

#[test]
fn bad_mint_requests_are_usage_errors_and_huge_durations_name_their_limit() {
    let t = Tree::provisioned();
    let cases: [(&[&str], &str); 9] = [
        (&["--ttl", "0s"], "minimum of 1s"),
        (&["--ttl", "99999999999h"], "limit of 90d"),
        (&["--ttl", "1000000y"], "limit of 90d"),
        (&["--ttl", "9223372036854775807s"], "limit of 90d"),
        (&["--uses", "0"], "--uses must be at least 1"),
        (&["--gate", ""], "--gate must not be empty"),
        (
            &["--gate", "nosuchgate"],
            "known gates: repo-local, skip-generic",
        ),
        (&["--gate", "repo-locl"], "did you mean `repo-local`?"),
        (&["--recipe", "../../etc"], "is not a path"),
    ];
    for (extra, why) in cases {
        let out = t.expect(4, &mint_args(extra));
        assert!(stderr(&out).contains(why), "{extra:?}: {}", text(&out));
    }
    assert!(t.events_of("grant_mint").is_empty());
    let out = t.expect(
        4,
        &[
            "grant",
            "check",
            "--gate",
            "nosuchgate",
            "--recipe",
            "hello",
        ],
    );
    assert!(stderr(&out).contains("unknown gate"), "{}", text(&out));
    let out = t.expect(4, &["coord", "obligations", "--grace", "99999999999h"]);
    assert!(stderr(&out).contains("limit of 365d"), "{}", text(&out));
    assert!(t.events_of("escalation").is_empty());
}

#[test]
fn a_grant_file_with_an_extra_field_or_a_duplicate_key_is_a_forgery_not_no_grant() {
    let t = Tree::provisioned();
    let id = t.ok(&mint_args(&[])).trim().to_string();
    let path = t.base.join(format!("grants/{id}.json"));
    let genuine = std::fs::read_to_string(&path).unwrap();
    let mut extra: Value = serde_json::from_str(&genuine).unwrap();
    extra["claims"]["admin"] = true.into();
    let duplicate = genuine.replacen("\"uses\": 1", "\"uses\": 1,\n    \"uses\": 100", 1);
    assert_ne!(duplicate, genuine);
    for forged in [extra.to_string(), duplicate] {
        std::fs::write(&path, forged).unwrap();
        let out = t.expect(
            1,
            &[
                "grant",
                "check",
                "--gate",
                "repo-local",
                "--recipe",
                "hello",
            ],
        );
        let s = stdout(&out);
        assert!(
            s.contains("forged or altered") && s.contains(&id),
            "{}",
            text(&out)
        );
        assert!(!s.contains("no grant for gate"), "{s}");
        assert!(t.ok(&["grant", "list"]).contains("forged"));
    }
}

#[test]
fn a_base_open_to_others_is_refused_then_repaired_and_recorded() {
    use std::os::unix::fs::PermissionsExt;
    let t = Tree::provisioned();
    std::fs::set_permissions(&t.base, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = t.expect(2, &["coord", "provision"]);
    assert!(
        stderr(&out).contains("0755") && stderr(&out).contains("--repair-perms"),
        "{}",
        text(&out)
    );
    let fixed = t.ok(&["coord", "provision", "--repair-perms"]);
    assert!(fixed.contains("0755 -> 0700"), "{fixed}");
    let mode = std::fs::metadata(&t.base).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let repairs = t.events_of("perms_repair");
    assert_eq!(repairs.len(), 1, "{repairs:?}");
    assert_eq!(repairs[0]["data"]["new_mode"], "0700");
}

#[test]
fn a_grant_key_owned_by_another_user_is_refused_and_denies_every_check() {
    let t = Tree::provisioned();
    let key = t.base.join("grant-key");
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let c = std::ffi::CString::new(key.as_os_str().as_encoded_bytes()).unwrap();
    // Root hands the key to `nobody`; anyone else points the tree at a root-owned key.
    let mut cmd_env = Vec::new();
    if me == 0 {
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::chown(c.as_ptr(), 65534, u32::MAX) }, 0);
    } else {
        cmd_env.push(("CCCI_GRANT_KEY", "/etc/passwd"));
    }
    let run = |code: i32, args: &[&str]| {
        let mut cmd = t.cmd(args);
        for (k, v) in &cmd_env {
            cmd.env(k, v);
        }
        let out =
            crate::support::process::output_within(&mut cmd, std::time::Duration::from_secs(60));
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out));
        out
    };
    let out = run(2, &["coord", "provision"]);
    assert!(
        stderr(&out).contains("owned by uid") && stderr(&out).contains("chown"),
        "{}",
        text(&out)
    );
    let out = run(
        1,
        &[
            "grant",
            "check",
            "--gate",
            "repo-local",
            "--recipe",
            "hello",
        ],
    );
    assert!(stdout(&out).contains("owned by uid"), "{}", text(&out));
}
