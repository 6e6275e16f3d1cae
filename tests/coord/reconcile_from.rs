//! A run's fallback file through the real binary: events a run could not record (a full coord disk)
//! are written by the library as `Ledger::fallback_line`s; `ledger verify` shows the run as never
//! ended, `coord reconcile --from FILE` appends them in order exactly once, and verify then shows the
//! chain intact with no open run. A bad file appends nothing and exits 4 naming FILE:LINE.

use std::path::{Path, PathBuf};

use cc_ci::coord::{CoordPaths, Ledger, NewEvent, Stamped};

use crate::support::cli::text;
use crate::support::coord::Tree;

const RUN: &str = "r-fallback-1";

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Opens the tree's ledger, records the run's start, and writes the rest of the run (verdicts and
/// its run_end) as a fallback file, the way the run side does when the ledger cannot take them.
fn run_with_fallback(t: &Tree) -> (PathBuf, Vec<Stamped>) {
    let paths = CoordPaths::resolve(Some(&t.base)).unwrap();
    let ledger = Ledger::open(&paths).unwrap();
    ledger
        .append(NewEvent::new("run_start", "/src/hello", "started").run(RUN))
        .unwrap();
    let mut evs: Vec<Stamped> = (0..3)
        .map(|i| ledger.stamp(NewEvent::new("verdict", format!("L{i}::tier"), "pass").run(RUN)))
        .collect();
    evs.push(ledger.stamp(NewEvent::new("run_end", "hello", "passed").run(RUN)));
    let file = t.home.path().join(format!("ledger-unrecorded-{RUN}.jsonl"));
    let text: String = evs.iter().map(|e| ledger.fallback_line(e) + "\n").collect();
    std::fs::write(&file, text).unwrap();
    (file, evs)
}

fn reconcile_from(t: &Tree, file: &Path, code: i32) -> std::process::Output {
    t.expect(
        code,
        &["coord", "reconcile", "--from", file.to_str().unwrap()],
    )
}

#[test]
fn reconcile_from_appends_a_fallback_file_once_and_closes_the_run_verify_showed_open() {
    let t = Tree::provisioned();
    let (file, evs) = run_with_fallback(&t);
    let before = t.ok(&["ledger", "verify"]);
    assert!(before.starts_with("intact: "), "{before}");
    assert!(before.contains("runs that never ended: 1\n"), "{before}");
    assert!(
        before.contains(&format!("\n  {RUN}  started ")) && before.contains("  /src/hello\n"),
        "{before}"
    );
    assert!(
        before.contains("cc-ci coord reconcile --from FILE"),
        "{before}"
    );

    let out = stdout(&reconcile_from(&t, &file, 0));
    assert!(
        out.contains(&format!(
            "\nfrom {}: 4 appended, 0 already in the ledger",
            file.display()
        )),
        "{out}"
    );
    let ids: Vec<String> = t
        .events()
        .into_iter()
        .filter(|e| e["run_id"] == RUN && e["kind"] != "run_start")
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let want: Vec<String> = evs.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids, want, "appended in file order");

    let after = t.ok(&["ledger", "verify"]);
    assert!(after.starts_with("intact: "), "{after}");
    assert!(!after.contains("never ended"), "{after}");

    let again = stdout(&reconcile_from(&t, &file, 0));
    assert!(
        again.contains(": 0 appended, 4 already in the ledger"),
        "{again}"
    );
    assert_eq!(
        t.events().len(),
        1 + 1 + evs.len(),
        "provision, run_start, the file"
    );
}

#[test]
fn an_altered_line_or_mixed_runs_exit_4_naming_file_and_line_and_append_nothing() {
    let t = Tree::provisioned();
    let (file, _) = run_with_fallback(&t);
    let before = t.events().len();
    let lines = std::fs::read_to_string(&file).unwrap();
    let altered = t.home.path().join("altered.jsonl");
    std::fs::write(&altered, lines.replacen("\"pass\"", "\"fail\"", 1)).unwrap();
    let err = text(&reconcile_from(&t, &altered, 4));
    assert!(
        err.contains(&format!("{}:1: unauthenticated", altered.display())),
        "{err}"
    );
    let mixed = t.home.path().join("mixed.jsonl");
    let ledger = Ledger::open(&CoordPaths::resolve(Some(&t.base)).unwrap()).unwrap();
    let other = ledger.stamp(NewEvent::new("verdict", "L0::tier", "pass").run("r-other"));
    std::fs::write(&mixed, lines.clone() + &ledger.fallback_line(&other)).unwrap();
    let err = text(&reconcile_from(&t, &mixed, 4));
    assert!(
        err.contains(&format!(
            "{}:5: run_id Some(\"r-other\") differs",
            mixed.display()
        )),
        "{err}"
    );
    assert_eq!(t.events().len(), before, "nothing appended");
}

#[test]
fn reconcile_from_an_unprovisioned_tree_or_a_directory_is_refused() {
    let t = Tree::new();
    let out = t.expect(2, &["coord", "reconcile", "--from", "/nonexistent.jsonl"]);
    assert!(text(&out).contains("coord provision"), "{}", text(&out));
    let t = Tree::provisioned();
    let out = reconcile_from(&t, t.home.path(), 4);
    assert!(text(&out).contains("a directory"), "{}", text(&out));
}

#[test]
fn verify_shows_a_run_whose_lock_is_held_as_running_not_as_never_ended() {
    let t = Tree::provisioned();
    run_with_fallback(&t);
    let lock = cc_ci::docker::RunLock::acquire(&t.base.join("runs").join(RUN), RUN, "s").unwrap();
    let out = t.ok(&["ledger", "verify"]);
    assert!(
        out.contains(&format!("runs running now: 1\n  {RUN}  started ")),
        "{out}"
    );
    assert!(!out.contains("never ended"), "{out}");
    drop(lock);
    let out = t.ok(&["ledger", "verify"]);
    assert!(out.contains("runs that never ended: 1\n"), "{out}");
}
