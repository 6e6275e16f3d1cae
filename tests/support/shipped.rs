//! Running a shipped overlay (`overlays/<recipe>/`) against its fixture recipe
//! (`examples/recipes/<recipe>/`) and reading what happened, for `tests/e2e/overlays_shipped.rs`.

use super::cli::text;
use super::fixture::ids;
use super::run::RunFixture;

/// What one run of a shipped overlay left: its exit code, output, and the test ids by outcome.
pub struct ShippedRun {
    pub fixture: RunFixture,
    pub code: Option<i32>,
    pub shown: String,
    pub passed: Vec<String>,
    pub failed: Vec<String>,
}

impl ShippedRun {
    /// Runs `cc-ci run --stages <stages> EXTRA…` on the fixture (already prepared, e.g. broken on
    /// purpose).
    pub fn run(fixture: RunFixture, stages: &str, extra: &[&str]) -> Self {
        let mut args = vec!["--stages", stages];
        args.extend_from_slice(extra);
        let out = fixture.run(&args);
        let shown = text(&out);
        let passed = fixture.ids_with_outcome("passed");
        let failed = fixture.ids_with_outcome("failed");
        Self {
            code: out.status.code(),
            shown,
            passed,
            failed,
            fixture,
        }
    }

    /// The ids of this recipe's overlay tests (`<tier>::overlays/<recipe>/<file>::<name>`) that passed.
    pub fn overlay_passed(&self) -> Vec<String> {
        let recipe = self
            .fixture
            .repo
            .path
            .file_name()
            .unwrap()
            .to_string_lossy();
        let marker = format!("::overlays/{recipe}/");
        self.passed
            .iter()
            .filter(|id| id.contains(&marker))
            .cloned()
            .collect()
    }

    /// The failure message of a test in results.json, by id suffix (empty when it has none).
    pub fn message(&self, id_suffix: &str) -> String {
        let r = self.fixture.results();
        for t in r["tiers"].as_array().unwrap() {
            for test in t["tests"].as_array().unwrap() {
                if test["id"].as_str().unwrap().ends_with(id_suffix) {
                    return test["outcome"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                }
            }
        }
        panic!("no test ending with {id_suffix} in results.json: {r:#}");
    }

    /// Deploy count 1, a clean teardown in results.json, and nothing of the stack left on the engine.
    pub fn assert_deployed_once_and_torn_down(&self) {
        let r = self.fixture.results();
        assert_eq!(r["deploy_count"], 1, "{}", self.shown);
        assert_eq!(r["teardown"]["clean"], true, "{}", self.shown);
        self.fixture.assert_nothing_left();
    }
}

// ---- dbapp (real PostgreSQL), shared by the built-in deployer's run and the abra double's ----------

/// The dbapp overlay's restore checks: exactly what a restore that brings nothing back fails.
pub fn dbapp_restore_tests() -> Vec<String> {
    ids(
        "dbapp",
        &[
            ("restore", "restore.yaml", "rows_restored_exactly"),
            ("restore", "restore.yaml", "change_after_backup_undone"),
            ("restore", "restore.yaml", "restored_rows_over_the_network"),
        ],
    )
}

/// Every test of the dbapp overlay.
pub fn dbapp_overlay() -> Vec<String> {
    let mut v = dbapp_restore_tests();
    v.extend(ids(
        "dbapp",
        &[
            ("install", "install.yaml", "schema_from_init_scripts"),
            (
                "install",
                "install.yaml",
                "secret_password_works_over_the_network",
            ),
            (
                "install",
                "install.yaml",
                "wrong_password_refused_over_the_network",
            ),
            ("upgrade", "upgrade.yaml", "rows_survived_upgrade"),
            ("backup", "backup.yaml", "dump_written_by_pre_hook"),
        ],
    ));
    v.sort();
    v
}

/// A PR that drops the restore post-hook's work: the dump comes back, nothing loads it.
pub fn break_dbapp_restore_hook(f: &RunFixture) {
    f.commit_head_change(
        "compose.yml",
        r#"backupbot.restore.post-hook: "/pg_backup.sh restore""#,
        r#"backupbot.restore.post-hook: "true""#,
    );
}

/// A run (install, backup, restore) of the broken hook failed exactly the restore checks, their
/// messages naming the rows, while the backup side and the generic restore checks passed.
pub fn assert_dbapp_restore_failed_naming_the_rows(run: &ShippedRun) {
    assert_eq!(run.code, Some(1), "{}", run.shown);
    assert_eq!(run.failed, dbapp_restore_tests(), "{}", run.shown);
    for id in [
        "backup::overlays/dbapp/backup.yaml::dump_written_by_pre_hook",
        "backup::generic-tests/backup.yaml::backup_exists",
        "restore::generic-tests/restore.yaml::converged",
        "restore::generic-tests/restore.yaml::http",
    ] {
        assert!(run.passed.contains(&id.to_string()), "{id}: {}", run.shown);
    }
    // What was backed up, and what is there instead.
    let msg = run.message("restore.yaml::rows_restored_exactly");
    assert!(
        msg.contains("recorded \"3|carol\", now \"9|mallory\""),
        "{msg}"
    );
    let msg = run.message("restore.yaml::change_after_backup_undone");
    assert!(msg.contains("still \"9|mallory\""), "{msg}");
}
