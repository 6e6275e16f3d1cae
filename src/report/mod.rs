//! Reports of a finished run: the data model ([`RunResult`]) and everything rendered from it — the
//! terminal header, tier banners and summary, JUnit XML, the Markdown PR comment, results.json, the level
//! ladder, SVG badges and the static dashboard. Reports read verdicts; they never change one, and they
//! never touch Docker. Strings are rendered as given: pass a run through [`RunResult::redacted`] first.

pub mod badge;
pub mod dashboard;
pub mod junit;
pub mod level;
pub mod markdown;
pub mod model;
pub mod results;
pub mod terminal;

#[cfg(test)]
pub(crate) mod sample;

use std::path::PathBuf;

pub use level::{Ladder, Rung, RungStatus};
pub use model::*;

/// Why a report could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid results.json: {source} (hint: it must be written by `cc-ci run`; see docs/results-schema.md)")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} has results schema version {found}, this cc-ci reads up to {supported} (hint: render it with a newer cc-ci)")]
    SchemaVersion {
        path: PathBuf,
        found: u64,
        supported: u32,
    },
    #[error("cannot write the JUnit report {path}: {message}")]
    Junit { path: PathBuf, message: String },
    #[error("{path}:{line}: {message}")]
    Ledger {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

impl ReportError {
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        ReportError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}
