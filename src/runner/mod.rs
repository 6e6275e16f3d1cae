//! The session: plan → deploy once → per tier: op once, then its assertions as libtest-mimic trials →
//! teardown always → reports. It never parses YAML itself (that is `spec`), never finds files (that is
//! `discover`) and never talks to bollard directly (that is `docker`).
//!
//! `RunConfig` is the resolved input (CLI + environment, read once in `cli::run`); `plan` turns it and
//! the discovery into tiers of ops and trials; `session` executes them.

mod check;
mod config;
mod context;
mod finish;
mod grants;
mod http;
mod ledger;
mod manifest;
mod ops;
mod plan;
#[cfg(test)]
mod plan_tests;
mod prepare;
mod progress;
mod pytest;
mod pytest_junit;
mod select;
mod session;
mod teardown;
mod tiers;
mod trials;

pub use config::{parse_stages, DeployerKind, LastFailed, RunConfig, Selection};
pub use plan::{OpPlan, Plan, PlannedTest, TestBody, TierPlan};
pub use select::selects;
pub use session::run;
