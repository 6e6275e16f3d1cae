//! The bundled example recipe builds into a git repository with the release history tests rely on.

use std::process::Command;

#[test]
fn example_recipe_repo_has_two_release_tags_and_a_moved_head() {
    let dir = tempfile::tempdir().unwrap();
    let repo = crate::support::recipe_repo::build("hello", &dir.path().join("hello"));
    let tags = Command::new("git")
        .args(["tag", "--list"])
        .current_dir(&repo.path)
        .output()
        .unwrap();
    let tags = String::from_utf8_lossy(&tags.stdout);
    assert_eq!(
        tags.lines().collect::<Vec<_>>(),
        ["1.0.0+1.36.1", "1.1.0+1.36.1"]
    );
    assert_eq!(
        repo.head.len(),
        40,
        "head is a full commit id: {}",
        repo.head
    );
    let compose = std::fs::read_to_string(repo.path.join("compose.yml")).unwrap();
    assert!(
        compose.contains("version=1.2.0+1.36.1"),
        "head moves the version"
    );
    assert!(
        compose.contains("image: ccci/busybox:2"),
        "head moves the image"
    );
}

#[test]
fn the_example_repo_exposes_its_pr_head_as_gitea_does_and_a_run_with_pr_1_finds_it() {
    let f = crate::support::run::RunFixture::new("pr-ref");
    let pr = Command::new("git")
        .args(["rev-parse", "refs/pull/1/head"])
        .current_dir(&f.repo.path)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&pr.stdout).trim(), f.repo.head);
    // A listing checks the recipe out as a run does (fetching refs/pull/1/head) and deploys nothing.
    let out = f.run(&["--pr", "1", "--list"]);
    let shown = crate::support::cli::text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("install::generic-tests/"), "{shown}");
    let missing = f.run(&["--pr", "2", "--list"]);
    let shown = crate::support::cli::text(&missing);
    assert_eq!(missing.status.code(), Some(4), "{shown}");
    assert!(shown.contains("refs/pull/2/head"), "{shown}");
}
