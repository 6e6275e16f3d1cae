//! Unit tests of the ladder: every rung combination that matters, and an exhaustive check that the level
//! never exceeds what the verdicts support.

use super::*;
use crate::report::model::*;
use crate::report::sample::{self, passing_tier, set_tier, test, tier};

fn na(reason: &str, declared: bool) -> TierStatus {
    TierStatus::NotApplicable {
        reason: reason.to_string(),
        declared,
    }
}

fn failing(name: &str, msg: &str) -> TierResult {
    tier(
        name,
        TierStatus::Failed,
        vec![test(
            name,
            &format!("generic-tests/{name}.yaml"),
            "healthy",
            TestSource::Generic,
            Outcome::Failed {
                message: msg.to_string(),
            },
        )],
    )
}

#[test]
fn everything_passing_climbs_to_l5() {
    let l = compute(&sample::run());
    assert_eq!(l.level, 5, "{l:?}");
    assert_eq!(l.cap_reason, None);
    assert!(l.flags.is_empty(), "{:?}", l.flags);
    assert_eq!(l.title(), "L5 lint");
}

#[test]
fn lint_missing_stops_at_l4_as_unverified() {
    let mut r = sample::run();
    r.lint = None;
    let l = compute(&r);
    assert_eq!(l.level, 4);
    assert_eq!(
        l.rungs[4].status,
        RungStatus::Unverified {
            reason: "lint did not run".into()
        }
    );
    assert_eq!(
        l.cap_reason.as_deref(),
        Some("L5 lint unverified: lint did not run")
    );
}

#[test]
fn lint_that_could_not_run_is_unverified_not_failed() {
    let mut r = sample::run();
    r.lint = Some(LintResult::could_not_run(
        "abra recipe lint",
        "cannot start /nope/abra: No such file or directory",
    ));
    let l = compute(&r);
    assert_eq!(l.level, 4);
    assert_eq!(
        l.rungs[4].status,
        RungStatus::Unverified {
            reason:
                "abra recipe lint could not run: cannot start /nope/abra: No such file or directory"
                    .into()
        }
    );
    // Even a result claiming `passed` is unverified when it says it did not run.
    r.lint.as_mut().unwrap().passed = true;
    assert_eq!(compute(&r).rungs[4].status.word(), "unverified");
}

#[test]
fn lint_that_ran_and_failed_is_a_fail_with_its_first_message() {
    let mut r = sample::run();
    r.lint = Some(LintResult::ran(
        "cc-ci built-in lint",
        false,
        vec!["compose.yml: image of service app has no tag".into()],
    ));
    let l = compute(&r);
    assert_eq!(l.level, 4);
    assert_eq!(
        l.cap_reason.as_deref(),
        Some("L5 lint fail: cc-ci built-in lint failed: compose.yml: image of service app has no tag")
    );
}

#[test]
fn failed_upgrade_caps_at_l1_even_when_everything_above_passed() {
    let mut r = sample::run();
    set_tier(
        &mut r,
        failing("upgrade", "chaos-version 1111aaaa != head_ref 0123abcd"),
    );
    let l = compute(&r);
    assert_eq!(l.level, 1);
    assert!(matches!(l.rungs[1].status, RungStatus::Fail { .. }));
    let cap = l.cap_reason.unwrap();
    assert!(cap.starts_with("L2 upgrade fail"), "{cap}");
    assert!(cap.contains("chaos-version 1111aaaa"), "{cap}");
    // The rungs above keep their own verdicts: presentation shows them, the level ignores them.
    assert_eq!(l.rungs[2].status, RungStatus::Pass);
}

#[test]
fn failed_install_is_level_zero() {
    let mut r = sample::run();
    set_tier(&mut r, failing("install", "never healthy: 0/1 replicas"));
    let l = compute(&r);
    assert_eq!(l.level, 0);
    assert_eq!(l.title(), "L0");
    assert!(l.cap_reason.unwrap().contains("never healthy"));
}

#[test]
fn declared_skip_of_upgrade_climbs_past_it() {
    let mut r = sample::run();
    set_tier(
        &mut r,
        tier("upgrade", na("single release so far", true), vec![]),
    );
    let l = compute(&r);
    assert_eq!(l.level, 5);
    assert!(matches!(l.rungs[1].status, RungStatus::Skip { .. }));
    assert!(l.flags.is_empty(), "{:?}", l.flags);
}

#[test]
fn structural_skip_of_upgrade_climbs_past_it_without_a_flag() {
    let mut r = sample::run();
    set_tier(
        &mut r,
        tier("upgrade", na("no previous release", false), vec![]),
    );
    let l = compute(&r);
    assert_eq!(l.level, 5);
    assert!(l.flags.is_empty(), "{:?}", l.flags);
}

#[test]
fn undeclared_backup_not_applicable_is_unsupported_and_stops_the_climb_below_l3() {
    let mut r = sample::run();
    set_tier(
        &mut r,
        tier("backup", na("no backupbot.backup label", false), vec![]),
    );
    set_tier(
        &mut r,
        tier("restore", na("nothing to restore", false), vec![]),
    );
    let l = compute(&r);
    assert_eq!(l.level, 2);
    assert_eq!(
        l.rungs[2].status,
        RungStatus::Unsupported {
            reason: "backup unsupported: no backupbot.backup label".into()
        }
    );
    assert_eq!(
        l.cap_reason.as_deref(),
        Some("L3 backup/restore unsupported: backup unsupported: no backupbot.backup label")
    );
}

#[test]
fn a_declared_backup_skip_beside_an_unsupported_restore_is_still_unsupported() {
    let mut r = sample::run();
    set_tier(&mut r, tier("backup", na("no state", true), vec![]));
    set_tier(
        &mut r,
        tier("restore", na("no backup bot on the server", false), vec![]),
    );
    let l = compute(&r);
    assert_eq!(l.level, 2);
    assert_eq!(l.rungs[2].status.word(), "unsupported");
}

#[test]
fn declared_skip_on_a_tier_that_ran_is_flagged_stale() {
    let mut r = sample::run();
    let mut b = passing_tier("backup");
    b.status = na("no volumes", true);
    set_tier(&mut r, b);
    let l = compute(&r);
    assert_eq!(l.level, 5, "it ran and passed, so it counts");
    assert_eq!(l.flags.len(), 1, "{:?}", l.flags);
    assert!(
        l.flags[0].starts_with("stale skip: backup"),
        "{:?}",
        l.flags
    );
}

#[test]
fn declared_skip_that_ran_and_failed_is_a_fail_and_stale() {
    let mut r = sample::run();
    let mut b = failing("restore", "seed row missing");
    b.status = na("no volumes", true);
    set_tier(&mut r, b);
    let l = compute(&r);
    assert_eq!(l.level, 2);
    assert!(l.flags.iter().any(|f| f.starts_with("stale skip: restore")));
}

#[test]
fn unverified_backup_caps_at_l2() {
    let mut r = sample::run();
    set_tier(
        &mut r,
        tier(
            "backup",
            TierStatus::NotRun {
                reason: "engine timeout".into(),
            },
            vec![],
        ),
    );
    let l = compute(&r);
    assert_eq!(l.level, 2);
    assert_eq!(
        l.cap_reason.as_deref(),
        Some("L3 backup/restore unverified: backup not run: engine timeout")
    );
}

#[test]
fn tier_marked_passed_with_a_failed_assertion_is_a_fail() {
    let mut r = sample::run();
    let mut u = passing_tier("upgrade");
    u.tests.push(test(
        "upgrade",
        "overlays/hello/upgrade.yaml",
        "data_intact",
        TestSource::Overlay,
        Outcome::Failed {
            message: "row count 0".into(),
        },
    ));
    set_tier(&mut r, u);
    assert_eq!(compute(&r).level, 1);
}

#[test]
fn passed_tier_without_any_assertion_is_unverified() {
    let mut r = sample::run();
    set_tier(&mut r, tier("upgrade", TierStatus::Passed, vec![]));
    let l = compute(&r);
    assert_eq!(l.level, 1);
    assert!(l.cap_reason.unwrap().contains("no assertion ran"));
}

#[test]
fn stage_not_selected_is_unverified() {
    let mut r = sample::run();
    r.stages = vec!["install".into(), "custom".into()];
    r.tiers
        .retain(|t| t.tier == "install" || t.tier == "custom");
    let l = compute(&r);
    assert_eq!(l.level, 1);
    assert_eq!(
        l.cap_reason.as_deref(),
        Some("L2 upgrade unverified: upgrade not selected (STAGES=install,custom)")
    );
}

#[test]
fn no_recipe_specific_tests_is_a_flagged_skip_and_failing_overlay_fails_l4() {
    let mut r = sample::run();
    set_tier(
        &mut r,
        tier("custom", na("no recipe-specific tests", false), vec![]),
    );
    let l = compute(&r);
    assert_eq!(l.level, 5);
    assert!(l.flags[0].starts_with("possible coverage gap: functional"));

    let mut r = sample::run();
    r.tiers[0].tests.push(test(
        "install",
        "overlays/hello/install.yaml",
        "login_page",
        TestSource::Pytest,
        Outcome::Failed {
            message: "no form".into(),
        },
    ));
    r.tiers[0].status = TierStatus::Failed;
    assert_eq!(
        compute(&r).level,
        0,
        "a failed install assertion fails install"
    );
}

#[test]
fn deploy_count_other_than_one_voids_the_proofs_above_install() {
    let mut r = sample::run();
    r.deploy_count = 2;
    let l = compute(&r);
    assert_eq!(l.level, 1);
    assert!(l
        .cap_reason
        .unwrap()
        .contains("deploy-count = 2 (expect 1)"));
    r.deploy_count = 0;
    assert_eq!(compute(&r).level, 0);
}

// ---- the property: the level never exceeds what the verdicts support ----

/// Tier shapes the generator combines.
const SHAPES: [&str; 7] = [
    "absent",
    "passed",
    "passed-bad-test",
    "failed",
    "not-run",
    "na-declared",
    "na-structural",
];

fn shaped(name: &str, shape: &str) -> Option<TierResult> {
    Some(match shape {
        "absent" => return None,
        "passed" => passing_tier(name),
        "passed-bad-test" => {
            let mut t = passing_tier(name);
            t.tests.push(test(
                name,
                "overlays/x.yaml",
                "bad",
                TestSource::Overlay,
                Outcome::Failed {
                    message: "boom".into(),
                },
            ));
            t
        }
        "failed" => failing(name, "boom"),
        "not-run" => tier(
            name,
            TierStatus::NotRun {
                reason: "aborted".into(),
            },
            vec![],
        ),
        "na-declared" => tier(name, na("declared", true), vec![]),
        "na-structural" => tier(name, na("impossible", false), vec![]),
        _ => unreachable!("unknown shape {shape}"),
    })
}

/// An oracle written from the definition, independent of `compute`'s code: which levels the raw
/// verdicts support.
fn supported(r: &RunResult, level: u8) -> Result<(), String> {
    let any_failed = |t: &TierResult| {
        t.status == TierStatus::Failed
            || t.op.as_ref().is_some_and(|o| !o.ok)
            || t.tests
                .iter()
                .any(|x| matches!(x.outcome, Outcome::Failed { .. }))
    };
    let proven = |name: &str| -> bool {
        r.tier(name).is_some_and(|t| {
            !any_failed(t)
                && t.tests.iter().any(|x| x.outcome == Outcome::Passed)
                && !t
                    .tests
                    .iter()
                    .any(|x| matches!(x.outcome, Outcome::NotRun { .. }))
        })
    };
    let skipped = |name: &str| {
        r.tier(name)
            .is_some_and(|t| !any_failed(t) && matches!(t.status, TierStatus::NotApplicable { .. }))
    };
    if level >= 1 && (!proven("install") || r.deploy_count == 0) {
        return Err("install not proven".into());
    }
    if level >= 2 && (r.deploy_count != 1 || !(proven("upgrade") || skipped("upgrade"))) {
        return Err("upgrade neither proven nor skipped".into());
    }
    if level >= 3 {
        for n in ["backup", "restore"] {
            if !(proven(n) || skipped(n)) {
                return Err(format!("{n} neither proven nor skipped"));
            }
        }
    }
    let specific_failed = r
        .tests()
        .any(|t| t.source.is_recipe_specific() && matches!(t.outcome, Outcome::Failed { .. }));
    if level >= 4 && (specific_failed || r.tier("custom").is_some_and(any_failed)) {
        return Err("a recipe-specific assertion failed".into());
    }
    if level == 4
        && !r
            .tests()
            .any(|t| t.source.is_recipe_specific() && t.outcome == Outcome::Passed)
    {
        return Err("L4 without a passing recipe-specific assertion".into());
    }
    if level >= 5 && !r.lint.as_ref().is_some_and(|l| l.passed) {
        return Err("lint did not pass".into());
    }
    Ok(())
}

#[test]
fn level_never_exceeds_what_the_verdicts_support() {
    let mut checked = 0usize;
    for &i in &SHAPES[1..] {
        for &u in &SHAPES {
            for &b in &SHAPES {
                for &s in &SHAPES {
                    for &c in &SHAPES {
                        for lint in [None, Some(true), Some(false)] {
                            for deploy_count in [0, 1, 2] {
                                let mut r = sample::run();
                                r.tiers = ["install", "upgrade", "backup", "restore", "custom"]
                                    .iter()
                                    .zip([i, u, b, s, c])
                                    .filter_map(|(n, shape)| shaped(n, shape))
                                    .collect();
                                if c == "passed" {
                                    r.tiers.last_mut().unwrap().tests[0].source =
                                        TestSource::Pytest;
                                }
                                r.lint = lint.map(|passed| LintResult::ran("lint", passed, vec![]));
                                r.deploy_count = deploy_count;
                                let l = compute(&r);
                                if let Err(e) = supported(&r, l.level) {
                                    panic!("level {} for [{i} {u} {b} {s} {c}] lint={lint:?} deploy-count={deploy_count}: {e}\n{l:?}", l.level);
                                }
                                assert_eq!(
                                    l.cap_reason.is_none(),
                                    deploy_count == 1
                                        && l.rungs.iter().all(|g| matches!(
                                            g.status,
                                            RungStatus::Pass | RungStatus::Skip { .. }
                                        )),
                                    "a cap reason exactly when a rung stopped the climb"
                                );
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 6 * 7 * 7 * 7 * 7 * 3 * 3);
}
