//! Running a shipped overlay (`overlays/<recipe>/`) against its fixture recipe
//! (`examples/recipes/<recipe>/`) and reading what happened, for `tests/e2e/overlays_shipped.rs`.

use super::cli::text;
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
    /// Runs `cc-ci run --stages <stages>` on the fixture (already prepared, e.g. broken on purpose).
    pub fn run(fixture: RunFixture, stages: &str) -> Self {
        Self::run_with(fixture, &["--stages", stages])
    }

    /// Runs `cc-ci run ARGS` on the fixture.
    pub fn run_with(fixture: RunFixture, args: &[&str]) -> Self {
        let out = fixture.run(args);
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
        let marker = format!("::overlays/{}/", self.fixture.recipe());
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
