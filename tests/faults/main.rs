//! Integration tests: faults of the engine and the host. These restart the shared Docker engine, so
//! they are their own binary, never run by a plain `cargo test` (`test = false` in Cargo.toml):
//! `scripts/test.sh` runs them alone, after every other binary, one at a time. Each holds the engine
//! lock exclusively (`CCCI_ENGINE_LOCK`, default `/work/.engine.lock` where it exists) while the
//! engine may be down, and leaves the engine running with its swarm active.

// The shared fixtures (tests/support/); this binary uses a few items of each.
#[allow(dead_code)]
#[path = "../support/cli.rs"]
mod cli;
#[allow(dead_code)]
#[path = "../support/recipe_repo.rs"]
mod recipe_repo;
#[allow(dead_code)]
#[path = "../support/run.rs"]
mod run;
#[path = "../support/wait.rs"]
mod wait;
mod support {
    pub(crate) use super::{cli, recipe_repo, run, wait};
}

mod engine_lock;
mod engine_restart;
mod full_disk;
