//! `cc-ci run --deployer abra` end to end, against the abra double on the real engine: the exact
//! command lines cc-ci sends, in order, and the upgrade proof that a stale redeploy cannot pass.

mod support;

use support::cli::text;
use support::run::RunFixture;

#[test]
fn abra_run_sends_the_expected_commands_in_order_and_passes() {
    let f = RunFixture::new("abra");
    let log = f.dir.path().join("abra.log");
    let abra = support::abra::wrapper(&f.dir.path().join("bin"), &log, &[]);
    let out = f.run(&[
        "--deployer",
        "abra",
        "--abra",
        abra.to_str().unwrap(),
        "--stages",
        "install,upgrade,backup,restore",
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert_eq!(f.results()["deploy_count"], 1, "{shown}");
    let d = &f.domain;
    let lines: Vec<String> = support::abra::read_log(&log)
        .iter()
        .map(|c| c.line())
        .collect();
    let expected = [
        format!("abra app new hello 1.1.0+1.36.1 --server default --domain {d} --no-input"),
        format!("abra app secret generate {d} --all --no-input"),
        format!("abra app deploy {d} 1.1.0+1.36.1 --no-input"),
        format!("abra app deploy {d} --chaos --no-input --force"),
        format!("abra app backup create {d} --no-input"),
        format!("abra app restore {d} --no-input"),
        format!("abra app undeploy {d} --no-input"),
    ];
    for (i, want) in expected.iter().enumerate() {
        assert_eq!(lines.get(i), Some(want), "call {i} of {lines:#?}");
    }
    assert!(
        lines[expected.len()..]
            .iter()
            .any(|l| l.starts_with(&format!("abra app rm {d}"))
                || l.starts_with(&format!("abra app remove {d}"))),
        "the app is removed at teardown: {lines:#?}"
    );
    // Every call ran with the run's own abra state directory.
    for c in support::abra::read_log(&log) {
        let dir = c.env.get("ABRA_DIR").expect("ABRA_DIR set");
        assert!(dir.contains("/runs/") && dir.ends_with("/abra"), "{dir}");
    }
    f.assert_nothing_left();
}

#[test]
fn stale_upgrade_fails_chaos_check() {
    let f = RunFixture::new("stale");
    let log = f.dir.path().join("abra.log");
    // The double ignores --chaos and redeploys the previous release: the PR head never runs.
    let abra = support::abra::wrapper(
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
