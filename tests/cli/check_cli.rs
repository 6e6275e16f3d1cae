//! `cc-ci check` and the preflight of `cc-ci run --list`, through the real binary with Docker
//! unreachable: the recipe is named by TYPE, a non-recipe is refused with exit 4, every tier that will
//! not run says why, and `--stack-config` prints what `docker stack config` prints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::cli::{cc_ci, text};
use crate::support::oracle::{differences, stack_config};
use crate::support::process::output_within;
use crate::support::recipe_repo::{build_from, project_root, RecipeRepo};

/// A clone of the social fixture as a git repo with release tags, in a directory named like a
/// real clone (`social-coop-cloud`), plus a data dir with the project's generic tests.
struct Fixture {
    dir: tempfile::TempDir,
    repo: RecipeRepo,
    data: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let repo = build_from(
        &project_root().join("tests/fixtures/recipes/social-coop-cloud"),
        &dir.path().join("social-coop-cloud"),
    );
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("overlays")).unwrap();
    copy(
        &project_root().join("generic-tests"),
        &data.join("generic-tests"),
    );
    Fixture { dir, repo, data }
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// `cc-ci COMMAND ARGS… --recipe RECIPE` with the engine unreachable (a port nothing listens on), the
/// fixture's data dir and a private coord tree.
fn cmd(f: &Fixture, command: &str, args: &[&str], recipe: &Path) -> Command {
    let mut c = cc_ci(f.dir.path());
    c.env("DOCKER_HOST", "tcp://127.0.0.1:9")
        .env_remove("RECIPE")
        .env_remove("REF")
        .env_remove("PR")
        .env_remove("STAGES")
        .arg(command)
        .arg("--data-dir")
        .arg(&f.data)
        .arg("--coord-dir")
        .arg(f.dir.path().join("coord"))
        .args(args)
        .arg("--recipe")
        .arg(recipe);
    c
}

fn check(f: &Fixture, extra: &[&str]) -> Output {
    cmd(f, "check", extra, &f.repo.path).output().unwrap()
}

/// `git ARGS` in `dir` as a fixed identity, within a minute; panics with git's output on failure.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = output_within(
        Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(dir),
        std::time::Duration::from_secs(60),
    );
    assert!(out.status.success(), "git {args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn check_names_the_recipe_from_type_and_works_without_an_engine() {
    let f = fixture();
    let out = check(&f, &[]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let s = stdout(&out);
    assert!(
        s.contains("recipe: social (TYPE in .env.sample:1)"),
        "{shown}"
    );
    assert!(
        s.contains("compose files: compose.yml, compose.postgres.yml, compose.host-ports.yml"),
        "{shown}"
    );
    assert!(s.contains("previous release: 1.1.0+"), "{shown}");
    // No green run in a fresh coord tree: the base is the previous release, and why.
    assert!(
        s.contains("upgrade base: ") && s.contains(" (previous release 1.1.0+"),
        "{shown}"
    );
    assert!(
        s.contains("  why: no green run of social on this host; the newest release tag"),
        "{shown}"
    );
    assert!(
        s.contains("warning: services.app.tmpfs: ignored"),
        "{shown}"
    );
    assert!(s.contains("lint: passed"), "{shown}");
    // The fixture has no repo-local files: nothing to decide is `none`, never a deny.
    assert!(
        s.contains("trust gate (repo-local, 0 file(s)): none — "),
        "{shown}"
    );
    assert!(
        !f.dir.path().join("coord/ledger.db").exists(),
        "check records nothing"
    );
}

#[test]
fn check_json_gives_every_tier_a_verdict_and_a_reason_when_it_will_not_run() {
    let f = fixture();
    std::fs::write(
        f.repo.path.join("compose.postgres.yml"),
        std::fs::read_to_string(f.repo.path.join("compose.postgres.yml"))
            .unwrap()
            .replace("backupbot.backup: \"true\"", "backupbot.backup: \"false\""),
    )
    .unwrap();
    std::fs::write(
        f.repo.path.join("compose.yml"),
        std::fs::read_to_string(f.repo.path.join("compose.yml"))
            .unwrap()
            .replace(
                "- \"backupbot.backup=true\"",
                "- \"backupbot.backup=false\"",
            ),
    )
    .unwrap();
    let out = check(&f, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["recipe"], "social");
    let tiers: BTreeMap<String, (bool, String)> = r["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tier"].as_str().unwrap().to_string(),
                (
                    t["runs"].as_bool().unwrap(),
                    t["reason"].as_str().unwrap_or("").to_string(),
                ),
            )
        })
        .collect();
    assert_eq!(tiers["install"], (true, String::new()));
    assert!(tiers["upgrade"].0);
    for t in ["backup", "restore"] {
        assert!(
            !tiers[t].0 && tiers[t].1.contains("backupbot.backup=true"),
            "{tiers:?}"
        );
    }
}

#[test]
fn check_refuses_a_repository_that_is_not_a_recipe_with_exit_4() {
    let f = fixture();
    std::fs::remove_file(f.repo.path.join("compose.yml")).unwrap();
    let out = check(&f, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("not a recipe"), "{}", text(&out));
}

#[test]
fn check_names_the_file_and_line_of_a_compose_error() {
    let f = fixture();
    let p = f.repo.path.join("compose.host-ports.yml");
    let t = std::fs::read_to_string(&p)
        .unwrap()
        .replace("published: 4000", "published: 4000x");
    std::fs::write(&p, t).unwrap();
    let out = check(&f, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(
        text(&out).contains("compose.host-ports.yml:8"),
        "{}",
        text(&out)
    );
}

#[test]
fn check_exits_1_when_the_lint_finds_problems() {
    let f = fixture();
    let p = f.repo.path.join("compose.yml");
    let t = std::fs::read_to_string(&p)
        .unwrap()
        .replace("image: nginx:1.27.3", "image: nginx");
    std::fs::write(&p, t).unwrap();
    let out = check(&f, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stdout(&out).contains("has no tag"), "{}", text(&out));
}

#[test]
fn check_stack_config_prints_what_docker_stack_config_prints() {
    let f = fixture();
    let out = check(&f, &["--stack-config", "--domain", "social.ci.local"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let ours: serde_yaml::Value = serde_yaml::from_slice(&out.stdout).unwrap();
    let env = cc_ci::deploy::compose::app_env(
        &f.repo.path,
        "social_ci_local",
        "social.ci.local",
        &BTreeMap::new(),
    )
    .unwrap();
    let files = cc_ci::deploy::compose::compose_files(&f.repo.path, &env.vars);
    let docker = stack_config(&files, &env.vars, &f.repo.path);
    let ignored: Vec<String> = [
        "services.app.tmpfs",
        "services.app.depends_on",
        "services.db.shm_size",
    ]
    .map(String::from)
    .to_vec();
    let diff = differences(&ours, &docker, &ignored);
    assert!(diff.is_empty(), "{}", diff.join("\n"));
}

#[test]
fn run_list_keys_overlays_by_type_and_refuses_a_non_recipe() {
    let f = fixture();
    let overlay = f.data.join("overlays/social");
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::write(
        overlay.join("smoke.yaml"),
        "tier: install\ntests:\n  - name: converged\n    converged: {}\n",
    )
    .unwrap();
    let out = cmd(&f, "run", &["--list"], &f.repo.path).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        stdout(&out).contains("install::overlays/social/smoke.yaml::converged: test"),
        "{}",
        text(&out)
    );
    git(&f.repo.path, &["rm", "-q", "compose.yml"]);
    git(
        &f.repo.path,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "not a recipe",
        ],
    );
    let out = cmd(&f, "run", &["--list"], &f.repo.path).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("not a recipe"), "{}", text(&out));
}

#[test]
fn run_list_says_why_a_selected_tier_will_not_run() {
    let f = fixture();
    let bare = f.dir.path().join("no-tags");
    git(
        f.dir.path(),
        &[
            "clone",
            "-q",
            f.repo.path.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    for tag in git(&bare, &["tag"]).lines() {
        git(&bare, &["tag", "-d", tag]);
    }
    let out = cmd(&f, "run", &["--list", "--stages", "upgrade"], &bare)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let s = stdout(&out);
    assert!(
        s.contains("tier upgrade will not run: unsupported: no previous release"),
        "{s}"
    );
    assert!(
        s.contains("tier backup will not run: not selected (STAGES=upgrade)"),
        "{s}"
    );
}

#[test]
fn run_shows_the_lint_verdict_and_compose_warnings_before_an_unreachable_engine() {
    let f = fixture();
    let out = cmd(&f, "run", &["--stages", "install"], &f.repo.path)
        .output()
        .unwrap();
    let shown = text(&out);
    assert_eq!(
        out.status.code(),
        Some(3),
        "the engine is unreachable: {shown}"
    );
    assert!(
        shown.contains("recipe: social (TYPE in .env.sample:1)"),
        "{shown}"
    );
    assert!(
        shown.contains("compose: services.app.tmpfs: ignored"),
        "{shown}"
    );
    assert!(
        shown.contains("lint              passed (cc-ci built-in lint)"),
        "{shown}"
    );
    assert!(shown.contains("engine"), "{shown}");
}

#[test]
fn run_refuses_a_recipe_that_does_not_load_with_exit_4_before_the_engine() {
    let f = fixture();
    let p = f.repo.path.join("compose.yml");
    let t = std::fs::read_to_string(&p).unwrap().replace(
        "image: nginx:1.27.3",
        "image: ${NGINX_IMAGE:?set NGINX_IMAGE}",
    );
    std::fs::write(&p, t).unwrap();
    git(&f.repo.path, &["commit", "-qam", "breaks the recipe"]);
    let out = cmd(&f, "run", &[], &f.repo.path).output().unwrap();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(4), "{shown}");
    assert!(
        shown.contains("compose.yml:") && shown.contains("NGINX_IMAGE"),
        "{shown}"
    );
    assert!(shown.contains("nothing was deployed"), "{shown}");
}
