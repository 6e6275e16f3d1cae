//! The abra double refuses what real abra refuses (docs/abra.md, "The contract"): an unknown flag,
//! `app new` on a server nobody registered, `app deploy` of a CI domain without
//! `--no-domain-checks`, and `recipe lint` / `app backup` / `app restore` without a terminal. None of
//! these needs the engine: the refusals come before any docker call.

use std::path::Path;

use crate::support::abra_log::{double_command, double_on_terminal, read_log};
use crate::support::recipe_repo::project_root;

/// An ABRA_DIR whose `recipes/hello` is a copy of the example recipe (no server registered).
fn abra_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let recipe = d.path().join("recipes/hello");
    std::fs::create_dir_all(&recipe).unwrap();
    for e in std::fs::read_dir(project_root().join("examples/recipes/hello")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), recipe.join(e.file_name())).unwrap();
    }
    d
}

/// Runs the double without a terminal: (exit code, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = double_command(dir, args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const DOMAIN: &str = "hello-double.ci.local";

fn app_new(dir: &Path) -> (Option<i32>, String, String) {
    let args = [
        "app", "new", "hello", "--chaos", "--server", "default", "--domain", DOMAIN, "-n",
    ];
    run(dir, &args)
}

#[test]
fn an_unknown_flag_is_refused_like_abra_does() {
    let d = abra_dir();
    let (code, _, err) = run(d.path(), &["app", "deploy", DOMAIN, "--bogus", "-n"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("FATA flag provided but not defined: --bogus"),
        "{err}"
    );
    let (code, _, err) = run(d.path(), &["server", "add", "--local", "--wat"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("--wat"), "{err}");
}

#[test]
fn app_new_on_an_unregistered_server_is_refused_until_server_add_local() {
    let d = abra_dir();
    let (code, _, err) = app_new(d.path());
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("server default does not exist") && err.contains("abra server add --local"),
        "{err}"
    );
    assert!(!d.path().join("servers").exists(), "nothing was created");

    let (code, out, err) = run(d.path(), &["server", "add", "--local", "-n"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(d.path().join("servers/default").is_dir());
    let (code, out, err) = app_new(d.path());
    assert_eq!(code, Some(0), "{out}{err}");
    let env =
        std::fs::read_to_string(d.path().join(format!("servers/default/{DOMAIN}.env"))).unwrap();
    assert!(env.contains(&format!("DOMAIN={DOMAIN}")), "{env}");

    // Only the local host: a named remote server needs SSH, which the double does not have.
    let (code, _, err) = run(d.path(), &["server", "add", "example.org", "-n"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("--local"), "{err}");
}

#[test]
fn app_deploy_of_a_ci_domain_without_no_domain_checks_is_refused() {
    let d = abra_dir();
    assert_eq!(run(d.path(), &["server", "add", "--local"]).0, Some(0));
    assert_eq!(app_new(d.path()).0, Some(0));
    for args in [
        vec!["app", "deploy", DOMAIN, "--chaos", "-n"],
        vec!["app", "deploy", DOMAIN, "--chaos", "--force", "-n"],
    ] {
        let (code, _, err) = run(d.path(), &args);
        assert_eq!(code, Some(1), "{args:?}");
        assert!(
            err.contains(&format!("domain check failed for {DOMAIN}"))
                && err.contains("--no-domain-checks"),
            "{err}"
        );
    }
}

#[test]
fn lint_backup_and_restore_without_a_terminal_are_refused() {
    let d = abra_dir();
    for args in [
        vec!["recipe", "lint", "hello", "--chaos", "-n"],
        vec!["app", "backup", "create", DOMAIN, "-n"],
        vec!["app", "restore", DOMAIN, "-n"],
    ] {
        let (code, _, err) = run(d.path(), &args);
        assert_eq!(code, Some(1), "{args:?}");
        assert!(
            err.contains("FATA inappropriate ioctl for device"),
            "{args:?}: {err}"
        );
    }
    // On a terminal the same commands get past that check: lint lints, backup and restore go on to
    // look for the app (there is none here).
    let (code, out) = double_on_terminal(d.path(), &["recipe", "lint", "hello", "--chaos", "-n"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("R009") && !out.contains("ioctl"), "{out}");
    for args in [
        ["app", "backup", "create", DOMAIN, "-n"].as_slice(),
        ["app", "restore", DOMAIN, "-n"].as_slice(),
    ] {
        let (code, out) = double_on_terminal(d.path(), args);
        assert_eq!(code, Some(1), "{out}");
        assert!(
            out.contains(&format!("cannot find app with name {DOMAIN}")) && !out.contains("ioctl"),
            "{out}"
        );
    }
    let calls = read_log(&d.path().join("abra-double.log"));
    assert_eq!(calls.len(), 6);
    assert!(calls[..3].iter().all(|c| !c.tty.stdin && !c.tty.stdout));
    assert!(calls[3..].iter().all(|c| c.tty.stdin && c.tty.stdout));
}

#[test]
fn an_env_file_line_without_an_equals_sign_is_refused_with_its_line() {
    let d = abra_dir();
    assert_eq!(run(d.path(), &["server", "add", "--local"]).0, Some(0));
    assert_eq!(app_new(d.path()).0, Some(0));
    let env = d.path().join(format!("servers/default/{DOMAIN}.env"));
    let mut text = std::fs::read_to_string(&env).unwrap();
    text.push_str("NOT A SETTING\n");
    std::fs::write(&env, text).unwrap();
    let (code, _, err) = run(
        d.path(),
        &[
            "app",
            "deploy",
            DOMAIN,
            "--chaos",
            "--no-domain-checks",
            "-n",
        ],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains(&format!("{}:", env.display())) && err.contains("NOT A SETTING"),
        "{err}"
    );
}
