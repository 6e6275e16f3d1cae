//! Recipes as git repositories: sources (name, URL, path), private per-run checkouts, `head_ref`,
//! the previous release, and the chaos version of a checkout. It never deploys and never reads test
//! specs.

mod chaos;

pub use chaos::{chaos_version, ChaosError};
