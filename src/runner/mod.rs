//! The session: plan → deploy once → per tier: op once, then its assertions as libtest-mimic trials →
//! teardown always → reports. It never parses YAML itself (that is `spec`), never finds files (that is
//! `discover`) and never talks to bollard directly (that is `docker`).
//!
//! `RunConfig` is the resolved input (CLI + environment, read once in `cli::run`); `prepare` and `plan`
//! turn it and the discovery into tiers of ops and trials; `session` executes them and reports every
//! step as an event on the bus (`report::EventBus`): the runner prints nothing and writes no report
//! itself. Errors that stop a run are [`RunError`]s, each with its exit class.

mod backup_check;
mod base;
mod check;
mod config;
mod context;
mod data_dir;
mod engine;
mod equip;
mod error;
mod gate;
mod grants;
mod http;
mod identity;
mod last_failed;
mod listing;
mod manifest;
mod ops;
mod plan;
mod plan_build;
#[cfg(test)]
mod plan_tests;
mod prepare;
mod pytest;
mod pytest_junit;
mod screenshot;
mod select;
mod session;
#[cfg(test)]
mod session_fakes;
#[cfg(test)]
mod session_tests;
mod teardown;
mod tiers;
mod trials;
mod trust;
#[cfg(test)]
mod trust_tests;

pub use base::for_check as upgrade_base_for_check;
pub use config::{
    parse_stages, DeployerKind, LastFailed, RunConfig, ScreenshotMode, Selection, StageError,
    UpgradeFrom,
};
pub use engine::AppEngine;
pub use error::RunError;
pub use listing::{list, Listing};
pub use plan::{OpPlan, Plan, PlannedTest, TestBody, TierPlan};
pub use prepare::data_dir;
pub use select::selects;
pub use session::{run, Outputs};
