//! Errors of the recipe module: every one names the recipe source, path or ref it is about and, where a
//! person can act, says what to do.

use std::path::PathBuf;

/// What went wrong while resolving a recipe source, preparing a checkout or reading its releases.
#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    #[error(
        "invalid recipe name `{name}`: {reason} (hint: a recipe name matches [a-z0-9][a-z0-9-_.]*)"
    )]
    InvalidName { name: String, reason: &'static str },
    #[error("invalid recipe source `{input}`: {reason}")]
    InvalidSource { input: String, reason: String },
    #[error("invalid git ref `{git_ref}`: {reason}")]
    InvalidRef {
        git_ref: String,
        reason: &'static str,
    },
    #[error("recipe path {path} {reason}")]
    BadPath { path: PathBuf, reason: String },
    #[error("checkout destination {path} already exists and is not empty (hint: every run needs a fresh private directory)")]
    DestExists { path: PathBuf },
    #[error("ref `{git_ref}` does not exist in {source_desc} (hint: is REF the PR head sha, and was it pushed?)")]
    RefNotFound {
        git_ref: String,
        source_desc: String,
    },
    #[error("pull request {pr} has no ref refs/pull/{pr}/head in {source_desc}: {detail}")]
    PrNotFound {
        pr: u64,
        source_desc: String,
        detail: String,
    },
    #[error("`git {args}` failed in {dir}: {stderr}")]
    Git {
        args: String,
        dir: PathBuf,
        stderr: String,
    },
    #[error("`git {args}` in {dir} did not finish within {} and was killed with everything it started (hint: is the remote reachable? raise the limit with --git-timeout or CCCI_GIT_TIMEOUT)", crate::duration::show(*timeout))]
    GitTimeout {
        args: String,
        dir: PathBuf,
        timeout: std::time::Duration,
    },
    #[error("`git {args}` in {dir} was interrupted (SIGINT/SIGTERM) and killed with everything it started")]
    GitInterrupted { args: String, dir: PathBuf },
    #[error("cannot run git: {0} (hint: is git installed and on PATH?)")]
    GitSpawn(std::io::Error),
    #[error("recipe cache lock {path}: {message}")]
    Lock { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl RecipeError {
    /// Whether a signal stopped the work (the run must end as interrupted, exit 2).
    pub fn is_interrupted(&self) -> bool {
        matches!(self, RecipeError::GitInterrupted { .. })
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RecipeError::Io {
            path: path.into(),
            source,
        }
    }
}
