//! `cc-ci overlay new|check|doc` through the real binary: one test per error message of `check`,
//! warnings that do not fail, scaffolds that pass `check`, and the generated reference in docs/.

use std::path::Path;
use std::process::Output;

use crate::support::cli::{cc_ci, text};

/// A temp project folder with the given files.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (p, t) in files {
        let p = d.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, t).unwrap();
    }
    d
}

fn check(dir: &Path, args: &[&str]) -> Output {
    let home = dir.join(".home");
    std::fs::create_dir_all(&home).unwrap();
    cc_ci(&home)
        .current_dir(dir)
        .args(["overlay", "check"])
        .args(args)
        .output()
        .unwrap()
}

/// Runs `overlay check` on one overlay file and returns its output, asserting exit 1.
fn check_fails(file_text: &str) -> String {
    let d = project(&[("overlays/app/t.yaml", file_text)]);
    let out = check(d.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

const T: &str = "tier: install\ntests:\n  - name: t\n";

#[test]
fn syntax_error_names_position() {
    let out = check_fails("tier: install\ntests: [\n");
    assert!(
        out.contains("overlays/app/t.yaml:3:1: yaml syntax error: "),
        "{out}"
    );
}

#[test]
fn unknown_key_names_expected_keys_and_closest() {
    let out = check_fails(&format!(
        "{T}    exec:\n      service: app\n      command: x\n      stdot: y\n"
    ));
    assert!(out.contains("overlays/app/t.yaml:7:7: unknown key `stdot` in exec check (expected one of: service, command, exit, stdout, stderr, record; hint: did you mean `stdout`?)"), "{out}");
    assert!(
        out.contains("checked 1 file(s): 1 error(s), 0 warning(s)"),
        "{out}"
    );
}

#[test]
fn unknown_check_kind_suggests_the_closest() {
    let out = check_fails(&format!("{T}    conveged: {{}}\n"));
    assert!(out.contains("overlays/app/t.yaml:4:5: unknown key `conveged` in test (expected one of: name, ignore, tags, converged,"), "{out}");
    assert!(out.contains("hint: did you mean `converged`?"), "{out}");
}

#[test]
fn missing_key_is_named() {
    let out = check_fails(&format!("{T}    file: {{service: app}}\n"));
    assert!(
        out.contains(
            "overlays/app/t.yaml:4:12: missing key `path` in file check (hint: add `path: …`)"
        ),
        "{out}"
    );
}

#[test]
fn duplicate_key_names_the_first_line() {
    let out = check_fails("tier: install\ntier: upgrade\ntests:\n  - name: t\n    converged: {}\n");
    assert!(
        out.contains(
            "overlays/app/t.yaml:2:1: key `tier` appears twice in spec file (first on line 1)"
        ),
        "{out}"
    );
}

#[test]
fn wrong_type_says_expected_and_found() {
    let out = check_fails(&format!(
        "{T}    exec: {{service: app, command: x, exit: one}}\n"
    ));
    assert!(out.contains("overlays/app/t.yaml:4:44: wrong type for `exit` in exec check: expected an integer, found the string \"one\""), "{out}");
}

#[test]
fn invalid_value_explains_and_hints() {
    let out = check_fails(&format!("{T}    logs: {{service: app, matches: \"(\"}}\n"));
    assert!(out.contains("overlays/app/t.yaml:4:35: invalid value for `matches` in logs check: `(` is not a valid regex: unclosed group (hint: regexes use Rust `regex` syntax"), "{out}");
}

#[test]
fn unknown_tier_suggests_the_closest() {
    let out = check_fails("tier: restor\ntests:\n  - name: t\n    converged: {}\n");
    assert!(out.contains("overlays/app/t.yaml:1:7: invalid value for `tier` in spec file: unknown tier `restor` (expected one of: install, upgrade, backup, restore, custom) (hint: did you mean `restore`?)"), "{out}");
}

#[test]
fn empty_file_is_an_error() {
    let out = check_fails("# nothing yet\n");
    assert!(out.contains("overlays/app/t.yaml:1:1: invalid spec file: the file is empty (hint: start with `tier: install` and `tests:`)"), "{out}");
}

#[test]
fn test_without_check_lists_the_kinds() {
    let out = check_fails(T);
    assert!(out.contains("overlays/app/t.yaml:3:5: test `t` has no check (expected one of: converged, healthy, label, deployed_head, version_moved, exec, file, logs, http, recorded, backup_exists)"), "{out}");
}

#[test]
fn test_with_two_checks_is_refused() {
    let out = check_fails(&format!("{T}    converged: {{}}\n    healthy: {{}}\n"));
    assert!(out.contains("overlays/app/t.yaml:5:5: test `t` has two checks, `converged` and `healthy` (hint: one check per test; split it into two tests)"), "{out}");
}

#[test]
fn duplicate_test_names_are_refused() {
    let out = check_fails(&format!(
        "{T}    converged: {{}}\n  - name: t\n    healthy: {{}}\n"
    ));
    assert!(out.contains("overlays/app/t.yaml:5:5: duplicate test name `t` (first defined on line 3; trial ids must be unique)"), "{out}");
}

#[test]
fn two_files_replacing_one_op_are_refused() {
    let spec =
        "tier: upgrade\nop: {skip: no upgrade path}\ntests:\n  - name: t\n    converged: {}\n";
    let d = project(&[("overlays/app/a.yaml", spec), ("overlays/app/b.yaml", spec)]);
    let out = check(d.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("overlays/app/b.yaml:1:1: invalid value for `op` in spec file: overlays/app/a.yaml already replaces the upgrade op"), "{s}");
}

#[test]
fn generic_tests_may_not_seed_or_replace_ops() {
    let d = project(&[(
        "generic-tests/backup.yaml",
        "tier: backup\nop: {skip: x}\ntests:\n  - name: t\n    backup_exists: {}\n",
    )]);
    let out = check(d.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("generic-tests/backup.yaml: generic tests may not have `op` or `before_op`"),
        "{}",
        text(&out)
    );
}

#[test]
fn recipe_yaml_errors_are_reported() {
    let d = project(&[(
        "overlays/app/recipe.yaml",
        "tiers: [install]\naccepted_statuses: [200, 404]\n",
    )]);
    let out = check(d.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("overlays/app/recipe.yaml:2:20: invalid value for `accepted_statuses` in recipe.yaml: 404 never counts"), "{}", text(&out));
}

#[test]
fn malformed_allowlist_line_is_reported() {
    let d = project(&[("overlays/repo-local-approved.txt", "# ok\nhello\n../evil\n")]);
    let out = check(d.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("overlays/repo-local-approved.txt:3:1: invalid allowlist entry: recipe name `../evil` contains a path separator"), "{}", text(&out));
}

#[test]
fn missing_path_is_a_usage_error() {
    let d = project(&[]);
    let out = check(d.path(), &["nowhere"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere does not exist"));
    let out = check(d.path(), &[]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("neither overlays/ nor generic-tests/ exists"));
}

#[test]
fn warnings_are_printed_but_do_not_fail() {
    let d = project(&[
        ("overlays/app/recipe.yaml", "tiers: [install, restore]\n"),
        ("overlays/app/up.yaml", "tier: upgrade\ntests:\n  - name: t\n    converged: {}\n"),
        ("overlays/app/r.yaml", "tier: restore\ntests:\n  - name: v\n    exec: {service: app, command: x, stdout: {regex: \".*\"}}\n  - name: s\n    recorded: {name: seed, service: app, command: cat /s}\n"),
    ]);
    let out = check(d.path(), &["overlays/app"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains(
            "overlays/app/up.yaml:1: warning: tier `upgrade` is not in the recipe's `tiers`"
        ),
        "{s}"
    );
    assert!(s.contains("overlays/app/r.yaml:3: warning: test `v` can never fail: `stdout` matches /.*/ matches every text"), "{s}");
    assert!(
        s.contains(
            "overlays/app/r.yaml:5: warning: test `s` compares with `seed`, but no `record` step"
        ),
        "{s}"
    );
    assert!(
        s.contains("checked 3 file(s): 0 error(s), 3 warning(s)"),
        "{s}"
    );
}

#[test]
fn scaffold_from_overlay_new_passes_check() {
    let d = project(&[]);
    let home = d.path().join(".home");
    std::fs::create_dir_all(&home).unwrap();
    let out = cc_ci(&home)
        .current_dir(d.path())
        .args(["overlay", "new", "myapp"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(d.path().join("overlays/myapp/recipe.yaml").is_file());
    let smoke = std::fs::read_to_string(d.path().join("overlays/myapp/smoke.yaml")).unwrap();
    assert!(
        smoke.contains("service: app") && smoke.contains("tier: install"),
        "{smoke}"
    );
    let out = check(d.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("checked 2 file(s): 0 error(s), 0 warning(s)"),
        "{}",
        text(&out)
    );

    let again = cc_ci(&home)
        .current_dir(d.path())
        .args(["overlay", "new", "myapp"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists; refusing to overwrite"),
        "{}",
        text(&again)
    );
}

#[test]
fn overlay_new_honours_dir_and_service_and_refuses_bad_names() {
    let d = project(&[]);
    let home = d.path().join(".home");
    std::fs::create_dir_all(&home).unwrap();
    let out = cc_ci(&home)
        .current_dir(d.path())
        .args([
            "overlay",
            "new",
            "web",
            "--dir",
            "mine",
            "--service",
            "nginx",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let smoke = std::fs::read_to_string(d.path().join("mine/web/smoke.yaml")).unwrap();
    assert!(smoke.contains("service: nginx"), "{smoke}");
    let bad = cc_ci(&home)
        .current_dir(d.path())
        .args(["overlay", "new", "../web"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(4), "{}", text(&bad));
}

#[test]
fn the_projects_own_specs_pass_check_without_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = check(root, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(" 0 error(s), 0 warning(s)"),
        "{}",
        text(&out)
    );
}

#[test]
fn doc_prints_the_reference_that_docs_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = tempfile::tempdir().unwrap();
    let out = cc_ci(d.path()).args(["overlay", "doc"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let printed = String::from_utf8(out.stdout).unwrap();
    for kind in [
        "converged",
        "healthy",
        "label",
        "deployed_head",
        "version_moved",
        "exec",
        "file",
        "logs",
        "http",
        "recorded",
        "backup_exists",
        "wait_healthy",
        "sleep",
        "record",
    ] {
        assert!(printed.contains(&format!("### `{kind}`")), "{kind}");
    }
    let stored = std::fs::read_to_string(root.join("docs/spec-reference.md")).unwrap();
    assert_eq!(stored, printed, "docs/spec-reference.md is stale: regenerate it with `cc-ci overlay doc > docs/spec-reference.md`");
}

#[test]
fn a_test_that_is_not_a_mapping_says_what_it_found() {
    let out = check_fails("tier: install\ntests:\n  - converged\n");
    assert!(
        out.contains(
            "overlays/app/t.yaml:3:5: test must be a mapping, found the string \"converged\""
        ),
        "{out}"
    );
}

#[test]
fn unreadable_or_oversized_files_are_errors_not_crashes() {
    let d = project(&[("overlays/app/big.yaml", &"#".repeat(2 << 20))]);
    std::fs::write(d.path().join("overlays/app/bin.yaml"), [0xff, 0xfe, 0x00]).unwrap();
    let out = check(d.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("overlays/app/big.yaml: is larger than 1048576 bytes; a spec file is small (hint: split it)"), "{s}");
    assert!(
        s.contains("overlays/app/bin.yaml:1:1: byte 0xff is not UTF-8 text"),
        "{s}"
    );
}

#[test]
fn alias_bombs_are_refused() {
    let mut t = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..8 {
        let p = if i == 0 {
            "a".to_string()
        } else {
            format!("l{}", i - 1)
        };
        t.push_str(&format!(
            "l{i}: &l{i} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        ));
    }
    let out = check_fails(&t);
    assert!(
        out.contains(
            "yaml syntax error: aliases expand to more than 10000 nodes; refusing the file"
        ),
        "{out}"
    );
}

#[test]
fn overlay_new_validates_the_name_as_run_does() {
    let d = project(&[]);
    let home = d.path().join(".home");
    std::fs::create_dir_all(&home).unwrap();
    let out = cc_ci(&home)
        .current_dir(d.path())
        .args(["overlay", "new", "Bonfire"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("lowercase"), "{}", text(&out));
    assert!(!d.path().join("overlays").exists());
}

#[test]
fn overlay_new_from_a_recipe_refuses_a_name_that_is_not_its_type() {
    let src = crate::support::recipe_repo::project_root()
        .join("tests/fixtures/recipes/pastebin-coop-cloud");
    let d = project(&[]);
    let home = d.path().join(".home");
    std::fs::create_dir_all(&home).unwrap();
    let out = cc_ci(&home)
        .current_dir(d.path())
        .args(["overlay", "new", "pastebin-coop-cloud", "--from"])
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(
        text(&out).contains("overlay new pastebin --from"),
        "{}",
        text(&out)
    );
    assert!(!d.path().join("overlays").exists());
    let ok = cc_ci(&home)
        .current_dir(d.path())
        .args(["overlay", "new", "pastebin", "--from"])
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let meta = std::fs::read_to_string(d.path().join("overlays/pastebin/recipe.yaml")).unwrap();
    assert!(
        meta.contains("main_service: app") && meta.contains("http_port: 8080"),
        "{meta}"
    );
    assert!(
        meta.contains("no release tag"),
        "a folder that is not a git repo has no release: {meta}"
    );
    assert!(d.path().join("overlays/pastebin/restore.yaml").is_file());
    let checked = check(d.path(), &["overlays/pastebin"]);
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked));
}
