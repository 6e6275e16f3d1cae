//! Integration tests: engine. One binary, one module per capability.

// The shared fixtures this binary uses (tests/support/), each a module of the crate root (they name
// each other as `super::…`), reached by the tests as `crate::support::…`.
#[path = "../support/cli.rs"]
mod cli;
#[path = "../support/containers.rs"]
mod containers;
#[path = "../support/engine.rs"]
mod engine;
#[path = "../support/recipe_repo.rs"]
mod recipe_repo;
mod support {
    pub(crate) use super::{cli, containers, engine, recipe_repo};
}

mod backup_postgres;
mod docker_backup;
mod docker_connect;
mod docker_exec;
mod docker_janitor;
mod fail_fast;
mod forwarder;
mod images;
mod stack_deploy;
mod teardown_owner;
