//! Legacy pytest overlays (`test_*.py` beside the YAML specs) run end to end with real pytest on the
//! real engine: every node becomes a trial in its tier (from the file name, or a `tier` marker), and
//! results.json reports it as pytest saw it — passed, failed with pytest's message, errored with the
//! error. Without pytest those trials fail saying how to install it; they are never dropped.

use std::path::Path;
use std::process::Command;

use crate::support::cli::text;
use crate::support::recipe_repo::project_root;
use crate::support::run::{outcome_kind, RunFixture};

const INSTALL_FILE: &str = "overlays/hello/test_install_legacy.py";
const MISC_FILE: &str = "overlays/hello/test_misc.py";

/// Copies the legacy pytest overlay of `tests/fixtures/pytest/legacy/` into the fixture's overlays.
fn with_legacy_overlay(f: &RunFixture) {
    let src = project_root().join("tests/fixtures/pytest/legacy");
    for name in ["test_install_legacy.py", "test_misc.py"] {
        let text = std::fs::read_to_string(src.join(name)).unwrap();
        f.overlay(name, &text);
    }
}

/// The results.json entries of every test with source `pytest`: (tier, id, outcome kind, message).
fn pytest_trials(f: &RunFixture) -> Vec<(String, String, String, String)> {
    let r = f.results();
    let mut out = Vec::new();
    for t in r["tiers"].as_array().unwrap() {
        for test in t["tests"].as_array().unwrap() {
            if test["source"] == "pytest" {
                out.push((
                    t["tier"].as_str().unwrap().to_string(),
                    test["id"].as_str().unwrap().to_string(),
                    outcome_kind(&test["outcome"]),
                    test["outcome"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn pytest_results_map_to_trials_passed_failed_errored_and_tier_marker() {
    let f = RunFixture::new("pyt");
    with_legacy_overlay(&f);
    let out = f.run(&["--stages", "install,upgrade"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    let trials = pytest_trials(&f);
    let summary: Vec<(&str, &str, &str)> = trials
        .iter()
        .map(|(tier, id, kind, _)| (tier.as_str(), id.as_str(), kind.as_str()))
        .collect();
    let id = |tier: &str, file: &str, node: &str| format!("{tier}::{file}::{node}");
    let errored = id("install", INSTALL_FILE, "test_errors_in_its_fixture");
    let failing = id("install", INSTALL_FILE, "test_fails_with_a_message");
    let passing = id("install", INSTALL_FILE, "test_index_page_greets_the_domain");
    let marked = id(
        "upgrade",
        MISC_FILE,
        "test_page_still_served_after_the_upgrade",
    );
    assert_eq!(
        summary,
        [
            ("install", errored.as_str(), "failed"),
            ("install", failing.as_str(), "failed"),
            ("install", passing.as_str(), "passed"),
            ("upgrade", marked.as_str(), "passed"),
        ],
        "{shown}"
    );
    let message = |wanted: &str| {
        trials
            .iter()
            .find(|t| t.1 == wanted)
            .map(|t| t.3.clone())
            .unwrap()
    };
    let failed = message(&failing);
    assert!(failed.starts_with("pytest failed: "), "{failed}");
    assert!(
        failed.contains("legacy-overlay-says: the page does not say goodbye"),
        "pytest's own assertion message: {failed}"
    );
    let error = message(&errored);
    assert!(error.starts_with("pytest error: "), "{error}");
    assert!(
        error.contains("legacy-fixture-broke: no admin token in this environment"),
        "the fixture's error: {error}"
    );
    // Everything else of the run is unaffected: the generic tests passed, no custom tier appeared.
    let r = f.results();
    for t in r["tiers"].as_array().unwrap() {
        assert_ne!(t["tier"], "custom", "{shown}");
        for test in t["tests"].as_array().unwrap() {
            if test["source"] == "generic" {
                assert_eq!(outcome_kind(&test["outcome"]), "passed", "{test:#}");
            }
        }
    }
    assert_eq!(r["deploy_count"], 1, "{shown}");
    f.assert_nothing_left();
}

/// A Python environment without pytest: a fresh venv (no pip, no system site-packages).
fn python_without_pytest(dir: &Path) -> std::path::PathBuf {
    let venv = dir.join("venv-without-pytest");
    let made = Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .output()
        .expect("python3");
    assert!(made.status.success(), "python3 -m venv: {}", text(&made));
    let bin = venv.join("bin");
    let probe = Command::new(bin.join("python3"))
        .args(["-m", "pytest", "--version"])
        .env_remove("PYTHONPATH")
        .env("PYTHONNOUSERSITE", "1")
        .output()
        .unwrap();
    assert!(
        !probe.status.success(),
        "the venv must not see pytest: {}",
        text(&probe)
    );
    bin
}

#[test]
fn without_pytest_legacy_trials_fail_with_how_to_install_it_and_are_never_dropped() {
    let f = RunFixture::new("nopyt");
    with_legacy_overlay(&f);
    let bin = python_without_pytest(f.dir.path());
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = f
        .command(&["--stages", "install,custom"])
        .env("PATH", path)
        .env_remove("PYTHONPATH")
        .env("PYTHONNOUSERSITE", "1")
        .output()
        .unwrap();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    let trials = pytest_trials(&f);
    let ids: Vec<(&str, &str, &str)> = trials
        .iter()
        .map(|(tier, id, kind, _)| (tier.as_str(), id.as_str(), kind.as_str()))
        .collect();
    let collect_install = format!("install::{INSTALL_FILE}::(collect)");
    let collect_misc = format!("custom::{MISC_FILE}::(collect)");
    assert_eq!(
        ids,
        [
            ("custom", collect_misc.as_str(), "failed"),
            ("install", collect_install.as_str(), "failed"),
        ],
        "one failing trial per file, in the tier of its name: {shown}"
    );
    for (_, id, _, message) in &trials {
        assert!(
            message.contains("pytest is not installed")
                && message.contains("python3 -m pip install pytest"),
            "{id}: {message}"
        );
    }
    assert!(shown.contains("pytest is not installed"), "{shown}");
    assert_eq!(
        f.outcome("install.yaml::converged"),
        "passed",
        "the rest of the run is unaffected"
    );
    f.assert_nothing_left();
}
