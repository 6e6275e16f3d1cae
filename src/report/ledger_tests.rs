//! The recorder on a real ledger whose database and spool are made to fail (as on a full coord disk)
//! and then to work again.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::coord::CoordPaths;
use crate::exit::ExitClass;
use crate::report::event::RunStart;

struct Tree {
    _dir: tempfile::TempDir,
    paths: CoordPaths,
}

impl Tree {
    fn new() -> Self {
        let (dir, paths) = crate::coord::testutil::tree();
        Tree { _dir: dir, paths }
    }

    /// The database replaced by a directory and the spool by a file: no append can succeed.
    fn break_it(&self) {
        let p = &self.paths;
        std::fs::rename(&p.ledger_db, p.ledger_db.with_extension("away")).unwrap();
        std::fs::create_dir(&p.ledger_db).unwrap();
        std::fs::rename(&p.spool, p.spool.with_extension("away")).unwrap();
        std::fs::write(&p.spool, "not a directory").unwrap();
    }

    fn mend(&self) {
        let p = &self.paths;
        std::fs::remove_dir(&p.ledger_db).unwrap();
        std::fs::rename(p.ledger_db.with_extension("away"), &p.ledger_db).unwrap();
        std::fs::remove_file(&p.spool).unwrap();
        std::fs::rename(p.spool.with_extension("away"), &p.spool).unwrap();
    }

    fn kinds(&self) -> Vec<String> {
        let mut out = Vec::new();
        crate::coord::export(&self.paths, &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["run_id"] == "run-1")
            .map(|v| v["kind"].as_str().unwrap().to_string())
            .collect()
    }
}

fn ev(kind: EventKind) -> RunEvent {
    RunEvent {
        timestamp: time::OffsetDateTime::now_utc(),
        elapsed_ms: 0,
        kind,
    }
}

fn started() -> RunEvent {
    ev(EventKind::RunStarted(RunStart {
        run_id: "run-1".into(),
        source: "hello".into(),
        git_ref: None,
        pr: None,
        stages: vec![],
        deployer: "stack".into(),
    }))
}

fn finished() -> RunEvent {
    ev(EventKind::RunFinished(RunEnd::stopped(
        ExitClass::Passed,
        None,
    )))
}

fn recorder(t: &Tree) -> LedgerRecorder {
    LedgerRecorder::new(Arc::new(Ledger::open(&t.paths).unwrap()))
}

#[test]
fn held_events_are_retried_in_order_once_the_ledger_takes_them_again() {
    let t = Tree::new();
    let mut r = recorder(&t);
    let failures = r.failures();
    t.break_it();
    r.event(&started());
    assert_eq!(failures.pending(), 1);
    assert!(!failures.reasons().is_empty());
    t.mend();
    r.event(&finished());
    assert_eq!(failures.pending(), 0);
    assert_eq!(
        failures.closed(),
        None,
        "everything was recorded in the end"
    );
    assert_eq!(t.kinds(), ["run_start", "run_end"]);
}

#[test]
fn what_is_still_unrecorded_at_the_end_goes_to_one_file_with_exactly_those_events() {
    let t = Tree::new();
    let mut r = recorder(&t);
    let failures = r.failures();
    let artifacts = tempfile::tempdir().unwrap();
    failures.set_fallback_dir(artifacts.path().to_path_buf());
    // A file of that name already there is never overwritten.
    let taken = artifacts.path().join("ledger-unrecorded-run-1.jsonl");
    std::fs::write(&taken, "earlier\n").unwrap();
    t.break_it();
    r.event(&started());
    r.event(&finished());
    let u = failures.closed().expect("something was unrecorded");
    assert_eq!(u.count, 2);
    let file = u.file.clone().unwrap();
    assert_eq!(
        file,
        artifacts.path().join("ledger-unrecorded-run-1-1.jsonl")
    );
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "earlier\n");
    let text = std::fs::read_to_string(&file).unwrap();
    let kinds: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["v"], 1);
            assert_eq!(v["mac"].as_str().unwrap().len(), 64, "authenticated: {l}");
            assert_eq!(v["event"]["run_id"], "run-1");
            v["event"]["kind"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        ["run_start", "run_end"],
        "exactly the count, in order"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // Nothing more is attempted after the end; the ledger holds none of them.
    t.mend();
    r.event(&finished());
    assert_eq!(failures.closed().unwrap().count, 2);
    assert!(t.kinds().is_empty());
}

#[test]
fn without_a_usable_artifacts_dir_the_file_goes_to_the_temp_dir() {
    let t = Tree::new();
    let mut r = recorder(&t);
    let failures = r.failures();
    failures.set_fallback_dir(Path::new("/nonexistent/cc-ci/artifacts").to_path_buf());
    t.break_it();
    r.event(&started());
    r.event(&finished());
    let u = failures.closed().unwrap();
    let file = u.file.unwrap();
    assert!(file.starts_with(std::env::temp_dir()), "{}", file.display());
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 2);
    std::fs::remove_file(file).unwrap();
    t.mend();
}

#[test]
fn a_secret_never_reaches_the_fallback_file() {
    let t = Tree::new();
    let r = recorder(&t);
    let failures = r.failures();
    let artifacts = tempfile::tempdir().unwrap();
    failures.set_fallback_dir(artifacts.path().to_path_buf());
    let redactor = crate::redact::Redactor::new();
    redactor.add("hunter2-not-for-anyone");
    let bus = crate::report::EventBus::new(redactor);
    bus.subscribe(Box::new(r));
    t.break_it();
    bus.emit(EventKind::RunStarted(RunStart {
        run_id: "run-1".into(),
        source: "https://user:hunter2-not-for-anyone@example.org/hello.git".into(),
        git_ref: None,
        pr: None,
        stages: vec![],
        deployer: "stack".into(),
    }));
    bus.emit(EventKind::RunFinished(RunEnd::stopped(
        ExitClass::Passed,
        None,
    )));
    let file = failures.closed().unwrap().file.unwrap();
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains("example.org/hello.git"), "{text}");
    assert!(!text.contains("hunter2-not-for-anyone"), "{text}");
    t.mend();
}
