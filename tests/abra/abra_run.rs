//! `cc-ci run --deployer abra` end to end, with the abra double on the real engine: the runner's ops
//! become the expected abra calls with a per-run ABRA_DIR, the upgrade proof holds, a stale redeploy
//! fails the upgrade check, and teardown leaves nothing.

use crate::support::abra::{read_log, wrapper};
use crate::support::cli::text;
use crate::support::run::RunFixture;

fn abra_args(f: &RunFixture, extra_env: &[(&str, &str)]) -> (Vec<String>, std::path::PathBuf) {
    let log = f.dir.path().join("abra-calls.jsonl");
    let bin = wrapper(&f.dir.path().join("bin"), &log, extra_env);
    (
        vec![
            "--deployer".into(),
            "abra".into(),
            "--abra".into(),
            bin.display().to_string(),
        ],
        log,
    )
}

#[test]
fn abra_run_passes_all_tiers_through_the_double_with_one_fresh_deploy() {
    let f = RunFixture::new("abra");
    let (args, log) = abra_args(&f, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = f.run(&args);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let r = f.results();
    assert_eq!(r["deploy_count"], 1, "{shown}");
    assert_eq!(
        r["upgrade_proof"]["chaos_version"].as_str().unwrap(),
        &f.repo.head[..8],
        "{shown}"
    );
    f.assert_nothing_left();

    let calls = read_log(&log);
    let verbs: Vec<String> = calls
        .iter()
        .map(|c| {
            c.argv
                .iter()
                .take_while(|a| !a.contains('.'))
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(
        verbs,
        [
            "app new hello",
            "app secret generate",
            "app deploy",
            "app deploy",
            "app backup create",
            "app restore",
            "app undeploy",
            "app remove",
            "recipe lint hello --chaos --offline --no-input",
        ],
        "{shown}"
    );
    let d = &f.domain;
    assert_eq!(
        calls[0].line(),
        format!("abra app new hello 1.1.0+1.36.1 --server default --domain {d} --no-input")
    );
    assert_eq!(
        calls[3].line(),
        format!("abra app deploy {d} --chaos --no-input --force")
    );
    let abra_dir = calls[0].env.get("ABRA_DIR").cloned().unwrap();
    assert!(
        !abra_dir.contains(".abra"),
        "never the user's ~/.abra: {abra_dir}"
    );
    assert!(calls
        .iter()
        .all(|c| c.env.get("ABRA_DIR") == Some(&abra_dir)));
}

#[test]
fn stale_upgrade_fails_chaos_check() {
    let f = RunFixture::new("stale");
    let log = f.dir.path().join("abra.log");
    // The double ignores --chaos and redeploys the previous release: the PR head never runs.
    let abra = wrapper(
        &f.dir.path().join("bin"),
        &log,
        &[("ABRA_DOUBLE_IGNORE_CHAOS", "1")],
    );
    let out = f.run(&[
        "--deployer",
        "abra",
        "--abra",
        abra.to_str().unwrap(),
        "--stages",
        "install,upgrade",
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert_eq!(
        f.outcome("upgrade.yaml::deployed_head"),
        "failed",
        "{shown}"
    );
    let r = f.results();
    let msg = r["tiers"][1]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"].as_str().unwrap().ends_with("deployed_head"))
        .map(|t| {
            t["outcome"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap();
    assert!(msg.contains(&f.repo.head), "names head_ref: {msg}");
    assert!(
        msg.contains("version=1.1.0+1.36.1"),
        "names the stale deployed version: {msg}"
    );
    f.assert_nothing_left();
}
