//! The dashboard after a real run made the way the README makes one: artifacts under a relative
//! `--artifacts` path, the dashboard rendered from another working directory, then again after the
//! artifact directory was cleaned away. Each time the run is there, as Chromium shows it.

use crate::support::browser::browse;
use crate::support::cli::{cc_ci, text};
use crate::support::run::RunFixture;

/// `cc-ci dashboard` from `cwd`, into `out`; returns its output after checking it exited 0.
fn dashboard(f: &RunFixture, cwd: &std::path::Path, out: &str) -> std::process::Output {
    let o = cc_ci(f.dir.path())
        .current_dir(cwd)
        .args(["dashboard", "--out", out, "--coord-dir"])
        .arg(&f.coord)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    o
}

/// The recipe's row on the index and the run's page, as Chromium renders them.
fn assert_shows_run(f: &RunFixture, site: &std::path::Path, run_id: &str) {
    let profile = f.dir.path().join("chromium-profile");
    let index = browse(
        &profile,
        &format!("file://{}", site.join("index.html").display()),
        &["--dump-dom"],
    );
    let row = index
        .split("<tr class=\"recipe\"")
        .find(|s| s.contains("data-recipe=\"hello\""))
        .unwrap_or_else(|| panic!("no row for hello:\n{index}"));
    assert!(row.contains("class=\"pass\">passed</span>"), "{row}");
    assert!(
        index.contains(&format!("<tr class=\"run\" data-run=\"{run_id}\"")),
        "{index}"
    );
    let page = browse(
        &profile,
        &format!("file://{}/runs/{run_id}/index.html", site.display()),
        &["--dump-dom"],
    );
    assert!(page.contains("id=\"tier-install\""), "{page}");
}

#[test]
fn a_run_with_relative_artifact_paths_shows_on_the_dashboard_from_anywhere() {
    let f = RunFixture::new("dash");
    let (work, elsewhere) = (f.dir.path().join("work"), f.dir.path().join("elsewhere"));
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    // As scripts/example.sh runs it: every report path relative to the working directory.
    let out = f
        .command(&[
            "--stages",
            "install",
            "--artifacts",
            "target/example",
            "--junitxml",
            "target/example/junit.xml",
            "--summary-md",
            "target/example/summary.md",
        ])
        .current_dir(&work)
        .output()
        .unwrap();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let results = work.join("target/example/results.json");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let run_id = r["run_id"].as_str().unwrap().to_string();
    for key in ["results", "junit", "markdown"] {
        let p = r["artifacts"][key].as_str().unwrap();
        assert!(
            std::path::Path::new(p).is_absolute(),
            "{key} is recorded absolute: {p}"
        );
    }
    let ledger = f.ledger_export();
    let run_end = ledger
        .lines()
        .find(|l| l.contains("\"kind\":\"run_end\""))
        .unwrap();
    assert!(
        run_end.contains(&format!("\"results\":\"{}\"", results.display())),
        "{run_end}"
    );
    // A copy stays in the run's own coord directory.
    assert!(f
        .coord
        .join("runs")
        .join(&run_id)
        .join("results.json")
        .is_file());

    let o = dashboard(&f, &elsewhere, "site");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("dashboard: 1 recipe(s), 1 run(s)"),
        "{}",
        text(&o)
    );
    assert!(o.stderr.is_empty(), "no warning: {}", text(&o));
    assert_shows_run(&f, &elsewhere.join("site"), &run_id);

    // The artifact directory cleaned away: the run is still there, from its copy.
    std::fs::remove_dir_all(work.join("target")).unwrap();
    let o = dashboard(&f, &elsewhere, "site2");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("dashboard: 1 recipe(s), 1 run(s)"),
        "{}",
        text(&o)
    );
    assert_shows_run(&f, &elsewhere.join("site2"), &run_id);
}
