//! Reports: the run's event stream ([`RunEvent`], delivered by the [`EventBus`]) and its subscribers —
//! the terminal ([`TerminalReporter`]), the progress line, the ledger ([`LedgerRecorder`]) and the
//! files ([`ArtifactWriter`]: JUnit XML, the Markdown PR comment, results.json, badges, events.jsonl) —
//! plus the data model the events add up to ([`RunResult`], via [`Aggregator`]), the level ladder and
//! the static dashboard. Reports read verdicts; they never change one, and they never touch Docker.
//! Strings are rendered as given: the bus masks secrets in events, [`RunResult::redacted`] in results.

pub mod aggregate;
pub mod artifacts;
pub mod badge;
pub mod bus;
pub mod console;
pub mod dashboard;
pub mod durations;
pub mod event;
pub mod evidence;
pub mod junit;
pub mod junit_empty;
pub mod ledger;
pub mod level;
pub mod libtest;
pub mod markdown;
pub mod model;
pub mod progress;
pub mod results;
pub mod terminal;

#[cfg(test)]
pub(crate) mod sample;

use std::path::PathBuf;

pub use aggregate::Aggregator;
pub use artifacts::{ArtifactPaths, ArtifactWriter, Unwritten};
pub use bus::EventBus;
pub use console::TerminalReporter;
pub use event::{EventKind, RunEvent, Subscriber};
pub use evidence::*;
pub use ledger::{LedgerFailures, LedgerRecorder, Unrecorded};
pub use level::{Ladder, Rung, RungStatus};
pub use libtest::{TrialFormat, TrialStyle};
pub use model::*;
pub use progress::ProgressLine;

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

/// The mode of every report file (junit.xml, results.json, summary.md, badges, events.jsonl): readable
/// by a web server serving the reports. None holds a secret: each passed the redactor.
pub const ARTIFACT_MODE: u32 = 0o644;

/// Writes a report file atomically (a temporary file beside it, published, synced, renamed): a full
/// disk leaves the previous file (or none), never an empty or cut one, and no temporary file.
pub(crate) fn write_published(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".cc-ci.")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    publish(tmp.path())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Gives the report file `path` [`ARTIFACT_MODE`], whatever the umask made of it.
pub(crate) fn publish(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(ARTIFACT_MODE))
}
