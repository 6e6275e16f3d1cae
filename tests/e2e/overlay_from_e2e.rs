//! `cc-ci overlay new RECIPE --from SRC` fits the scaffold to the recipe, and the scaffold is real:
//! `overlay check` passes it, and a full run (install → upgrade → backup → restore) on the real engine
//! passes with the scaffold's own backup/restore seed proving the restore brought the data back.

use std::path::Path;

use crate::support::cli::{cc_ci, text};
use crate::support::recipe_repo::{build_from, project_root};
use crate::support::run::{outcome_kind, RunFixture};

/// A run fixture of the recipe folder `src`, cloned into a folder named `clone` (a real clone may be
/// named `pastebin-coop-cloud` for the recipe `pastebin`); `name` is the recipe's own name (`TYPE`).
fn from_dir(src: &Path, clone: &str, name: &str, tag: &str) -> RunFixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = build_from(src, &dir.path().join(clone));
    RunFixture::around(dir, repo, name, tag)
}

/// Scaffolds `recipe`'s overlays from its repo, checks them, runs every tier and returns the run's
/// results.
fn scaffold_check_and_run(f: &RunFixture, recipe: &str, files: &[&str]) -> serde_json::Value {
    let overlays = f.data.join("overlays");
    let made = cc_ci(f.dir.path())
        .args(["overlay", "new", recipe, "--from"])
        .arg(&f.repo.path)
        .arg("--dir")
        .arg(&overlays)
        .output()
        .unwrap();
    assert_eq!(made.status.code(), Some(0), "{}", text(&made));
    for file in files {
        assert!(
            overlays.join(recipe).join(file).is_file(),
            "{file}: {}",
            text(&made)
        );
    }
    let checked = cc_ci(f.dir.path())
        .args(["overlay", "check"])
        .arg(overlays.join(recipe))
        .output()
        .unwrap();
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked));
    let out = f.run(&[]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let r = f.results();
    assert_eq!(r["recipe"], recipe, "{shown}");
    assert_eq!(r["deploy_count"], 1, "{shown}");
    for t in r["tiers"].as_array().unwrap() {
        assert_eq!(
            outcome_kind(&t["status"]),
            "passed",
            "{}: {shown}",
            t["tier"]
        );
    }
    f.assert_nothing_left();
    r
}

fn scaffold_outcomes(r: &serde_json::Value, recipe: &str) -> Vec<(String, String)> {
    r["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["tests"].as_array().unwrap().iter())
        .filter(|t| {
            t["id"]
                .as_str()
                .unwrap()
                .contains(&format!("overlays/{recipe}/"))
        })
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                outcome_kind(&t["outcome"]),
            )
        })
        .collect()
}

#[test]
fn a_scaffold_fitted_to_a_two_service_recipe_passes_check_and_a_full_run() {
    let src = project_root().join("tests/fixtures/recipes/pastebin-coop-cloud");
    let f = from_dir(&src, "pastebin-coop-cloud", "pastebin", "fitted");
    // Beside the scaffold: the worker's long-syntax tmpfs was deployed with its size.
    let mine = f.data.join("overlays/pastebin");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(
        mine.join("tmpfs.yaml"),
        "tier: install\ntests:\n  - name: worker_tmpfs_has_its_size\n    exec:\n      service: worker\n      command: \"df -k /work | tail -n 1\"\n      stdout: {regex: \"^tmpfs\\\\s+1024\\\\s\"}\n",
    )
    .unwrap();
    let r = scaffold_check_and_run(
        &f,
        "pastebin",
        &["recipe.yaml", "smoke.yaml", "backup.yaml", "restore.yaml"],
    );
    let meta = std::fs::read_to_string(f.data.join("overlays/pastebin/recipe.yaml")).unwrap();
    assert!(
        meta.contains("http_port: 8080") && meta.contains("health_path: /healthz"),
        "{meta}"
    );
    let outcomes = scaffold_outcomes(&r, "pastebin");
    for id in [
        "install::overlays/pastebin/smoke.yaml::exec_works",
        "install::overlays/pastebin/tmpfs.yaml::worker_tmpfs_has_its_size",
        "backup::overlays/pastebin/backup.yaml::marker_written",
        "restore::overlays/pastebin/restore.yaml::marker_restored",
    ] {
        assert!(
            outcomes.contains(&(id.to_string(), "passed".to_string())),
            "{id} did not pass: {outcomes:?}"
        );
    }
}

#[test]
fn a_scaffold_fitted_to_the_bundled_example_passes_check_and_a_full_run() {
    let f = RunFixture::new("fitted");
    let r = scaffold_check_and_run(&f, "hello", &["recipe.yaml", "smoke.yaml", "backup.yaml"]);
    let outcomes = scaffold_outcomes(&r, "hello");
    assert!(
        outcomes.contains(&(
            "restore::overlays/hello/restore.yaml::marker_restored".to_string(),
            "passed".to_string()
        )),
        "{outcomes:?}"
    );
}
