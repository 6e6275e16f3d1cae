//! Recipes as git repositories: sources (name, URL, path), private per-run checkouts made through a
//! locked per-host cache, `head_ref`, release tags and the previous release, the ancestry an upgrade
//! base needs, and the chaos version of a checkout. It never deploys, never reads test specs, and never
//! shares a mutable tree between runs.

mod base;
mod cache;
mod chaos;
mod checkout;
mod error;
mod git;
mod releases;
mod source;
#[cfg(test)]
pub(crate) mod testutil;

pub use cache::{entry_path as cache_entry_path, lock_path as cache_lock_path, CacheLock};
pub use chaos::{chaos_version, ChaosError};
pub use checkout::{
    prepare_checkout, prepare_checkout_limited, Checkout, CheckoutRequest, HeadRefSource,
    DEFAULT_BASE_URL,
};
pub use error::RecipeError;
pub use git::{interrupt_flag, GitLimits, DEFAULT_TIMEOUT as DEFAULT_GIT_TIMEOUT};
pub use releases::{parse_tag, Release};
pub use source::{validate_name, RecipeSource};
