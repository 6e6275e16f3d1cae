//! Integration tests: e2e. One binary, one module per capability.

#[path = "../support/mod.rs"]
mod support;

mod example_recipe;
mod overlay_new_e2e;
mod overlays_shipped;
mod postgres_abra;
mod pytest_overlays;
mod run_artifacts;
mod run_concurrency;
mod run_e2e;
mod run_gate;
mod run_pause;
mod run_signals;
