//! The upgrade base through abra (the double, on the real engine): the first run installs the previous
//! release (`app new hello <tag>`); once it is green, a PR on top of it installs that green run's
//! commit as a chaos deploy (`app new hello --chaos` on a checkout at the base) and upgrades to the PR
//! head.

use crate::support::abra::wrapper;
use crate::support::abra_log::read_log;
use crate::support::cli::text;
use crate::support::fixture::commit_all;
use crate::support::run::RunFixture;

fn abra_run(f: &RunFixture, git_ref: &str, log: &std::path::Path) -> serde_json::Value {
    let bin = wrapper(&f.dir.path().join("bin"), log, &[]);
    let out = f.run(&[
        "--deployer",
        "abra",
        "--abra",
        bin.to_str().unwrap(),
        "--stages",
        "install,upgrade",
        "--ref",
        git_ref,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    f.assert_nothing_left();
    f.results()
}

/// The `app new` call of a run's abra log.
fn app_new(log: &std::path::Path) -> String {
    read_log(log)
        .iter()
        .find(|c| c.argv.starts_with(&["app".to_string(), "new".to_string()]))
        .map(|c| c.line())
        .expect("an app new call")
}

#[test]
fn abra_installs_the_last_green_runs_commit_as_a_chaos_deploy_before_the_upgrade() {
    let f = RunFixture::new("abrabase");
    let main = f.repo.head.clone();
    let first_log = f.dir.path().join("first.jsonl");
    let a = abra_run(&f, &main, &first_log);
    assert_eq!(a["upgrade_base"]["from"], "previous_release");
    assert!(
        app_new(&first_log).starts_with("abra app new hello 1.1.0+1.36.1 "),
        "{}",
        app_new(&first_log)
    );

    std::fs::write(f.repo.path.join("README.md"), "the PR\n").unwrap();
    let pr = commit_all(&f.repo.path, "the PR on top of main");
    let second_log = f.dir.path().join("second.jsonl");
    let c = abra_run(&f, &pr, &second_log);
    let base = &c["upgrade_base"];
    assert_eq!(base["from"], "last_green", "{c:#}");
    assert_eq!(base["commit"], main.as_str());
    assert_eq!(base["run_id"], a["run_id"]);
    assert!(
        app_new(&second_log).starts_with("abra app new hello --chaos "),
        "{}",
        app_new(&second_log)
    );
    let proof = &c["upgrade_proof"];
    assert_eq!(proof["chaos_version_before"], &main[..8], "{c:#}");
    assert_eq!(proof["chaos_version"], &pr[..8], "{c:#}");
}
