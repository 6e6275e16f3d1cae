//! `cc-ci run --deployer abra` end to end, with the abra double on the real engine: the runner's ops
//! become the expected abra calls with a per-run ABRA_DIR, the upgrade proof holds, a stale redeploy
//! fails the upgrade check, and teardown leaves nothing.

mod support;

use support::abra::{read_log, wrapper};
use support::cli::text;
use support::run::RunFixture;

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
fn abra_run_with_a_stale_redeploy_fails_the_upgrade_check() {
    let f = RunFixture::new("abrastale");
    let (args, _log) = abra_args(&f, &[("ABRA_DOUBLE_IGNORE_CHAOS", "1")]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = f.run(&args);
    let shown = text(&out);
    assert_ne!(
        out.status.code(),
        Some(0),
        "a stale upgrade must fail: {shown}"
    );
    assert_eq!(
        f.outcome("upgrade.yaml::deployed_head"),
        "failed",
        "{shown}"
    );
    f.assert_nothing_left();
}
