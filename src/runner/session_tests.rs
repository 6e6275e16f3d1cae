//! The session without Docker (fakes in `session_fakes.rs`): ops run once and in order, filters never
//! drop an op, an op failure fails its tier and blocks the later ones, a panicking op is a failure, `-x`
//! stops the rest, and teardown happens whatever happened. The Docker end-to-end tests (tests/e2e)
//! prove the same on the engine.

use crate::exit::ExitClass;
use crate::report::event::{OpOutcome, SkipReason};
use crate::report::{EventKind, Outcome};
use crate::spec::Tier;

use super::session_fakes::{App, Harness};

#[test]
fn every_op_runs_once_in_tier_order_and_teardown_follows() {
    let h = Harness::new(&[], None, App::default());
    assert_eq!(h.run(), ExitClass::Passed);
    assert_eq!(
        h.calls(),
        [
            "install",
            "upgrade",
            "backup",
            "restore",
            "teardown",
            "remove_stack"
        ]
    );
    let ops: Vec<String> = h
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::OpStarted { tier, op } => Some(format!("{tier}:{op}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        ops,
        [
            "install:deploy",
            "upgrade:upgrade",
            "backup:backup",
            "restore:restore"
        ]
    );
    assert!(
        h.verdicts().values().all(|w| *w == "passed"),
        "{:?}",
        h.verdicts()
    );
    let r = h.sh.bus.result();
    assert_eq!(r.deploy_count, 1);
    assert!(r.teardown.clean);
    let proof = r.upgrade_proof.expect("the upgrade is proved");
    assert_eq!(proof.verdict, "chaos-version matches head_ref");
}

#[test]
fn a_filter_selects_assertions_and_never_drops_an_op() {
    let h = Harness::new(&["restore::"], None, App::default());
    assert_eq!(h.run(), ExitClass::Passed);
    assert_eq!(
        h.calls(),
        [
            "install",
            "upgrade",
            "backup",
            "restore",
            "teardown",
            "remove_stack"
        ]
    );
    let ids: Vec<String> = h.verdicts().into_keys().collect();
    assert_eq!(ids, ["restore::generic-tests/restore.yaml::converged"]);
}

#[test]
fn a_failed_op_fails_its_tier_blocks_the_later_ones_and_teardown_still_runs() {
    let app = App {
        fail: Some("upgrade"),
        ..App::default()
    };
    let h = Harness::new(&[], None, app);
    assert_eq!(h.run(), ExitClass::Failed);
    assert_eq!(
        h.calls(),
        ["install", "upgrade", "teardown", "remove_stack"]
    );
    let v = h.verdicts();
    assert_eq!(
        v["install::generic-tests/install.yaml::converged"],
        "passed"
    );
    assert_eq!(
        v["upgrade::generic-tests/upgrade.yaml::deployed_head"],
        "failed"
    );
    assert_eq!(
        v["backup::generic-tests/backup.yaml::backup_exists"],
        "not_run"
    );
    assert_eq!(
        v["restore::generic-tests/restore.yaml::converged"],
        "not_run"
    );
    let skipped: Vec<(Tier, SkipReason)> = h
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::TierSkipped(s) => Some((s.tier, s.why)),
            _ => None,
        })
        .collect();
    let blocked = SkipReason::NotRun {
        reason: "upgrade op failed".into(),
    };
    assert_eq!(
        skipped,
        [(Tier::Backup, blocked.clone()), (Tier::Restore, blocked)]
    );
    let failure = h.events().into_iter().find_map(|e| match e.kind {
        EventKind::OpFinished(o) => match o.outcome {
            OpOutcome::Failed { error } => Some(error),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(failure.as_deref(), Some("upgrade failed on purpose"));
    assert!(h.sh.bus.result().teardown.clean);
}

#[test]
fn a_panicking_op_is_a_failed_op_and_the_app_is_still_removed() {
    let app = App {
        panic: Some("backup"),
        ..App::default()
    };
    let h = Harness::new(&[], None, app);
    assert_eq!(h.run(), ExitClass::Failed);
    assert_eq!(
        h.calls(),
        ["install", "upgrade", "backup", "teardown", "remove_stack"]
    );
    let v = h.verdicts();
    assert_eq!(
        v["backup::generic-tests/backup.yaml::backup_exists"],
        "failed"
    );
    let r = h.sh.bus.result();
    let op = r.tier("backup").unwrap().op.clone().unwrap();
    assert_eq!(op.error.as_deref(), Some("the op panicked"));
}

#[test]
fn exitfirst_stops_after_the_first_failure_and_reports_the_rest_as_not_run() {
    let app = App {
        fail: Some("install"),
        ..App::default()
    };
    let h = Harness::new(&[], Some(1), app);
    assert_eq!(h.run(), ExitClass::Failed);
    let v = h.verdicts();
    assert_eq!(
        v["install::generic-tests/install.yaml::converged"],
        "failed"
    );
    assert_eq!(v["install::generic-tests/install.yaml::healthy"], "not_run");
    assert_eq!(
        v["upgrade::generic-tests/upgrade.yaml::deployed_head"],
        "not_run"
    );
    let r = h.sh.bus.result();
    let healthy = r.tests().find(|t| t.name == "healthy").unwrap();
    assert_eq!(
        healthy.outcome,
        Outcome::NotRun {
            reason: "not run: stopped after the first failure (-x)".into()
        }
    );
    // The failed install never counted as a deploy: the run fails on deploy-count too.
    assert_eq!(r.deploy_count, 0);
}

#[test]
fn maxfail_stops_after_its_nth_failure_not_before() {
    let app = App {
        fail: Some("install"),
        ..App::default()
    };
    let h = Harness::new(&[], Some(2), app);
    assert_eq!(h.run(), ExitClass::Failed);
    let v = h.verdicts();
    assert_eq!(
        v["install::generic-tests/install.yaml::converged"],
        "failed"
    );
    assert_eq!(
        v["install::generic-tests/install.yaml::healthy"], "failed",
        "the 2nd failure still runs"
    );
    assert_eq!(
        v["upgrade::generic-tests/upgrade.yaml::deployed_head"],
        "not_run"
    );
    let app = App {
        fail: Some("backup"),
        ..App::default()
    };
    let h = Harness::new(&[], Some(1), app);
    h.run();
    let r = h.sh.bus.result();
    let restore = r.tests().find(|t| t.id.starts_with("restore::")).unwrap();
    assert_eq!(
        restore.outcome,
        Outcome::NotRun {
            reason: "not run: backup op failed".into()
        },
        "an op failure still blocks the later tiers first"
    );
    assert_eq!(
        h.app
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| *c == "install")
            .count(),
        1,
        "ops are never repeated"
    );
}

#[test]
fn a_deploy_count_other_than_one_fails_a_run_whose_assertions_all_passed() {
    let app = App {
        deploys_per_install: 2,
        ..App::default()
    };
    let h = Harness::new(&[], None, app);
    assert_eq!(h.run(), ExitClass::Failed);
    assert!(h.verdicts().values().all(|w| *w == "passed"));
    assert_eq!(h.sh.bus.result().deploy_count, 2);
}

#[test]
fn a_screenshot_that_cannot_be_taken_says_why_after_install_and_upgrade_and_fails_nothing() {
    for (chromium, why) in [
        (None, "chromium was not found on PATH"),
        (
            Some("/bin/true"),
            "through a forwarder: the scripted app has no network",
        ),
    ] {
        let mut h = Harness::new(&[], None, App::default());
        let sh = std::sync::Arc::get_mut(&mut h.sh).expect("the harness alone holds the session");
        sh.cfg.screenshots = super::ScreenshotMode::Auto;
        sh.cfg.chromium = chromium.map(std::path::PathBuf::from);
        assert_eq!(h.run(), ExitClass::Passed, "{why}");
        let shots: Vec<_> = h
            .events()
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::Screenshot(s) => Some(s),
                _ => None,
            })
            .collect();
        let tiers: Vec<&str> = shots.iter().map(|s| s.tier.as_str()).collect();
        assert_eq!(tiers, ["install", "upgrade"], "{why}");
        for s in &shots {
            assert_eq!(s.path, None);
            let e = s.error.as_deref().unwrap_or_default();
            assert!(e.contains(why), "{e}");
        }
        let r = h.sh.bus.result();
        assert_eq!(r.screenshots, shots);
        assert!(r.tiers.iter().all(|t| t.status_word() == "passed"));
    }
}

#[test]
fn screenshots_off_emits_no_screenshot_event() {
    let h = Harness::new(&[], None, App::default());
    assert_eq!(h.sh.cfg.screenshots, super::ScreenshotMode::Off);
    assert_eq!(h.run(), ExitClass::Passed);
    assert!(!h
        .events()
        .iter()
        .any(|e| matches!(e.kind, EventKind::Screenshot(_))));
}
