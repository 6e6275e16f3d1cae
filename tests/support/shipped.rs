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
        let out = fixture.run(&["--stages", stages]);
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

    /// Deploy count 1, a clean teardown in results.json, and nothing of the stack left on the engine.
    pub fn assert_deployed_once_and_torn_down(&self) {
        let r = self.fixture.results();
        assert_eq!(r["deploy_count"], 1, "{}", self.shown);
        assert_eq!(r["teardown"]["clean"], true, "{}", self.shown);
        self.fixture.assert_nothing_left();
    }
}
