//! The run's files, written when the last event arrives: the Markdown PR comment, JUnit XML,
//! results.json (and its copy in the run's coord directory), the badges and `events.jsonl` (the event
//! stream itself). A subscriber: it renders the
//! [`RunResult`](super::RunResult) the events add up to, masked once more with every secret known at the
//! end. A file that cannot be written is reported on the error stream and left out of the artifacts.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::exit::ExitClass;
use crate::redact::Redactor;

use super::aggregate::Aggregator;
use super::event::{EventKind, RunEvent, Subscriber};
use super::{badge, junit, markdown, results};

/// The event log's file name inside the artifact directory.
pub const EVENTS_FILE: &str = "events.jsonl";

/// Where the files go.
#[derive(Debug, Clone)]
pub struct ArtifactPaths {
    /// results.json, badges and events.jsonl.
    pub dir: PathBuf,
    pub junit: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    /// A second results.json, in the run's own coord directory, when `dir` is elsewhere: the dashboard
    /// finds the run there after its artifact directory was cleaned away.
    pub copy_dir: Option<PathBuf>,
}

/// The files the writer could not write, shared with the terminal so that the summary never names a
/// file that is not there (the writer is served before the terminal).
#[derive(Debug, Clone, Default)]
pub struct Unwritten(Arc<Mutex<BTreeSet<PathBuf>>>);

impl Unwritten {
    /// True when the writer tried `path` and could not write it.
    pub fn contains(&self, path: &Path) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(path)
    }

    fn add(&self, path: PathBuf) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path);
    }
}

/// Writes the run's files at its end.
pub struct ArtifactWriter {
    paths: ArtifactPaths,
    redactor: Redactor,
    err: Box<dyn Write + Send>,
    run: Aggregator,
    log: Vec<RunEvent>,
    unwritten: Unwritten,
}

impl ArtifactWriter {
    /// `err` gets a line for each file that could not be written.
    pub fn new(paths: ArtifactPaths, redactor: Redactor, err: Box<dyn Write + Send>) -> Self {
        Self {
            paths,
            redactor,
            err,
            run: Aggregator::default(),
            log: Vec::new(),
            unwritten: Unwritten::default(),
        }
    }

    /// Reports the files it could not write into `unwritten`.
    pub fn with_unwritten(mut self, unwritten: Unwritten) -> Self {
        self.unwritten = unwritten;
        self
    }

    fn write_all(&mut self) {
        let mut r = self.run.result().redacted(&self.redactor);
        let dir = self.paths.dir.clone();
        if let Err(e) = std::fs::create_dir_all(&dir) {
            self.problem(format!(
                "cannot create the artifact directory {}: {e}",
                dir.display()
            ));
        }
        if let Some(path) = &self.paths.markdown {
            let written = super::write_published(path, markdown::render(&r).as_bytes());
            if let Err(e) = written {
                self.unwritten.add(path.clone());
                let path = path.display().to_string();
                self.problem(format!("cannot write the Markdown summary {path}: {e}"));
                r.artifacts.markdown = None;
            }
        }
        if let Some(path) = &self.paths.junit {
            if let Err(e) = junit::write(&r, path) {
                self.unwritten.add(path.clone());
                self.problem(format!("cannot write JUnit XML {}: {e}", path.display()));
            }
        }
        if let Err(e) = results::write(&r, &dir) {
            self.unwritten.add(dir.join(results::FILE_NAME));
            self.problem(format!(
                "cannot write results.json in {}: {e}",
                dir.display()
            ));
        }
        if let Some(copy) = self.paths.copy_dir.clone().filter(|c| *c != dir) {
            if let Err(e) = results::write(&r, &copy) {
                self.problem(format!(
                    "cannot write the copy of results.json in {}: {e}",
                    copy.display()
                ));
            }
        }
        if let Err(e) = badge::write_badges(&r, &dir) {
            self.problem(format!("cannot write the badges in {}: {e}", dir.display()));
        }
        if let Err(e) = self.write_events(&dir.join(EVENTS_FILE)) {
            self.unwritten.add(dir.join(EVENTS_FILE));
            self.problem(format!(
                "cannot write {EVENTS_FILE} in {}: {e}",
                dir.display()
            ));
        }
    }

    fn write_events(&self, path: &std::path::Path) -> std::io::Result<()> {
        let mut text = String::new();
        for ev in &self.log {
            let line = serde_json::to_string(ev).map_err(std::io::Error::other)?;
            text.push_str(&self.redactor.redact(&line));
            text.push('\n');
        }
        super::write_published(path, text.as_bytes())
    }

    fn problem(&mut self, message: String) {
        let _ = writeln!(self.err, "cc-ci: {message}");
    }
}

impl Subscriber for ArtifactWriter {
    fn event(&mut self, ev: &RunEvent) {
        self.run.event(ev);
        self.log.push(ev.clone());
        if let EventKind::RunFinished(end) = &ev.kind {
            // Only a run that went ahead has reports; one that stopped before its tiers has its reason.
            let went_ahead = end.reason.is_none() && end.class != ExitClass::NoTests;
            if went_ahead && !self.run.result().tiers.is_empty() {
                self.write_all();
            }
        }
    }
}
