//! Provisioning the coord tree through the real binary: idempotent, loud, race-safe, and strict about
//! the grant key; the resolver's precedence as the binary sees it.

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use crate::support::cli::{cc_ci, text};
use crate::support::coord::Tree;

#[test]
fn provision_creates_the_tree_and_a_second_run_is_a_noop() {
    let t = Tree::new();
    let first = t.ok(&["coord", "provision"]);
    for name in ["spool", "grants", "grant-key", "ledger.db", "ledger.jsonl"] {
        assert!(
            first.contains(&format!("created   {}", t.base.join(name).display())),
            "{name} not reported created:\n{first}"
        );
    }
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&t.base), 0o700);
    assert_eq!(mode(&t.base.join("grant-key")), 0o600);
    assert_eq!(
        std::fs::metadata(t.base.join("grant-key")).unwrap().len(),
        32
    );
    let key = std::fs::read(t.base.join("grant-key")).unwrap();
    let events_after_first = t.events().len();
    assert_eq!(t.events_of("provision").len(), 1);

    let second = t.ok(&["coord", "provision"]);
    assert!(
        !second.contains("created"),
        "second run created something:\n{second}"
    );
    assert!(second.contains("nothing to do"), "{second}");
    assert_eq!(std::fs::read(t.base.join("grant-key")).unwrap(), key);
    assert_eq!(
        t.events().len(),
        events_after_first,
        "a no-op records nothing"
    );
    let journal: String = rusqlite::Connection::open(t.base.join("ledger.db"))
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
}

#[test]
fn an_uncreatable_base_exits_2_naming_the_path_and_the_os_error() {
    // Root can write anywhere, but nobody can create a directory below a regular file.
    let t = Tree::new();
    let file = t.home.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let base = file.join("coord");
    let out = cc_ci(t.home.path())
        .args(["coord", "provision", "--coord-dir"])
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&base.display().to_string()), "{err}");
    assert!(err.contains("Not a directory"), "{err}");
}

#[test]
fn a_base_that_is_a_file_exits_2_with_a_hint() {
    let t = Tree::new();
    std::fs::write(&t.base, b"x").unwrap();
    let out = t.expect(2, &["coord", "provision"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a directory") && err.contains("hint"),
        "{err}"
    );
}

#[test]
fn a_group_readable_key_is_refused_then_repaired_and_recorded() {
    let t = Tree::provisioned();
    let key = t.base.join("grant-key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = t.expect(2, &["coord", "provision"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&key.display().to_string()), "{err}");
    assert!(
        err.contains("0644") && err.contains("--repair-perms"),
        "{err}"
    );
    // Grants refuse to work with such a key as well.
    t.expect(
        2,
        &[
            "grant",
            "mint",
            "--gate",
            "repo-local",
            "--recipe",
            "r",
            "--ttl",
            "1h",
            "--reason",
            "x",
        ],
    );

    let fixed = t.ok(&["coord", "provision", "--repair-perms"]);
    assert!(
        fixed.contains("repaired") && fixed.contains("0644"),
        "{fixed}"
    );
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let repairs = t.events_of("perms_repair");
    assert_eq!(repairs.len(), 1, "{repairs:?}");
    assert_eq!(repairs[0]["data"]["old_mode"], "0644");
    t.ok(&["coord", "provision"]);
}

#[test]
fn a_key_of_the_wrong_length_or_kind_is_refused_even_with_repair() {
    let t = Tree::provisioned();
    let key = t.base.join("grant-key");
    std::fs::write(&key, b"short").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = t.expect(2, &["coord", "provision", "--repair-perms"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("5 bytes, not 32") && err.contains("hint"),
        "{err}"
    );
    std::fs::remove_file(&key).unwrap();
    std::fs::create_dir(&key).unwrap();
    let out = t.expect(2, &["coord", "provision"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
}

#[test]
fn processes_provisioning_at_once_agree_on_one_key() {
    for _round in 0..3 {
        let t = Tree::new();
        let children: Vec<_> = (0..6)
            .map(|_| {
                t.cmd(&["coord", "provision"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let key_line = format!("created   {}", t.base.join("grant-key").display());
        let mut creators = 0;
        for o in &outs {
            assert_eq!(o.status.code(), Some(0), "{}", text(o));
            if String::from_utf8_lossy(&o.stdout).contains(&key_line) {
                creators += 1;
            }
        }
        assert_eq!(creators, 1, "exactly one process creates the key");
        assert_eq!(
            std::fs::metadata(t.base.join("grant-key")).unwrap().len(),
            32
        );
        // Everyone agrees: a grant minted now checks with the key on disk.
        let id = t.ok(&[
            "grant",
            "mint",
            "--gate",
            "repo-local",
            "--recipe",
            "r",
            "--ttl",
            "1h",
            "--reason",
            "x",
        ]);
        assert!(id.trim().starts_with("g-"));
        t.ok(&["grant", "check", "--gate", "repo-local", "--recipe", "r"]);
        t.ok(&["ledger", "verify"]);
    }
}

#[test]
fn coord_path_follows_the_resolver_precedence() {
    let t = Tree::new();
    let home = t.home.path();
    let path_of = |envs: &[(&str, String)], explicit: Option<&str>| -> String {
        let mut c = cc_ci(home);
        c.args(["coord", "path"]);
        if let Some(e) = explicit {
            c.args(["--coord-dir", e]);
        }
        for (k, v) in envs {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let h = home.display();
    let all = [
        ("CCCI_COORD_DIR", format!("{h}/envdir")),
        ("XDG_CACHE_HOME", format!("{h}/xdg")),
    ];
    assert!(path_of(&all, Some("/explicit/c")).contains("base     /explicit/c\n"));
    assert!(path_of(&all, None).contains(&format!("base     {h}/envdir\n")));
    let out = path_of(&all[1..], None);
    assert!(
        out.contains(&format!("base     {h}/xdg/cc-ci/coord\n")),
        "{out}"
    );
    assert!(
        out.contains(&format!("ledger   {h}/xdg/cc-ci/coord/ledger.db\n")),
        "{out}"
    );
    let out = path_of(&[], None);
    assert!(
        out.contains(&format!("base     {h}/.cache/cc-ci/coord\n")),
        "{out}"
    );
    assert!(
        out.contains(&format!("key      {h}/.cache/cc-ci/coord/grant-key\n")),
        "{out}"
    );
    let out = path_of(
        &[
            ("CCCI_GRANT_DIR", "/gd".to_string()),
            ("CCCI_GRANT_KEY", "/gk".to_string()),
        ],
        Some("/explicit/c"),
    );
    assert!(
        out.contains("grants   /gd\n") && out.contains("key      /gk\n"),
        "{out}"
    );
}

#[test]
fn without_any_base_the_binary_exits_2_with_a_hint() {
    let t = Tree::new();
    let out = cc_ci(t.home.path())
        .env_remove("HOME")
        .args(["coord", "path"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--coord-dir"));
}
