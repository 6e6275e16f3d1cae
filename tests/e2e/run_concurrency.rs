//! Concurrent runs are safe: four runs of the same recipe, from the same recipe name (one shared
//! per-host cache) into one coord tree, at the same time — two with the built-in stack deployer, two
//! through abra (the recording double) — all pass with distinct checkouts, stacks, run directories and
//! abra state, and leave nothing behind. The ledger they share still verifies.

use std::process::Stdio;

use crate::support::cli::text;
use crate::support::run::RunFixture;

#[test]
fn four_runs_of_the_same_recipe_at_once_all_pass_and_leave_nothing() {
    // One forge directory holding the recipe repo `hello.git`, one coord tree shared by all four runs.
    let forge = tempfile::tempdir().unwrap();
    crate::support::recipe_repo::build("hello", &forge.path().join("hello.git"));
    let shared = tempfile::tempdir().unwrap();
    let coord = shared.path().join("coord");
    let base_url = format!("file://{}", forge.path().display());
    let fixtures: Vec<RunFixture> = (0..4)
        .map(|i| RunFixture::new(&format!("c{i}")).with_coord(coord.clone()))
        .collect();
    let logs: Vec<std::path::PathBuf> = fixtures
        .iter()
        .map(|f| f.dir.path().join("abra.log"))
        .collect();
    let children: Vec<_> = fixtures
        .iter()
        .zip(&logs)
        .enumerate()
        .map(|(i, (f, log))| {
            let mut args = vec!["--stages".to_string(), "install,upgrade".to_string()];
            if i % 2 == 1 {
                let abra = crate::support::abra::wrapper(&f.dir.path().join("bin"), log, &[]);
                args.extend([
                    "--deployer".to_string(),
                    "abra".to_string(),
                    "--abra".to_string(),
                ]);
                args.push(abra.display().to_string());
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut cmd = f.command_for("hello".as_ref(), &args);
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
    // Each abra run had its own abra state directory, inside its own run directory.
    let abra_dirs: std::collections::BTreeSet<String> = logs
        .iter()
        .skip(1)
        .step_by(2)
        .map(|log| {
            // The double's call log: one JSON object per call, with its argv and environment.
            let calls: Vec<serde_json::Value> = std::fs::read_to_string(log)
                .unwrap_or_default()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let argv = |c: &serde_json::Value| -> Vec<String> {
                serde_json::from_value(c["argv"].clone()).unwrap()
            };
            assert!(
                calls
                    .iter()
                    .any(|c| argv(c).starts_with(&["app".into(), "deploy".into()])),
                "the abra run deployed through abra: {calls:?}"
            );
            let dirs: std::collections::BTreeSet<String> = calls
                .iter()
                .filter_map(|c| c["env"]["ABRA_DIR"].as_str().map(str::to_string))
                .collect();
            assert_eq!(dirs.len(), 1, "one abra state per run: {dirs:?}");
            dirs.into_iter().next().unwrap()
        })
        .collect();
    assert_eq!(abra_dirs.len(), 2, "distinct abra state: {abra_dirs:?}");
    let verify = crate::support::cli::cc_ci(shared.path())
        .args(["ledger", "verify", "--coord-dir"])
        .arg(&coord)
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
}
