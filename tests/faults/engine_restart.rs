//! An engine restart during a run. Short (the engine is back within the engine wait): the deploy
//! rides it out and the run passes, deployed once, leaving nothing. Long (the engine stays down past
//! `--engine-wait`): the run ends with exit 3, an infrastructure failure said in the summary, the
//! Markdown, results.json and the ledger's run_end — and its teardown still waits for the engine and
//! removes the stack. The engine is stopped and started by pid (scripts/engine-restart.sh), while this
//! test holds the engine lock exclusively.

use std::process::{Child, Stdio};
use std::time::Instant;

use super::engine_lock::{restart_script, EngineLock};
use crate::support::cli::text;
use crate::support::recipe_repo::{build_from, project_root};
use crate::support::run::{copy_dir, RunFixture};
use crate::support::wait::{finish, wait_for_a_service};

/// The example recipe whose app answers its healthcheck only 15 s after it starts, so the engine
/// restart lands in the deploy's convergence wait.
fn slow_hello(tag: &str) -> RunFixture {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    copy_dir(&project_root().join("examples/recipes/hello"), &src);
    let compose = src.join("compose.yml");
    let text = std::fs::read_to_string(&compose).unwrap();
    let serve = "httpd -f -p 8080 -h /var/www & wait";
    assert!(text.contains(serve), "the example's command changed");
    let text = text.replace(serve, &format!("sleep 15 & wait; {serve}"));
    std::fs::write(&compose, text).unwrap();
    let repo = build_from(&src, &dir.path().join("hello"));
    RunFixture::around(dir, repo, "hello", tag)
}

/// The ledger mirror's `run_end` line of this fixture's coord tree.
fn run_end_line(f: &RunFixture) -> String {
    let mirror = std::fs::read_to_string(f.coord.join("ledger.jsonl")).unwrap();
    mirror
        .lines()
        .rfind(|l| l.contains("\"run_end\""))
        .unwrap_or_else(|| panic!("no run_end in the ledger: {mirror}"))
        .to_string()
}

fn spawn(f: &RunFixture, args: &[&str]) -> Child {
    f.command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn an_engine_restart_during_the_deploy_is_ridden_out_and_the_run_passes() {
    let _lock = EngineLock::exclusive();
    let f = slow_hello("ride");
    let start = Instant::now();
    let mut child = spawn(&f, &["--stages", "install"]);
    wait_for_a_service(&f.stack(), &mut child);
    assert!(restart_script(&["--down", "2"]), "the engine restarted");
    let out = finish(child);
    println!("run with a 2 s engine outage took {:?}", start.elapsed());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = f.results();
    assert_eq!(r["deploy_count"], 1, "{r:#}");
    assert_eq!(r["teardown"]["clean"], true, "{r:#}");
    assert!(r.get("infrastructure").is_none(), "{r:#}");
    f.assert_nothing_left();
    assert!(
        run_end_line(&f).contains("\"passed\""),
        "{}",
        run_end_line(&f)
    );
}

#[test]
fn an_engine_that_stays_down_past_the_engine_wait_ends_the_run_as_infrastructure() {
    let _lock = EngineLock::exclusive();
    let f = slow_hello("gone");
    let md = f.dir.path().join("summary.md");
    let md_arg = md.display().to_string();
    let start = Instant::now();
    let mut child = spawn(
        &f,
        &[
            "--stages",
            "install",
            "--engine-wait",
            "3s",
            "--summary-md",
            &md_arg,
        ],
    );
    wait_for_a_service(&f.stack(), &mut child);
    assert!(restart_script(&["--down", "12"]), "the engine restarted");
    let out = finish(child);
    println!(
        "run with a 12 s engine outage (wait 3 s) took {:?}",
        start.elapsed()
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(
        t.contains("INFRASTRUCTURE FAILURE"),
        "the summary says so: {t}"
    );
    assert!(t.contains("did not come back within"), "{t}");
    let r = f.results();
    let why = r["infrastructure"]
        .as_str()
        .unwrap_or_else(|| panic!("{r:#}"));
    assert!(why.contains("stopped answering"), "{why}");
    assert_eq!(r["exit_code"], 3);
    assert_eq!(
        r["teardown"]["clean"], true,
        "teardown waited for the engine: {r:#}"
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("Infrastructure failure (exit 3)"), "{md}");
    f.assert_nothing_left();
    let end = run_end_line(&f);
    assert!(end.contains("\"infrastructure\""), "{end}");
}
