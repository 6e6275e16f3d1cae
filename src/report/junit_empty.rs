//! JUnit XML when there is no run to report, as pytest writes it: a report with no test case for a
//! listing (`--co`), a run that selected nothing (exit 5), and a run stopped by a usage or setup error
//! once the path was known — so a CI step that uploads the report always finds one. Its one suite says
//! why in a property and, for an error, in `system-err`.

use std::path::{Path, PathBuf};

use quick_junit::{Report, TestSuite};

use crate::exit::ExitClass;

use super::event::{EventKind, RunEvent, Subscriber};
use super::ReportError;

/// Why the report holds no test case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Empty {
    /// `--co` / `--list`: what was collected, in pytest's words.
    Listing(String),
    /// The filters left nothing to run.
    NoTests,
    /// The run stopped before its tiers, for this reason.
    Stopped(String),
}

/// Writes a JUnit report without test cases for `recipe` (as given) to `path`.
pub fn write_empty(path: &Path, recipe: &str, why: &Empty) -> Result<(), ReportError> {
    let xml = empty_xml(recipe, why).map_err(|message| ReportError::Junit {
        path: path.to_path_buf(),
        message,
    })?;
    super::junit::write_xml(&xml, path)
}

/// The XML text of [`write_empty`].
pub fn empty_xml(recipe: &str, why: &Empty) -> Result<String, String> {
    let mut report = Report::new(format!("cc-ci {recipe}"));
    let mut suite = TestSuite::new("run");
    let (outcome, err) = match why {
        Empty::Listing(collected) => (format!("collect-only: {collected}"), None),
        Empty::NoTests => ("no tests collected".to_string(), None),
        Empty::Stopped(reason) => ("stopped before the tiers".to_string(), Some(reason)),
    };
    suite.add_property(("recipe", recipe));
    suite.add_property(("outcome", outcome.as_str()));
    if let Some(reason) = err {
        suite.set_system_err(reason.as_str());
    }
    report.add_test_suite(suite);
    report.to_string().map_err(|e| e.to_string())
}

/// A subscriber that writes the empty report when the run ends without reaching its tiers (the
/// [`ArtifactWriter`](super::ArtifactWriter) writes the real one otherwise).
pub struct StoppedRunJunit {
    path: PathBuf,
    recipe: String,
    tiers_seen: bool,
    err: Box<dyn std::io::Write + Send>,
}

impl StoppedRunJunit {
    /// `err` gets a line when the file cannot be written.
    pub fn new(path: PathBuf, recipe: String, err: Box<dyn std::io::Write + Send>) -> Self {
        Self {
            path,
            recipe,
            tiers_seen: false,
            err,
        }
    }
}

impl Subscriber for StoppedRunJunit {
    fn event(&mut self, ev: &RunEvent) {
        match &ev.kind {
            EventKind::TierStarted(_) | EventKind::TierSkipped(_) => self.tiers_seen = true,
            EventKind::RunFinished(end) => {
                let why = match (&end.reason, end.class) {
                    (Some(reason), _) => Empty::Stopped(reason.clone()),
                    (None, ExitClass::NoTests) => Empty::NoTests,
                    (None, _) if !self.tiers_seen => Empty::Stopped(end.class.word().to_string()),
                    (None, _) => return,
                };
                if let Err(e) = write_empty(&self.path, &self.recipe, &why) {
                    let _ = writeln!(self.err, "cc-ci: cannot write JUnit XML: {e}");
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::event::RunEnd;

    fn finished(class: ExitClass, reason: Option<&str>) -> RunEvent {
        RunEvent {
            timestamp: time::OffsetDateTime::now_utc(),
            elapsed_ms: 1,
            kind: EventKind::RunFinished(RunEnd::stopped(class, reason.map(str::to_string))),
        }
    }

    #[test]
    fn a_stopped_run_writes_a_report_without_tests_in_a_directory_it_creates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/junit.xml");
        let mut s = StoppedRunJunit::new(path.clone(), "hello".into(), Box::new(std::io::sink()));
        s.event(&finished(ExitClass::Usage, Some("bad -k expression")));
        let xml = std::fs::read_to_string(&path).unwrap();
        assert!(xml.contains("tests=\"0\""), "{xml}");
        assert!(
            xml.contains("<system-err>bad -k expression</system-err>"),
            "{xml}"
        );
        assert!(!xml.contains("<testcase"), "{xml}");
    }

    #[test]
    fn nothing_selected_writes_one_and_a_run_that_went_ahead_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.xml");
        let mut s = StoppedRunJunit::new(path.clone(), "hello".into(), Box::new(std::io::sink()));
        s.event(&finished(ExitClass::NoTests, None));
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("no tests collected"));
        std::fs::remove_file(&path).unwrap();
        let mut s = StoppedRunJunit::new(path.clone(), "hello".into(), Box::new(std::io::sink()));
        s.event(&RunEvent {
            timestamp: time::OffsetDateTime::now_utc(),
            elapsed_ms: 0,
            kind: EventKind::TierFinished {
                tier: crate::spec::Tier::Install,
                failed: false,
            },
        });
        s.tiers_seen = true;
        s.event(&finished(ExitClass::Passed, None));
        assert!(
            !path.exists(),
            "the artifact writer owns a real run's report"
        );
    }
}
