//! A real run's artifacts agree with each other and with the ledger: results.json (valid against the
//! published schema, its level the ladder of its own verdicts), the JUnit XML (same tests, same
//! outcomes), the Markdown summary (leads with the level) and the ledger's verdict events (exactly one
//! per test, same outcome). The real runner on the real engine, with the example recipe.

use std::collections::BTreeMap;

use crate::support::cli::text;
use crate::support::run::RunFixture;
use crate::support::schema::schema_errors;
use cc_ci::report::{level, results, Outcome, RunResult};
use quick_junit::{Report, TestCaseStatus};

/// The outcome words shared by results.json (`kind`), the ledger (`outcome`) and this file's JUnit
/// reading.
fn word(o: &Outcome) -> &'static str {
    match o {
        Outcome::Passed => "passed",
        Outcome::Failed { .. } => "failed",
        Outcome::Ignored { .. } => "ignored",
        Outcome::NotRun { .. } => "not_run",
    }
}

/// JUnit test cases of the tier suites as `<tier>::<testcase name>` → outcome word (`op::…` cases and
/// the run suite are left out: they are not assertions), read with quick-junit's reader. Panics on a
/// duplicate case.
fn junit_outcomes(xml: &str, recipe: &str) -> BTreeMap<String, String> {
    let report = Report::deserialize_from_str(xml).expect("the JUnit XML parses");
    assert!(
        !report.test_suites.is_empty(),
        "no testsuite in the JUnit XML:\n{xml}"
    );
    let mut out = BTreeMap::new();
    for suite in &report.test_suites {
        let name = suite.name.as_str();
        let tier = name
            .strip_prefix(&format!("{recipe}::"))
            .unwrap_or_else(|| panic!("suite {name} is not named {recipe}::<tier>"));
        if tier == "run" {
            continue;
        }
        for case in suite.test_cases.iter() {
            let case_name = case.name.as_str();
            if case_name.starts_with("op::") {
                continue;
            }
            let w = match &case.status {
                TestCaseStatus::Success { .. } => "passed".to_string(),
                TestCaseStatus::NonSuccess { .. } => "failed".to_string(),
                TestCaseStatus::Skipped { message, .. } => {
                    let m = message.as_ref().map(|m| m.as_str()).unwrap_or("");
                    if m.starts_with("ignored") {
                        "ignored".to_string()
                    } else if m.starts_with("not run") {
                        "not_run".to_string()
                    } else {
                        format!("skipped ({m})")
                    }
                }
            };
            let id = format!("{tier}::{case_name}");
            let old = out.insert(id.clone(), w);
            assert!(old.is_none(), "{id} twice in the JUnit XML");
        }
    }
    out
}

/// Every report file is 0644: junit.xml, summary.md, and results.json, the badges and events.jsonl in
/// the artifact directory.
fn assert_reports_are_0644(files: &[&std::path::Path], artifacts: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut all: Vec<std::path::PathBuf> = files.iter().map(|p| p.to_path_buf()).collect();
    for e in std::fs::read_dir(artifacts).unwrap() {
        let p = e.unwrap().path();
        let report = ["json", "svg", "jsonl"]
            .iter()
            .any(|x| p.extension().is_some_and(|e| e == *x));
        if p.is_file() && report {
            all.push(p);
        }
    }
    assert!(all.len() >= 5, "too few reports: {all:?}");
    for p in &all {
        let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{} is {mode:o}", p.display());
    }
}

#[test]
fn results_junit_markdown_and_ledger_agree_on_every_verdict() {
    let f = RunFixture::new("artifacts");
    // One passing and one failing recipe-specific assertion after the upgrade, beside the generic ones.
    f.overlay(
        "mixed.yaml",
        "tier: upgrade\ntests:\n  - name: serves_index\n    exec:\n      service: app\n      command: cat /var/www/index.html\n      stdout:\n        contains: hello\n  - name: wrong_greeting\n    exec:\n      service: app\n      command: cat /var/www/index.html\n      stdout:\n        contains: this text is not there\n",
    );
    let junit = f.dir.path().join("junit.xml");
    let md = f.dir.path().join("summary.md");
    let mut cmd = f.command(&[
        "--stages",
        "install,upgrade",
        "--junitxml",
        junit.to_str().unwrap(),
        "--summary-md",
        md.to_str().unwrap(),
    ]);
    // The strictest umask a service might run under: the reports are still readable by a web server.
    // SAFETY: umask is async-signal-safe and touches nothing but the child's own mask.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::umask(0o077);
            Ok(())
        });
    }
    let out = cmd.output().expect("run cc-ci");
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "one assertion fails: {shown}");
    f.assert_nothing_left();
    assert_reports_are_0644(&[&junit, &md], &f.artifacts);

    // results.json: valid against the schema, and its level is the ladder of its own verdicts.
    let path = f.artifacts.join("results.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let errs = schema_errors(&doc);
    assert!(errs.is_empty(), "results.json does not validate: {errs:#?}");
    let r: RunResult = results::read(&path).unwrap();
    let ladder = level::compute(&r);
    assert_eq!(doc["ladder"]["level"], ladder.level, "{:#}", doc["ladder"]);
    assert_eq!(doc["ladder"], serde_json::to_value(&ladder).unwrap());
    assert_eq!(
        ladder.level, 1,
        "the failing upgrade assertion caps the run at L1: {ladder:?}"
    );
    let tests: BTreeMap<String, &'static str> = r
        .tests()
        .map(|t| (t.id.clone(), word(&t.outcome)))
        .collect();
    assert_eq!(
        tests.len(),
        r.tests().count(),
        "duplicate ids in results.json"
    );
    assert!(tests.len() >= 4, "too few tests to compare: {tests:?}");
    assert_eq!(
        tests.get("upgrade::overlays/hello/mixed.yaml::wrong_greeting"),
        Some(&"failed")
    );
    assert_eq!(
        tests.get("upgrade::overlays/hello/mixed.yaml::serves_index"),
        Some(&"passed")
    );
    assert_eq!(
        tests.get("upgrade::generic-tests/upgrade.yaml::deployed_head"),
        Some(&"passed")
    );

    // JUnit: exactly the same tests with the same outcomes.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let j = junit_outcomes(&xml, &r.recipe);
    let expected: BTreeMap<String, String> = tests
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    assert_eq!(j, expected, "JUnit and results.json disagree");
    assert!(
        xml.contains(&format!(
            "<property name=\"level\" value=\"{}\"/>",
            ladder.title()
        )),
        "the JUnit level property is not {}",
        ladder.title()
    );
    assert_eq!(i32::from(r.exit_code), out.status.code().unwrap());

    // Markdown: leads with the level, which is the ladder's.
    let summary = std::fs::read_to_string(&md).unwrap();
    let first = summary.lines().next().unwrap_or("");
    assert!(
        first.starts_with("### cc-ci") && first.contains(&format!("**{}**", ladder.title())),
        "the summary does not lead with the level {}: {first}",
        ladder.title()
    );
    assert!(summary.contains("wrong\\_greeting"), "{summary}");

    // Ledger: exactly one verdict per test of this run, with the same outcome.
    let export = crate::support::cli::cc_ci(f.dir.path())
        .args(["ledger", "export", "--coord-dir"])
        .arg(&f.coord)
        .output()
        .unwrap();
    assert_eq!(export.status.code(), Some(0), "{}", text(&export));
    let mut verdicts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&export.stdout).lines() {
        let ev: serde_json::Value = serde_json::from_str(line).unwrap();
        if ev["kind"] == "verdict" && ev["run_id"] == r.run_id.as_str() {
            verdicts
                .entry(ev["subject"].as_str().unwrap().to_string())
                .or_default()
                .push(ev["outcome"].as_str().unwrap().to_string());
        }
    }
    for (id, w) in &tests {
        assert_eq!(
            verdicts.get(id).map(Vec::as_slice),
            Some(&[w.to_string()][..]),
            "ledger verdicts of {id}"
        );
    }
    let extra: Vec<&String> = verdicts
        .keys()
        .filter(|s| !tests.contains_key(*s) && !s.ends_with("::tier"))
        .collect();
    assert!(
        extra.is_empty(),
        "verdicts without a test in results.json: {extra:?}"
    );

    // The checkpoint printed, commented and in results.json is the head the run ended on; this run's
    // run_end event, the last, records it.
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&export.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (before, last) = (&events[events.len() - 2], &events[events.len() - 1]);
    assert_eq!(
        (&last["kind"], &last["run_id"]),
        (&"run_end".into(), &r.run_id.as_str().into())
    );
    let cp = format!("{}:{}", before["seq"], before["hash"].as_str().unwrap());
    assert_eq!(last["data"]["checkpoint"], cp.as_str());
    assert_eq!(r.ledger_checkpoint.as_deref(), Some(cp.as_str()));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("ledger checkpoint {cp}")),
        "{shown}"
    );
    assert!(summary.contains(&format!("--checkpoint {cp}")), "{summary}");

    // Badges next to results.json, carrying the level.
    for name in ["badge.svg", "badge-hello.svg"] {
        let svg = std::fs::read_to_string(f.artifacts.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            svg.starts_with("<svg") && svg.contains(&format!("L{}", ladder.level)),
            "{name}: {svg}"
        );
    }
    // The JUnit XML of a real run validates against the schema CI dashboards use.
    let xsd = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit.xsd");
    let lint = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(&junit)
        .output()
        .expect("xmllint (scripts/setup-chromium.sh installs libxml2-utils)");
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stderr)
    );
    // The dashboard, rendered from this real ledger, shows the recipe and the run as a person sees it.
    let site = f.dir.path().join("site");
    let dash = crate::support::cli::cc_ci(f.dir.path())
        .args(["dashboard", "--coord-dir"])
        .arg(&f.coord)
        .arg("--out")
        .arg(&site)
        .output()
        .unwrap();
    assert_eq!(dash.status.code(), Some(0), "{}", text(&dash));
    let dom = crate::support::browser::browse(
        &f.dir.path().join("chromium-profile"),
        &format!("file://{}", site.join("index.html").display()),
        &["--dump-dom"],
    );
    assert!(dom.contains("hello"), "the recipe row is missing: {dom}");
    assert!(
        dom.contains(&format!("L{}", ladder.level)),
        "the level is missing: {dom}"
    );
}
