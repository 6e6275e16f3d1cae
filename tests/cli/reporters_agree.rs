//! One recorded event stream drives every reporter at once, and they agree on every verdict. The
//! stream (`tests/fixtures/events/mixed-run.jsonl`) is the `events.jsonl` of a real run of the example
//! recipe on the engine, with overlays that add a passing, a failing and an ignored upgrade assertion
//! and replace the backup op with a failing script (so backup fails and restore and custom are not
//! run). The terminal, the progress line, the ledger and the files (results.json, JUnit, Markdown,
//! events.jsonl) each read it on their own.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use cc_ci::coord::{export, provision, CoordPaths, Ledger, ProvisionOptions};
use cc_ci::report::event::{outcome_word, EventKind, RunEvent};
use cc_ci::report::{
    level, results, ArtifactPaths, ArtifactWriter, LedgerRecorder, ProgressLine, Subscriber,
    TerminalReporter,
};
use quick_junit::{Report, TestCaseStatus};

const RECORDED: &str = "tests/fixtures/events/mixed-run.jsonl";

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn recorded() -> (String, Vec<RunEvent>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(RECORDED);
    let text = std::fs::read_to_string(&path).unwrap();
    let events = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    (text, events)
}

/// Every verdict the stream states, by test id, as the ledger words it.
fn stated(events: &[RunEvent]) -> BTreeMap<String, &'static str> {
    let mut v = BTreeMap::new();
    for ev in events {
        let tests = match &ev.kind {
            EventKind::TrialFinished(t) => vec![&t.test],
            EventKind::TierSkipped(s) => s.tests.iter().collect(),
            _ => continue,
        };
        for t in tests {
            assert!(v.insert(t.id.clone(), outcome_word(&t.outcome)).is_none());
        }
    }
    v
}

/// JUnit test cases of the tier suites (`op::` cases and the run suite are not assertions).
fn junit_verdicts(xml: &str) -> BTreeMap<String, &'static str> {
    let report = Report::deserialize_from_str(xml).expect("the JUnit XML reads back");
    let mut v = BTreeMap::new();
    for suite in &report.test_suites {
        let tier = suite.name.as_str().split("::").nth(1).unwrap().to_string();
        if tier == "run" {
            continue;
        }
        for case in suite.test_cases.iter() {
            let name = case.name.as_str();
            if name.starts_with("op::") || name.ends_with(" tier") {
                continue;
            }
            let word = match &case.status {
                TestCaseStatus::Success { .. } => "passed",
                TestCaseStatus::NonSuccess { .. } => "failed",
                TestCaseStatus::Skipped { message, .. } => {
                    let m = message.as_ref().map(|m| m.as_str()).unwrap_or("");
                    if m.starts_with("ignored") {
                        "ignored"
                    } else {
                        "not_run"
                    }
                }
            };
            v.insert(format!("{tier}::{name}"), word);
        }
    }
    v
}

fn ledger_verdicts(coord: &CoordPaths) -> BTreeMap<String, Vec<String>> {
    let mut out = Vec::new();
    export(coord, &mut out).unwrap();
    let mut v: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8(out).unwrap().lines() {
        let ev: serde_json::Value = serde_json::from_str(line).unwrap();
        if ev["kind"] == "verdict" && !ev["subject"].as_str().unwrap().ends_with("::tier") {
            v.entry(ev["subject"].as_str().unwrap().to_string())
                .or_default()
                .push(ev["outcome"].as_str().unwrap().to_string());
        }
    }
    v
}

#[test]
fn a_recorded_run_drives_every_reporter_and_they_agree_on_every_verdict() {
    let (text, events) = recorded();
    let verdicts = stated(&events);
    let words: Vec<&str> = verdicts.values().copied().collect();
    for w in ["passed", "failed", "ignored", "not_run"] {
        assert!(words.contains(&w), "the recording has no {w} verdict");
    }
    let dir = tempfile::tempdir().unwrap();
    let coord = CoordPaths::resolve(Some(&dir.path().join("coord"))).unwrap();
    provision(&coord, &ProvisionOptions::default()).unwrap();
    let ledger = Arc::new(Ledger::open(&coord).unwrap());
    let (out, err, progress, files_err) = (
        Buf::default(),
        Buf::default(),
        Buf::default(),
        Buf::default(),
    );
    let art = ArtifactPaths {
        dir: dir.path().join("artifacts"),
        junit: Some(dir.path().join("junit.xml")),
        markdown: Some(dir.path().join("summary.md")),
        copy_dir: None,
    };
    let mut subscribers: Vec<Box<dyn Subscriber>> = vec![
        Box::new(ArtifactWriter::new(
            art.clone(),
            Default::default(),
            Box::new(files_err.clone()),
        )),
        Box::new(LedgerRecorder::new(ledger)),
        Box::new(TerminalReporter::new(
            Box::new(out.clone()),
            Box::new(err.clone()),
        )),
        Box::new(ProgressLine::new(Box::new(progress.clone()), false)),
    ];
    for ev in &events {
        for s in subscribers.iter_mut() {
            s.event(ev);
        }
    }
    assert_eq!(files_err.text(), "", "every file is written");
    let EventKind::RunFinished(end) = &events.last().unwrap().kind else {
        panic!("the recording does not end with run_finished");
    };

    // results.json: the same verdicts, the exit code of the last event.
    let r = results::read(&art.dir.join("results.json")).unwrap();
    let from_results: BTreeMap<String, &str> = r
        .tests()
        .map(|t| (t.id.clone(), outcome_word(&t.outcome)))
        .collect();
    assert_eq!(from_results, verdicts, "results.json");
    assert_eq!(r.exit_code, end.exit_code);

    // JUnit: the same verdicts.
    let xml = std::fs::read_to_string(art.junit.as_ref().unwrap()).unwrap();
    assert_eq!(junit_verdicts(&xml), verdicts, "JUnit");

    // Ledger: exactly one verdict event per test, with the same word.
    let ledger: BTreeMap<String, Vec<String>> = ledger_verdicts(&coord);
    let expected: BTreeMap<String, Vec<String>> = verdicts
        .iter()
        .map(|(k, v)| (k.clone(), vec![v.to_string()]))
        .collect();
    assert_eq!(ledger, expected, "ledger");

    // Markdown: leads with the level of these verdicts and names every failed assertion.
    let md = std::fs::read_to_string(art.markdown.as_ref().unwrap()).unwrap();
    let title = level::compute(&r).title();
    assert!(
        md.lines().next().unwrap().contains(&format!("**{title}**")),
        "{md}"
    );
    // Terminal: the header, a ✗ line per failed assertion, the exit code; signals and warnings none.
    let shown = out.text();
    assert!(shown.starts_with("── cc-ci · hello "), "{shown}");
    for (id, w) in &verdicts {
        let name = id.rsplit("::").next().unwrap();
        let failed_line = format!("✗ {id}: ");
        assert_eq!(
            shown.contains(&failed_line),
            *w == "failed",
            "{id} in:\n{shown}"
        );
        if *w == "failed" {
            assert!(md.contains(&name.replace('_', "\\_")), "{name} in:\n{md}");
        }
    }
    assert!(
        shown.contains(&format!(
            "result            FAILED (exit {})",
            end.exit_code
        )),
        "{shown}"
    );
    assert_eq!(err.text(), "");
    // The progress line shows each op's wait.
    assert!(
        progress.text().contains("deploy op ["),
        "{}",
        progress.text()
    );
    // events.jsonl is the stream itself.
    let written = std::fs::read_to_string(art.dir.join("events.jsonl")).unwrap();
    assert_eq!(written, text);
}
