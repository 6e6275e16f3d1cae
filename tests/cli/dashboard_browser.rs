//! The static dashboard as a person sees it: rendered by the real binary from a real ledger mirror and
//! real results.json/JUnit/Markdown files, then opened in headless Chromium (DOM dump + screenshot kept
//! under target/test-artifacts/). Chromium comes from scripts/setup-chromium.sh; without it these
//! tests fail with a message saying so.

use std::path::{Path, PathBuf};

use crate::support::browser::browse;
use crate::support::cli::{cc_ci, text};
use crate::support::report::{passing, stale_upgrade};
use cc_ci::report::{junit, markdown, results, RunResult};
use sha2::{Digest, Sha256};

fn artifacts_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts/dashboard");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes the run's files the way a run does and returns its `run_end` ledger line's data path.
fn write_run(runs_dir: &Path, mut r: RunResult) -> PathBuf {
    let dir = runs_dir.join(&r.run_id);
    std::fs::create_dir_all(&dir).unwrap();
    r.artifacts.junit = Some(dir.join("junit.xml"));
    r.artifacts.markdown = Some(dir.join("report.md"));
    r.artifacts.results = Some(dir.join("results.json"));
    junit::write(&r, &dir.join("junit.xml")).unwrap();
    std::fs::write(dir.join("report.md"), markdown::render(&r)).unwrap();
    results::write(&r, &dir).unwrap()
}

/// A hash-chained mirror line in the coord ledger's shape.
fn ledger_line(
    seq: u64,
    prev: &str,
    run_id: &str,
    kind: &str,
    data: serde_json::Value,
) -> (String, String) {
    let outcome = data
        .get("outcome")
        .and_then(|o| o.as_str())
        .unwrap_or("ok")
        .to_string();
    let mut ev = serde_json::json!({
        "seq": seq, "id": format!("ev-{seq}"), "ts": "2026-11-23T18:00:00.123456789Z", "host": "ci-1",
        "run_id": run_id, "kind": kind, "subject": "hello", "outcome": outcome, "data": data, "prev_hash": prev,
    });
    let hash = hex::encode(Sha256::digest(serde_json::to_vec(&ev).unwrap()));
    ev["hash"] = serde_json::Value::String(hash.clone());
    (serde_json::to_string(&ev).unwrap(), hash)
}

#[test]
fn dashboard_from_ledger_mirror_shows_recipe_rows_and_run_pages_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let coord = tmp.path().join("coord");
    let runs = tmp.path().join("runs");
    let out = tmp.path().join("site");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&coord).unwrap();

    let inputs = vec![
        passing("hello", "run-h1", "2026-11-20T10:00:00Z"),
        stale_upgrade("hello", "run-h2", "2026-11-21T10:00:00Z"),
        passing("hello", "run-h3", "2026-11-22T10:00:00Z"),
        stale_upgrade("custom-html", "run-c1", "2026-11-22T11:00:00Z"),
    ];
    let mut lines = Vec::new();
    let mut prev = "0".repeat(64);
    let mut seq = 0;
    for r in inputs {
        let id = r.run_id.clone();
        let path = write_run(&runs, r);
        for (kind, data) in [
            ("run_start", serde_json::json!({"recipe": "hello"})),
            (
                "verdict",
                serde_json::json!({"tier": "install", "outcome": "passed"}),
            ),
            (
                "run_end",
                serde_json::json!({"results": path, "exit_code": 0}),
            ),
        ] {
            seq += 1;
            let (line, h) = ledger_line(seq, &prev, &id, kind, data);
            lines.push(line);
            prev = h;
        }
    }
    // A run whose results were cleaned away: reported, not fatal.
    let (line, _) = ledger_line(
        seq + 1,
        &prev,
        "run-gone",
        "run_end",
        serde_json::json!({"results": runs.join("run-gone/results.json")}),
    );
    lines.push(line);
    // A refused run (a typo in a spec) and an empty one: no results, listed with outcome and reason.
    for (id, data) in [
        (
            "run-refused",
            serde_json::json!({"outcome": "refused", "exit_code": 4, "reason": "spec tests/x.toml:3: unknown key"}),
        ),
        (
            "run-empty",
            serde_json::json!({"outcome": "no_tests", "exit_code": 5}),
        ),
    ] {
        lines.push(ledger_line(seq + 2, &prev, id, "run_end", data).0);
    }
    std::fs::write(coord.join("ledger.jsonl"), lines.join("\n") + "\n").unwrap();

    let o = cc_ci(&home)
        .args(["dashboard", "--out"])
        .arg(&out)
        .arg("--coord-dir")
        .arg(&coord)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("dashboard: 2 recipe(s), 4 run(s)"),
        "{}",
        text(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("run run-gone: no results.json of this run found"),
        "{}",
        text(&o)
    );

    // The index, as a browser builds it.
    let profile = tempfile::tempdir().unwrap();
    let index_url = format!("file://{}", out.join("index.html").display());
    let dom = browse(profile.path(), &index_url, &["--dump-dom"]);
    std::fs::write(artifacts_dir().join("index.dom.html"), &dom).unwrap();
    let hello_row = dom
        .split("<tr class=\"recipe\"")
        .find(|s| s.contains("data-recipe=\"hello\""))
        .unwrap_or_else(|| panic!("no row for hello:\n{dom}"));
    assert!(
        hello_row.contains("data-level=\"5\""),
        "latest hello run is L5: {hello_row}"
    );
    assert!(hello_row.contains("alt=\"L5 lint\""), "{hello_row}");
    assert_eq!(
        hello_row.matches("class=\"mark ").count(),
        3,
        "trend shows three runs: {hello_row}"
    );
    assert!(
        hello_row.contains("class=\"mark l1 failed-run\""),
        "the stale run shows in the trend: {hello_row}"
    );
    let html_row = dom
        .split("<tr class=\"recipe\"")
        .find(|s| s.contains("data-recipe=\"custom-html\""))
        .unwrap_or_else(|| panic!("no row for custom-html:\n{dom}"));
    assert!(html_row.contains("data-level=\"1\""), "{html_row}");
    assert!(
        html_row.contains(
            "<small>L2 upgrade fail: upgrade::generic-tests/upgrade.yaml::deployed_head failed"
        ),
        "the cap reason shows: {html_row}"
    );
    assert_eq!(dom.matches("<tr class=\"run\"").count(), 4);
    let ended: Vec<&str> = dom.split("<tr class=\"ended\"").skip(1).collect();
    assert_eq!(ended.len(), 2, "refused and empty runs listed: {dom}");
    assert!(
        ended[1].contains("data-run=\"run-refused\"")
            && ended[1].contains("refused</span></td><td>spec tests/x.toml:3: unknown key</td>"),
        "{}",
        ended[1]
    );
    assert!(
        ended[0].contains("empty</span></td><td>nothing selected"),
        "{}",
        ended[0]
    );
    assert!(
        ended[0].contains(">2026-11-23 18:00:00 UTC</time>"),
        "times are shown for people: {}",
        ended[0]
    );
    assert!(!dom.contains(">2026-11-23T18:00:00.123456789Z<"), "{dom}");
    assert!(out.join("badges/hello.svg").is_file());

    // A run page, with its files beside it.
    let page = out.join("runs/run-h2/index.html");
    let dom = browse(
        profile.path(),
        &format!("file://{}", page.display()),
        &["--dump-dom"],
    );
    std::fs::write(artifacts_dir().join("run.dom.html"), &dom).unwrap();
    assert!(
        dom.contains("<h1 id=\"title\">hello · L1 install</h1>"),
        "{dom}"
    );
    assert_eq!(dom.matches("<tr class=\"rung\"").count(), 5);
    assert!(
        dom.contains("<tr class=\"rung\" data-status=\"fail\"><td>L2 upgrade</td>"),
        "{dom}"
    );
    assert!(
        dom.contains("chaos-version 1111aaaa does not match head_ref 0123abcd"),
        "{dom}"
    );
    assert!(
        dom.contains("<span class=\"fail\">not clean</span>: 1 resource(s) left over"),
        "{dom}"
    );
    assert!(dom.contains("volume hello-run-h2_ci_local_data"), "{dom}");
    for f in ["results.json", "junit.xml", "report.md"] {
        assert!(
            dom.contains(&format!("<a href=\"{f}\">")),
            "link to {f}: {dom}"
        );
        assert!(
            page.parent().unwrap().join(f).is_file(),
            "{f} copied beside the page"
        );
    }
    let copied = results::read(&page.parent().unwrap().join("results.json")).unwrap();
    assert_eq!(copied.run_id, "run-h2");

    // Screenshots a person can look at.
    for (name, url) in [
        ("index.png", index_url.clone()),
        ("run.png", format!("file://{}", page.display())),
    ] {
        let shot = artifacts_dir().join(name);
        let _ = std::fs::remove_file(&shot);
        browse(
            profile.path(),
            &url,
            &[
                &format!("--screenshot={}", shot.display()),
                "--window-size=1280,1400",
            ],
        );
        let bytes = std::fs::read(&shot)
            .unwrap_or_else(|e| panic!("no screenshot {}: {e}", shot.display()));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{name} is a real picture"
        );
    }
}

#[test]
fn dashboard_without_a_ledger_mirror_exits_4_and_names_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let o = cc_ci(tmp.path())
        .args(["dashboard", "--out"])
        .arg(tmp.path().join("site"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let expected = tmp.path().join(".cache/cc-ci/coord/ledger.jsonl");
    assert!(
        err.contains(&expected.display().to_string()),
        "{}",
        text(&o)
    );
    assert!(err.contains("hint:"), "{}", text(&o));
}
