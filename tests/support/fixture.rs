//! What run tests change on a run fixture — the project's shipped overlay in its data dir, a commit on
//! the recipe's head (a pull request) — and what they read back beyond results.json: the ledger export,
//! ids by outcome.

use std::path::Path;
use std::process::Command;

use super::recipe_repo;
use super::run::RunFixture;

impl RunFixture {
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

/// `<tier>::overlays/<recipe>/<file>::<name>` for each `(tier, file, name)`, sorted.
pub fn ids(recipe: &str, tests: &[(&str, &str, &str)]) -> Vec<String> {
    let mut v: Vec<String> = tests
        .iter()
        .map(|(tier, file, name)| format!("{tier}::overlays/{recipe}/{file}::{name}"))
        .collect();
    v.sort();
    v
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
