//! A hermetic coord tree for tests: a temporary HOME with the base at `<home>/coord`, and a runner for
//! `cc-ci` commands that always passes `--coord-dir`.

use std::path::PathBuf;
use std::process::{Command, Output};

use super::cli::{cc_ci, text};
use super::process::output_within;

/// A temporary home and the coord base inside it.
pub struct Tree {
    pub home: tempfile::TempDir,
    pub base: PathBuf,
}

impl Tree {
    /// A fresh, unprovisioned tree.
    pub fn new() -> Tree {
        let home = tempfile::tempdir().expect("temp home");
        let base = home.path().join("coord");
        Tree { home, base }
    }

    /// A fresh tree, provisioned through the binary.
    pub fn provisioned() -> Tree {
        let t = Tree::new();
        t.ok(&["coord", "provision"]);
        t
    }

    /// `cc-ci <args> --coord-dir <base>`, not yet run.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = cc_ci(self.home.path());
        c.args(args).arg("--coord-dir").arg(&self.base);
        c
    }

    /// Runs `cc-ci <args> --coord-dir <base>` (killed, failing the test, after two minutes).
    pub fn run(&self, args: &[&str]) -> Output {
        output_within(&mut self.cmd(args), std::time::Duration::from_secs(120))
    }

    /// Runs and asserts exit 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(0), "cc-ci {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs and asserts the exit code; returns the output.
    pub fn expect(&self, code: i32, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "cc-ci {args:?}: {}",
            text(&out)
        );
        out
    }

    /// Every committed event, through `cc-ci ledger export`.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.ok(&["ledger", "export"])
            .lines()
            .map(|l| serde_json::from_str(l).expect("export line is JSON"))
            .collect()
    }

    /// Committed events of one kind.
    pub fn events_of(&self, kind: &str) -> Vec<serde_json::Value> {
        self.events()
            .into_iter()
            .filter(|e| e["kind"] == kind)
            .collect()
    }
}
