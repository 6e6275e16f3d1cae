//! Integration tests: abra. One binary, one module per capability.

// The shared fixtures this binary uses (tests/support/), each a module of the crate root (they name
// each other as `super::…`), reached by the tests as `crate::support::…`.
#[path = "../support/abra.rs"]
mod abra;
#[path = "../support/abra_app.rs"]
mod abra_app;
#[path = "../support/abra_log.rs"]
mod abra_log;
#[path = "../support/cli.rs"]
mod cli;
#[path = "../support/fixture.rs"]
mod fixture;
#[path = "../support/recipe_repo.rs"]
mod recipe_repo;
#[path = "../support/run.rs"]
mod run;
#[path = "../support/shipped.rs"]
mod shipped;
mod support {
    pub(crate) use super::{abra, abra_app, abra_log, cli, fixture, recipe_repo, run, shipped};
}

mod abra_backup_verified;
mod abra_contract;
mod abra_deployer;
mod abra_double;
mod abra_run;
mod abra_upgrade_base;
mod lint_abra;
