//! What end-to-end tests change on a run fixture: the project's shipped overlays, an overlay file of
//! their own, a commit on the recipe's head (a pull request), a shared coord tree; and what they read
//! back beyond results (the ledger export, ids by outcome).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::recipe_repo;
use super::run::RunFixture;

impl RunFixture {
    /// The recipe's name: its folder under `examples/recipes/` and under the data dir's `overlays/`.
    pub fn recipe(&self) -> String {
        self.repo
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The fixture recipe `name` (`examples/recipes/<name>`) with this project's shipped overlay
    /// `overlays/<name>/` copied into the data dir, as a CI run would see it.
    pub fn shipped(name: &str, tag: &str) -> Self {
        let f = Self::for_recipe(name, tag);
        super::run::copy_dir(
            &recipe_repo::project_root().join("overlays").join(name),
            &f.data.join("overlays").join(name),
        );
        f
    }

    /// Commits a change to the recipe's head (a pull request that breaks something): replaces `from`
    /// by `to` in `file` of the checkout, panicking when `from` is not there.
    pub fn commit_head_change(&self, file: &str, from: &str, to: &str) -> String {
        let path = self.repo.path.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(from),
            "{}: {from:?} not found, the fixture changed",
            path.display()
        );
        std::fs::write(&path, text.replace(from, to)).unwrap();
        commit_all(&self.repo.path, "a change that breaks the recipe")
    }

    /// Every committed ledger event of this fixture's coord tree, as JSONL (`cc-ci ledger export`).
    pub fn ledger_export(&self) -> String {
        let out = super::cli::cc_ci(self.dir.path())
            .args(["ledger", "export", "--coord-dir"])
            .arg(&self.coord)
            .output()
            .expect("run cc-ci ledger export");
        assert_eq!(out.status.code(), Some(0), "{}", super::cli::text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Uses `coord` as the coord tree (several fixtures can share one, as runs on one host do).
    pub fn with_coord(mut self, coord: PathBuf) -> Self {
        self.coord = coord;
        self
    }

    /// Adds an overlay file for the recipe.
    pub fn overlay(&self, name: &str, yaml: &str) -> PathBuf {
        let d = self.data.join("overlays").join(self.recipe());
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        std::fs::write(&p, yaml).unwrap();
        p
    }

    /// Ids of the tests of results.json whose outcome is `kind` (`passed`, `failed`, ...), sorted.
    pub fn ids_with_outcome(&self, kind: &str) -> Vec<String> {
        let r = self.results();
        let mut ids: Vec<String> = r["tiers"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["tests"].as_array().unwrap().iter())
            .filter(|t| super::run::outcome_kind(&t["outcome"]) == kind)
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    }
}

/// Runs `git ARGS` in `repo` as a fixed test identity; panics with git's output on failure. Returns stdout.
pub fn git(repo: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .output()
        .expect("run git");
    assert!(
        o.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Commits every change in `repo` (a new PR head) and returns the new head.
pub fn commit_all(repo: &Path, message: &str) -> String {
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", message]);
    git(repo, &["rev-parse", "HEAD"])
}
