//! Concurrent runs are safe: four runs of the same recipe, from the same recipe name (one shared
//! per-host cache) into one coord tree, at the same time, all pass with distinct checkouts, stacks and
//! run directories, and leave nothing behind. The ledger they share still verifies.

mod support;

use std::process::Stdio;

use support::cli::text;
use support::run::RunFixture;

#[test]
fn four_runs_of_the_same_recipe_at_once_all_pass_and_leave_nothing() {
    // One forge directory holding the recipe repo `hello.git`, one coord tree shared by all four runs.
    let forge = tempfile::tempdir().unwrap();
    support::recipe_repo::build("hello", &forge.path().join("hello.git"));
    let shared = tempfile::tempdir().unwrap();
    let coord = shared.path().join("coord");
    let base_url = format!("file://{}", forge.path().display());
    let fixtures: Vec<RunFixture> = (0..4)
        .map(|i| RunFixture::new(&format!("c{i}")).with_coord(coord.clone()))
        .collect();
    let children: Vec<_> = fixtures
        .iter()
        .map(|f| {
            let mut cmd = f.command_for("hello".as_ref(), &["--stages", "install,upgrade"]);
            cmd.env("CCCI_RECIPE_BASE_URL", &base_url)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for (f, out) in fixtures.iter().zip(&outputs) {
        assert_eq!(out.status.code(), Some(0), "{}: {}", f.domain, text(out));
        let r = f.results();
        assert_eq!(r["deploy_count"], 1);
        assert_eq!(r["recipe"], "hello");
        f.assert_nothing_left();
    }
    let run_ids: std::collections::BTreeSet<String> = fixtures
        .iter()
        .map(|f| f.results()["run_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(run_ids.len(), 4, "distinct runs");
    let stacks: std::collections::BTreeSet<String> = fixtures.iter().map(|f| f.stack()).collect();
    assert_eq!(stacks.len(), 4, "distinct stacks");
    let verify = support::cli::cc_ci(shared.path())
        .args(["ledger", "verify", "--coord-dir"])
        .arg(&coord)
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
}
