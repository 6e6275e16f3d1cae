//! The PostgreSQL fixture (`examples/recipes/dbapp` with its shipped overlay) through the abra
//! deployer, driven by the abra command-line double (`tests/support/abra-double`, as it is) on the real
//! engine: the same overlay that passes with the built-in deployer passes here, in all four tiers,
//! with one fresh deploy and nothing left behind.

use crate::support::abra::wrapper;
use crate::support::run::RunFixture;
use crate::support::shipped::ShippedRun;

#[test]
fn dbapp_overlay_passes_through_all_four_tiers_with_the_abra_double() {
    let f = RunFixture::shipped("dbapp", "abra");
    let log = f.dir.path().join("abra-calls.jsonl");
    let bin = wrapper(&f.dir.path().join("bin"), &log, &[]);
    let bin = bin.display().to_string();
    let run = ShippedRun::run_with(
        f,
        &[
            "--stages",
            "install,upgrade,backup,restore",
            "--deployer",
            "abra",
            "--abra",
            &bin,
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.shown);
    assert_eq!(
        run.overlay_passed(),
        super::overlays_shipped::dbapp_overlay(),
        "{}",
        run.shown
    );
    assert!(run.failed.is_empty(), "{:?}\n{}", run.failed, run.shown);
    // The ops went through abra (its exact flags are the abra deployer's own contract, tested there):
    // the previous release installed, the PR head deployed with --chaos, a backup, a restore.
    // The double's log: one JSON object per call, its arguments under `argv`.
    let calls: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let argv: Vec<&str> = v["argv"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            format!("abra {}", argv.join(" "))
        })
        .collect();
    let d = &run.fixture.domain;
    for prefix in [
        "abra app new dbapp 1.1.0+15.18 ".to_string(),
        format!("abra app deploy {d} --chaos "),
        format!("abra app backup create {d} "),
        format!("abra app restore {d} "),
    ] {
        assert_eq!(
            calls.iter().filter(|c| c.starts_with(&prefix)).count(),
            1,
            "{prefix}: {calls:#?}"
        );
    }
    run.assert_deployed_once_and_torn_down();
}
