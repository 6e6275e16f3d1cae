//! The terminal header, banners and summary and the Markdown PR comment, compared with reviewed
//! snapshots in tests/snapshots/ (durations and timestamps redacted). After an intended change, run
//! `UPDATE_SNAPSHOTS=1 cargo test --test cli report_text::` and review the diff.

use std::path::{Path, PathBuf};

use crate::support::report::{passing, redact_volatile, stale_upgrade};
use cc_ci::report::{markdown, terminal, RunResult};

fn check(name: &str, actual: &str) {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    let actual = redact_volatile(actual, Path::new("/nonexistent"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "snapshot {} unreadable: {e} (hint: UPDATE_SNAPSHOTS=1 cargo test --test cli report_text::)",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from its snapshot at line {}:\n--- expected\n{}\n--- actual\n{}\n(hint: if intended, UPDATE_SNAPSHOTS=1 cargo test --test cli report_text::)",
            first + 1,
            expected.lines().nth(first).unwrap_or("<end>"),
            actual.lines().nth(first).unwrap_or("<end>")
        );
    }
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
    check("terminal_passing.txt", &terminal_text(&r));
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
    check("terminal_stale_upgrade.txt", &text);
}

#[test]
fn markdown_comment_of_a_passing_run_matches_its_snapshot() {
    check(
        "markdown_passing.md",
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
    check("markdown_stale_upgrade.md", &md);
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
