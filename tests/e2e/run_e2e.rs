//! `cc-ci run` end to end on the real engine with the bundled example recipe: deploy once, tiers in
//! order, failures confined to their trial or tier, pytest-like selection, teardown always.

use crate::support::cli::text;
use crate::support::run::RunFixture;

#[test]
fn full_four_tier_run_passes_with_deploy_count_one() {
    let f = RunFixture::new("full");
    let junit = f.dir.path().join("junit.xml");
    let md = f.dir.path().join("summary.md");
    let out = f.run(&[
        "--junitxml",
        junit.to_str().unwrap(),
        "--summary-md",
        md.to_str().unwrap(),
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let r = f.results();
    assert_eq!(r["deploy_count"], 1, "{shown}");
    let tiers: Vec<&str> = r["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tier"].as_str().unwrap())
        .collect();
    assert_eq!(
        tiers,
        ["install", "upgrade", "backup", "restore"],
        "tiers in order: {shown}"
    );
    for t in r["tiers"].as_array().unwrap() {
        assert_eq!(
            crate::support::run::outcome_kind(&t["status"]),
            "passed",
            "{t:#}"
        );
    }
    assert_eq!(f.outcome("upgrade.yaml::deployed_head"), "passed");
    let proof = &r["upgrade_proof"];
    let head = &f.repo.head;
    assert_eq!(
        proof["chaos_version"].as_str().unwrap(),
        &head[..8],
        "{proof:#}"
    );
    assert!(r["teardown"]["clean"].as_bool().unwrap(), "{shown}");
    assert!(shown.contains("deploy-count = 1"), "{shown}");
    assert!(std::fs::metadata(&junit).unwrap().len() > 0);
    assert!(std::fs::read_to_string(&md).unwrap().contains("hello"));
    f.assert_nothing_left();
    // Every verdict landed in a ledger that verifies.
    let verify = crate::support::cli::cc_ci(f.dir.path())
        .args(["ledger", "verify", "--coord-dir"])
        .arg(&f.coord)
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
    let events = f.ledger_export();
    assert!(
        events.contains("upgrade::generic-tests/upgrade.yaml::deployed_head"),
        "{events}"
    );
    for kind in [
        "run_start",
        "gate_decision",
        "\"op\"",
        "verdict",
        "teardown",
        "run_end",
    ] {
        assert!(events.contains(kind), "no {kind} event in the ledger");
    }
}

#[test]
fn failing_overlay_assertion_fails_only_its_trial() {
    let f = RunFixture::new("ovfail");
    f.overlay(
        "wrong.yaml",
        "tier: install\ntests:\n  - name: greeting_is_wrong\n    exec:\n      service: app\n      command: cat /var/www/index.html\n      stdout:\n        contains: this text is not there\n  - name: later\n    ignore: not ready yet\n    converged: {}\n  - name: secret_is_masked\n    exec:\n      service: app\n      command: cat /run/secrets/api_key\n      stdout: {equals: not-the-secret}\n",
    );
    let out = f.run(&["--stages", "install"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(f.outcome("wrong.yaml::greeting_is_wrong"), "failed");
    assert_eq!(f.outcome("wrong.yaml::later"), "ignored");
    // Nothing secret is printed: the generated secret read back in the app is masked in the failure
    // message, in results.json and in the ledger (a broken redactor would show its 32 characters).
    let masked = "stdout was \"***\", expected it to equal \"not-the-secret\"";
    assert_eq!(f.outcome("wrong.yaml::secret_is_masked"), "failed");
    assert!(text(&out).contains(masked), "{}", text(&out));
    assert!(
        f.results()
            .to_string()
            .contains(&masked.replace('"', "\\\"")),
        "{}",
        f.results()
    );
    let events = f.ledger_export();
    assert!(
        events
            .lines()
            .any(|l| l.contains("wrong.yaml::later") && l.contains("\"outcome\":\"ignored\"")),
        "an ignored test is still a verdict in the ledger: {events}"
    );
    assert!(
        events
            .lines()
            .any(|l| l.contains("secret_is_masked") && l.contains("stdout was \\\"***\\\"")),
        "the secret is masked in the ledger too: {events}"
    );
    assert_eq!(f.outcome("install.yaml::converged"), "passed");
    assert_eq!(f.results()["deploy_count"], 1);
    f.assert_nothing_left();
}

#[test]
fn failing_op_reports_its_tier_and_still_tears_down() {
    let f = RunFixture::new("opfail");
    // The PR head asks for an image that does not exist: the upgrade op cannot converge.
    let compose = f.repo.path.join("compose.yml");
    let text_c = std::fs::read_to_string(&compose).unwrap();
    std::fs::write(
        &compose,
        text_c.replace("ccci/busybox:2", "ccci/busybox:does-not-exist"),
    )
    .unwrap();
    crate::support::fixture::commit_all(&f.repo.path, "broken image");
    let out = f.run(&["--stages", "install,upgrade,backup"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    let r = f.results();
    let tiers = r["tiers"].as_array().unwrap();
    assert_eq!(
        crate::support::run::outcome_kind(&tiers[0]["status"]),
        "passed",
        "{shown}"
    );
    assert_eq!(
        crate::support::run::outcome_kind(&tiers[1]["status"]),
        "failed",
        "{shown}"
    );
    assert_eq!(tiers[1]["op"]["ok"], false);
    assert_eq!(f.outcome("upgrade.yaml::deployed_head"), "failed");
    assert_eq!(
        crate::support::run::outcome_kind(&tiers[2]["status"]),
        "not_run",
        "later tiers not run: {shown}"
    );
    assert!(r["teardown"]["clean"].as_bool().unwrap(), "{shown}");
    f.assert_nothing_left();
}

#[test]
fn keyword_selects_assertions_and_exitfirst_stops_after_the_first_failure() {
    let f = RunFixture::new("kx");
    f.overlay(
        "two.yaml",
        "tier: install\ntests:\n  - name: a_fails\n    exec:\n      service: app\n      command: echo no\n      stdout: {equals: \"yes\"}\n  - name: b_would_pass\n    exec:\n      service: app\n      command: \"true\"\n",
    );
    // -k: only the overlay tests are selected; the install op still runs (one deploy).
    let out = f.run(&["--stages", "install", "-k", "two and not a_fails"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = f.results();
    let ids: Vec<&str> = r["tiers"][0]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["install::overlays/hello/two.yaml::b_would_pass"]);
    assert_eq!(r["deploy_count"], 1);
    f.assert_nothing_left();
    // -x: the first failure stops the rest, which are reported as not run.
    let out = f.run(&["--stages", "install", "-x", "-k", "two"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(f.outcome("two.yaml::a_fails"), "failed");
    assert_eq!(f.outcome("two.yaml::b_would_pass"), "not_run");
    f.assert_nothing_left();
}

#[test]
fn collect_only_lists_trial_ids_without_deploying() {
    let f = RunFixture::new("co");
    let out = f.run(&["--collect-only"]);
    let shown = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        shown.contains("upgrade::generic-tests/upgrade.yaml::deployed_head"),
        "{shown}"
    );
    assert!(shown.contains("tests collected"), "{shown}");
    f.assert_nothing_left();
    let none = f.run(&["--collect-only", "-k", "no_such_test_anywhere"]);
    assert_eq!(none.status.code(), Some(5), "{}", text(&none));
}

#[test]
fn bad_spec_fails_before_anything_is_deployed() {
    let f = RunFixture::new("badspec");
    f.overlay(
        "bad.yaml",
        "tier: install\ntests:\n  - name: x\n    exce:\n      service: app\n",
    );
    let out = f.run(&["--stages", "install"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(4), "{shown}");
    assert!(shown.contains("bad.yaml:4"), "names file and line: {shown}");
    assert!(shown.contains("nothing was deployed"), "{shown}");
    f.assert_nothing_left();
}

#[test]
fn pause_after_is_refused_in_ci_before_anything_is_deployed() {
    let f = RunFixture::new("pause");
    let out = f
        .command(&["--pause-after", "install"])
        .env("CI", "true")
        .output()
        .unwrap();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(4), "{shown}");
    assert!(shown.contains("refused when CI is set"), "{shown}");
    f.assert_nothing_left();
}
