//! Teardown is sacred, even after SIGKILL (guarantee 6): a deploy killed mid-way leaves resources
//! labelled with a lock nobody holds, and the janitor reaps them (and a dead run dir's unlabelled,
//! abra-made ones) while leaving live runs alone.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::engine::{engine, unique, TestApp};
use cc_ci::deploy::{stack_name, Deployer};
use cc_ci::docker::{JanitorScope, RunLock};

#[test]
fn janitor_reaps_a_killed_deploy_and_leaves_live_runs_alone() {
    let e = engine();
    let mut live = TestApp::new("jan-live");
    live.checkout("main");
    live.install(false);

    let work = tempfile::tempdir().unwrap();
    let runs = work.path().join("runs");
    // A live run dir in the same runs dir, for the live app: never reaped.
    let _live_dir_lock =
        RunLock::acquire(&runs.join("live"), &live.app.run_id, &live.stack).unwrap();

    // A deploy killed mid-way.
    let id = unique();
    let domain = format!("jan-dead-{id}.ci.test");
    let stack = stack_name(&domain);
    let repo = crate::support::recipe_repo::build("hello", &work.path().join("hello"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_cc-ci"))
        .args(["engine", "deploy", "--domain", &domain, "--run-id", &id])
        .arg("--checkout")
        .arg(&repo.path)
        .arg("--run-dir")
        .arg(runs.join(&id))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while e.services(&stack).unwrap().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the deploy never created its service"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !RunLock::is_alive(&runs.join(&id).join("lock")),
        "the kernel released the dead run's lock"
    );
    let left_by_kill = e.leftovers(Some(&id), &stack).unwrap();
    assert!(!left_by_kill.is_empty());

    // A dead run dir whose app was made by abra: its secret carries no cc-ci label.
    let abra_id = unique();
    let abra_stack = format!("jan_abra_{abra_id}");
    drop(RunLock::acquire(&runs.join(&abra_id), &abra_id, &abra_stack).unwrap());
    let secret = format!("{abra_stack}_pw_v1");
    e.ensure_secret(&secret, &HashMap::new(), &mut || {
        b"not-a-real-secret".to_vec()
    })
    .unwrap();

    let mine = |s: &str| s == stack || s == abra_stack || s == live.stack;

    // Another coord tree's pass (its own runs dir) leaves this tree's dead runs alone: their ledger is
    // this tree's. `--all-trees` would take them.
    let other_tree = work.path().join("other-tree-runs");
    let mut foreign = Vec::new();
    e.janitor_filtered(&other_tree, JanitorScope::Tree, false, &mine, &mut |r| {
        foreign.push(r.clone())
    })
    .unwrap();
    assert_eq!(foreign, Vec::new(), "another tree reaped nothing of ours");
    assert!(!e.leftovers(Some(&id), &stack).unwrap().is_empty());
    let mut would = Vec::new();
    e.janitor_filtered(&other_tree, JanitorScope::AllTrees, true, &mine, &mut |r| {
        would.push(r.clone())
    })
    .unwrap();
    assert!(
        would.iter().any(|r| r.name == format!("{stack}_app")),
        "an all-trees pass would: {would:?}"
    );

    // The CLI's dry run names what it would remove and removes nothing.
    let home = tempfile::tempdir().unwrap();
    let out = crate::support::cli::cc_ci(home.path())
        .args(["janitor", "--dry-run", "--runs-dir"])
        .arg(&runs)
        .output()
        .unwrap();
    let text = crate::support::cli::text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("would remove secret {secret}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("would remove service {stack}_app")),
        "{text}"
    );
    assert!(
        !text.contains(&live.stack),
        "a live run is never listed: {text}"
    );
    assert!(
        !e.leftovers(None, &abra_stack).unwrap().is_empty(),
        "a dry run removes nothing"
    );

    let mut removed = Vec::new();
    let report = e
        .janitor_filtered(&runs, JanitorScope::Tree, false, &mine, &mut |r| {
            removed.push(r.clone())
        })
        .unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    assert!(
        removed
            .iter()
            .any(|r| r.kind == "service" && r.name == format!("{stack}_app")),
        "{removed:?}"
    );
    for left in left_by_kill.iter().filter(|l| !l.starts_with("container ")) {
        assert!(
            removed
                .iter()
                .any(|r| &format!("{} {}", r.kind, r.name) == left),
            "{left} was reaped: {removed:?}"
        );
    }
    assert!(
        removed
            .iter()
            .any(|r| r.kind == "secret" && r.name == secret),
        "{removed:?}"
    );
    assert!(removed.iter().all(|r| r.stack != live.stack), "{removed:?}");
    assert_eq!(
        e.leftovers(Some(&id), &stack).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        e.leftovers(None, &abra_stack).unwrap(),
        Vec::<String>::new()
    );
    assert!(runs.join(&id).join("reaped").exists());

    let s = e.services(&live.stack).unwrap();
    assert!(
        s.len() == 1 && s[0].converged(),
        "the live run is untouched: {s:?}"
    );
    live.deployer.teardown().unwrap();
}
