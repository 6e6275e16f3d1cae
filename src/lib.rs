//! cc-ci: a test harness for Co-op Cloud recipes.
//!
//! Data flows one way: CLI → coord (resolve, provision, reconcile) → plan (recipe checkout, discovery,
//! trust gate, specs) → session (deploy once, per tier: op once, then assertions as trials) → teardown
//! → reports. See `ARCHITECTURE.md` for the map.

pub mod child;
pub mod cli;
pub mod coord;
pub mod deploy;
pub mod discover;
pub mod docker;
pub mod duration;
pub mod exit;
pub mod lint;
pub mod preflight;
pub mod recipe;
pub mod redact;
pub mod regular;
pub mod report;
pub mod runner;
pub mod spec;
