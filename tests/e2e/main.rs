//! Integration tests: e2e. One binary, one module per capability.

// The shared fixtures this binary uses (tests/support/), each a module of the crate root (they name
// each other as `super::…`), reached by the tests as `crate::support::…`.
#[path = "../support/abra.rs"]
mod abra;
#[path = "../support/browser.rs"]
mod browser;
#[path = "../support/cli.rs"]
mod cli;
#[path = "../support/data_dir.rs"]
mod data_dir;
#[path = "../support/fixture.rs"]
mod fixture;
#[path = "../support/process.rs"]
mod process;
#[path = "../support/pytest_mirror.rs"]
mod pytest_mirror;
#[path = "../support/recipe_repo.rs"]
mod recipe_repo;
#[path = "../support/run.rs"]
mod run;
#[path = "../support/schema.rs"]
mod schema;
#[path = "../support/shipped.rs"]
mod shipped;
#[path = "../support/wait.rs"]
mod wait;
mod support {
    pub(crate) use super::{
        abra, browser, cli, fixture, pytest_mirror, recipe_repo, run, schema, shipped, wait,
    };
}

mod backup_verified;
mod dashboard_after_run;
mod example_recipe;
mod overlay_from_e2e;
mod overlay_new_e2e;
mod overlays_shipped;
mod overlays_walkthrough;
mod pytest_overlays;
mod pytest_parity_run;
mod run_artifacts;
mod run_concurrency;
mod run_e2e;
mod run_gate;
mod run_pause;
mod run_same_stack;
mod run_signals;
mod screenshots;
mod upgrade_base;
