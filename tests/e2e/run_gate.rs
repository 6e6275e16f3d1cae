//! The trust gate end to end: repo-local files from the recipe repository run only when the recipe is
//! allowlisted or a repo-local grant covers it. Proven with a canary the repo-local script would create.

use crate::support::cli::text;
use crate::support::run::RunFixture;

/// Adds a repo-local install_steps.sh (creates the canary) and a repo-local spec to the recipe's head.
fn with_repo_local(f: &RunFixture, canary: &std::path::Path) {
    let repo = &f.repo.path;
    std::fs::create_dir_all(repo.join(".cc-ci")).unwrap();
    std::fs::write(
        repo.join("install_steps.sh"),
        format!("#!/bin/sh\ntouch '{}'\n", canary.display()),
    )
    .unwrap();
    std::fs::write(
        repo.join(".cc-ci/local.yaml"),
        "tier: install\ntests:\n  - name: repo_local_check\n    exec:\n      service: app\n      command: \"true\"\n",
    )
    .unwrap();
    crate::support::fixture::commit_all(repo, "repo-local tests");
}

fn ids(f: &RunFixture) -> Vec<String> {
    let r = f.results();
    r["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| {
            t["tests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn repo_local_files_of_a_recipe_not_on_the_allowlist_never_run() {
    let f = RunFixture::new("deny");
    let canary = f.dir.path().join("canary");
    with_repo_local(&f, &canary);
    let allow = f.dir.path().join("allow.txt");
    std::fs::write(&allow, "# approved recipes\nsome-other-recipe\n").unwrap();
    let out = f.run(&[
        "--stages",
        "install",
        "--allowlist",
        allow.to_str().unwrap(),
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        !canary.exists(),
        "the repo-local script ran although the recipe is not allowlisted"
    );
    assert!(
        !ids(&f).iter().any(|i| i.contains("repo_local_check")),
        "{:?}",
        ids(&f)
    );
    let gate = &f.results()["gate"];
    assert_eq!(gate[0]["allowed"], false, "{gate:#}");
    f.assert_nothing_left();
}

#[test]
fn repo_local_files_run_for_an_allowlisted_recipe() {
    let f = RunFixture::new("allow");
    let canary = f.dir.path().join("canary");
    with_repo_local(&f, &canary);
    let allow = f.dir.path().join("allow.txt");
    std::fs::write(&allow, "hello\n").unwrap();
    let out = f.run(&[
        "--stages",
        "install",
        "--allowlist",
        allow.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        canary.exists(),
        "the allowlisted recipe's install_steps.sh did not run"
    );
    assert_eq!(f.outcome("repo_local_check"), "passed");
    f.assert_nothing_left();
}

#[test]
fn repo_local_files_run_under_a_valid_grant_and_the_grant_check_is_recorded() {
    let f = RunFixture::new("grant");
    let canary = f.dir.path().join("canary");
    with_repo_local(&f, &canary);
    let allow = f.dir.path().join("empty-allow.txt");
    std::fs::write(&allow, "").unwrap();
    let prov = crate::support::cli::cc_ci(f.dir.path())
        .args(["coord", "provision", "--coord-dir"])
        .arg(&f.coord)
        .output()
        .unwrap();
    assert_eq!(prov.status.code(), Some(0), "{}", text(&prov));
    let mint = crate::support::cli::cc_ci(f.dir.path())
        .args([
            "grant",
            "mint",
            "--gate",
            "repo-local",
            "--recipe",
            "hello",
            "--ttl",
            "1h",
            "--reason",
            "e2e test",
            "--coord-dir",
        ])
        .arg(&f.coord)
        .output()
        .unwrap();
    assert_eq!(mint.status.code(), Some(0), "{}", text(&mint));
    let out = f.run(&[
        "--stages",
        "install",
        "--allowlist",
        allow.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        canary.exists(),
        "a granted recipe's install_steps.sh did not run"
    );
    let events = f.ledger_export();
    assert!(events.contains("grant_check"), "{events}");
    f.assert_nothing_left();
}
