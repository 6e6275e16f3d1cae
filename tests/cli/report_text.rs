//! The terminal header, banners and summary and the Markdown PR comment, compared with reviewed `insta`
//! snapshots in tests/cli/snapshots/ (durations and timestamps redacted). After an intended change, run
//! `INSTA_UPDATE=always cargo test --test cli report_text::` (or `cargo insta review`) and review the
//! diff.

use std::path::Path;

use crate::support::report::{passing, redact_volatile, stale_upgrade};
use cc_ci::report::{markdown, terminal, RunResult};

/// Compares `actual`, with its volatile parts redacted, with the snapshot `name`.
fn check(name: &str, actual: &str) {
    let actual = redact_volatile(actual, Path::new("/nonexistent"));
    insta::assert_snapshot!(name, actual);
}

fn terminal_text(r: &RunResult) -> String {
    let mut out = Vec::new();
    terminal::header(r, &mut out).unwrap();
    for t in &r.tiers {
        terminal::tier_banner(t, &mut out).unwrap();
    }
    terminal::summary(r, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn terminal_output_of_a_passing_run_matches_its_snapshot() {
    let mut r = passing("hello", "r1", "2026-11-23T18:00:00Z");
    r.artifacts.junit = Some("/runs/r1/junit.xml".into());
    r.artifacts.results = Some("/runs/r1/results.json".into());
    check("terminal_passing", &terminal_text(&r));
}

#[test]
fn terminal_output_of_a_stale_upgrade_matches_its_snapshot() {
    let text = terminal_text(&stale_upgrade("hello", "r2", "2026-11-23T19:00:00Z"));
    assert!(
        text.contains(
            "✗ upgrade::generic-tests/upgrade.yaml::deployed_head: chaos-version 1111aaaa"
        ),
        "{text}"
    );
    check("terminal_stale_upgrade", &text);
}

#[test]
fn markdown_comment_of_a_passing_run_matches_its_snapshot() {
    check(
        "markdown_passing",
        &markdown::render(&passing("hello", "r1", "2026-11-23T18:00:00Z")),
    );
}

#[test]
fn markdown_comment_of_a_stale_upgrade_matches_its_snapshot() {
    let md = markdown::render(&stale_upgrade("hello", "r2", "2026-11-23T19:00:00Z"));
    assert!(
        md.starts_with("### cc-ci · `hello` · PR #42 · **L1 install** · ❌ failed"),
        "{md}"
    );
    check("markdown_stale_upgrade", &md);
}

#[test]
fn registered_secrets_never_reach_the_rendered_reports() {
    let mut r = stale_upgrade("hello", "r2", "2026-11-23T19:00:00Z");
    r.tiers[1].tests[0].outcome = cc_ci::report::Outcome::Failed {
        message: "login failed for admin:hunter2-s3cret".into(),
    };
    let redactor = cc_ci::redact::Redactor::new();
    redactor.add("hunter2-s3cret");
    let clean = r.redacted(&redactor);
    let everything = format!(
        "{}{}{}",
        terminal_text(&clean),
        markdown::render(&clean),
        cc_ci::report::junit::to_string(&clean).unwrap()
    );
    assert!(
        !redactor.leaks(&everything),
        "a secret leaked into a report"
    );
    assert!(everything.contains("login failed for admin:***"));
}
