//! The tier loop, run on the session's worker thread: for each tier, seeding steps, the op (once),
//! then the assertions as trials. An op failure fails its tier's assertions with the op's error and
//! marks every later tier as not run, with the reason. Nothing is silently skipped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::deploy::Deployer;
use crate::recipe::Checkout;
use crate::report::{
    OpResult, Outcome, RunResult, TestResult, TierResult, TierStatus, UpgradeProof,
};
use crate::spec::{RecipeMeta, Tier};

use super::config::RunConfig;
use super::context::Live;
use super::ledger::Recorder;
use super::ops::{self, OpEnv};
use super::plan::{OpPlan, Plan, TierPlan};
use super::trials::{self, PytestOutcomes};
use super::{check, progress, pytest};

/// State shared between the worker and the main thread (which tears down on a signal).
pub struct Shared {
    pub result: Mutex<RunResult>,
    pub deployer: Mutex<Box<dyn Deployer>>,
    pub abort: AtomicBool,
}

/// Runs every tier of the plan. Returns when done or when `shared.abort` is set.
pub fn run_tiers(
    shared: &Shared,
    plan: &Plan,
    live: &Arc<Live>,
    cfg: &RunConfig,
    meta: &RecipeMeta,
    checkout: &Checkout,
    rec: &Arc<Recorder>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut blocked: Option<String> = None;
    let mut no_backup: Option<String> = None;
    for tp in &plan.tiers {
        if shared.abort.load(Ordering::SeqCst) {
            return;
        }
        let reason = blocked.clone().or_else(|| {
            (cfg.selection.exitfirst && stop.load(Ordering::SeqCst))
                .then(|| "stopped after the first failure (-x)".to_string())
        });
        if let Some(reason) = reason {
            push(shared, not_run(tp, &reason, rec));
            continue;
        }
        if let Some((reason, declared)) = &tp.not_applicable {
            push(shared, not_applicable(tp, reason, *declared, rec));
            continue;
        }
        if matches!(tp.tier, Tier::Backup | Tier::Restore) {
            if let Some(reason) = &no_backup {
                push(shared, not_applicable(tp, reason, false, rec));
                continue;
            }
        }
        println!(
            "\n── {} (op={}, generic={}, overlay={} file(s), {} test(s){}) ──",
            tp.tier,
            tp.op.name(),
            tp.generic,
            tp.overlay_files,
            tp.tests.len(),
            if tp.deselected > 0 {
                format!(", {} deselected", tp.deselected)
            } else {
                String::new()
            }
        );
        let seed_failures: Vec<Option<String>> = tp
            .seeds
            .iter()
            .map(|s| {
                let r = match &s.script {
                    Some(script) => ops::install_steps(live, script, &checkout.path).err(),
                    None => ops::seed(live, &s.steps).err(),
                };
                rec.event(
                    "op",
                    &format!("{}::seed::{}", tp.tier, s.file),
                    if r.is_none() { "ok" } else { "failed" },
                    serde_json::json!({ "error": r }),
                );
                if let Some(e) = &r {
                    println!(
                        "seeding {} failed: {e} (its assertions fail; generic ones still run)",
                        s.file
                    );
                }
                r
            })
            .collect();
        let op_result = perform_op(shared, tp, live, cfg, meta, checkout, rec);
        if let Some(op) = &op_result {
            if !op.ok {
                blocked = Some(format!("{} op failed", tp.tier));
            }
        }
        let op_failure = op_result.as_ref().filter(|o| !o.ok).map(|o| {
            format!(
                "{} op failed: {}",
                o.name,
                o.error.clone().unwrap_or_default()
            )
        });
        if tp.tier == Tier::Install && op_failure.is_none() {
            no_backup = backup_capability(live);
            // The version that was really deployed (the previous release, or the head).
            let deployed = live
                .install
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let mut r = shared.result.lock().unwrap_or_else(|e| e.into_inner());
            r.version_before = deployed.as_ref().and_then(|s| s.version.clone());
            r.version_after = r.version_before.clone();
            r.chaos_version = deployed.and_then(|s| s.chaos_version);
        }
        if tp.tier == Tier::Upgrade && op_failure.is_none() {
            record_upgrade_proof(shared, live);
        }
        let pytest_outcomes: PytestOutcomes = if op_failure.is_none() {
            pytest::run_tier(tp, live, cfg)
        } else {
            PytestOutcomes::new()
        };
        let tests = if tp.selected {
            trials::run_tier(
                tp,
                live,
                &cfg.selection,
                op_failure.clone(),
                &seed_failures,
                &pytest_outcomes,
                &stop,
                rec,
            )
        } else {
            Vec::new()
        };
        let failed = op_failure.is_some()
            || tests
                .iter()
                .any(|t| matches!(t.outcome, Outcome::Failed { .. }));
        push(
            shared,
            TierResult {
                tier: tp.tier.to_string(),
                status: if failed {
                    TierStatus::Failed
                } else {
                    TierStatus::Passed
                },
                op: op_result,
                generic: tp.generic.clone(),
                overlay_files: tp.overlay_files,
                tests,
            },
        );
        if cfg.pause_after == Some(tp.tier) {
            progress::pause(tp.tier);
        }
    }
}

fn perform_op(
    shared: &Shared,
    tp: &TierPlan,
    live: &Arc<Live>,
    cfg: &RunConfig,
    meta: &RecipeMeta,
    checkout: &Checkout,
    rec: &Recorder,
) -> Option<OpResult> {
    if matches!(tp.op, OpPlan::None) {
        return None;
    }
    if let OpPlan::Skipped { reason } = &tp.op {
        rec.event(
            "op",
            &format!("{}::op", tp.tier),
            "skipped",
            serde_json::json!({ "reason": reason }),
        );
        return Some(OpResult {
            name: format!("skipped ({reason})"),
            ok: true,
            duration_ms: 0,
            error: None,
        });
    }
    let start = Instant::now();
    let mut reporter = progress::Reporter::new(&format!("{} op", tp.op.name()));
    let result = {
        let mut deployer = shared.deployer.lock().unwrap_or_else(|e| e.into_inner());
        let mut env = OpEnv {
            checkout,
            op_env: &tp.op_env,
            env_install: &meta.env_install,
            env_upgrade: &meta.env_upgrade,
            deploy_timeout: meta.deploy_timeout,
            progress: &mut |line: &str| reporter.update(line),
        };
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ops::perform(&tp.op, deployer.as_mut(), live, &mut env)
        }))
        .unwrap_or_else(|_| Err("the op panicked".to_string()));
        // The count comes from the deployer itself, after every op, so a signal still reports it.
        shared
            .result
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .deploy_count = deployer.fresh_deploys();
        // What the deployer did on its own (abra: server registration, a checkout put back).
        for n in deployer.take_notes() {
            rec.event(n.kind, &n.subject, &n.outcome, n.data);
        }
        r
    };
    reporter.finish();
    let ms = start.elapsed().as_millis() as u64;
    let error = result.err();
    println!(
        "{} op {} in {:.1}s{}",
        tp.op.name(),
        if error.is_none() { "ok" } else { "FAILED" },
        ms as f64 / 1000.0,
        error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
    );
    rec.event(
        "op",
        &format!("{}::{}", tp.tier, tp.op.name()),
        if error.is_none() { "ok" } else { "failed" },
        serde_json::json!({ "duration_ms": ms, "error": error, "deployer": cfg.deployer.name() }),
    );
    Some(OpResult {
        name: tp.op.name().to_string(),
        ok: error.is_none(),
        duration_ms: ms,
        error,
    })
}

/// `Some(reason)` when no service of the app carries `backupbot.backup=true`.
fn backup_capability(live: &Live) -> Option<String> {
    let services = live.services().ok()?;
    let capable = services.iter().any(|s| {
        s.labels
            .get("backupbot.backup")
            .is_some_and(|v| v == "true")
    });
    (!capable).then(|| {
        "no service carries backupbot.backup=true: the recipe is not backup-capable".to_string()
    })
}

fn record_upgrade_proof(shared: &Shared, live: &Live) {
    let before = live
        .install
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let Ok(now) = live.snapshot() else { return };
    let verdict = match &live.head_ref {
        Some(h) => {
            match check::verify_chaos_version(h, now.chaos_version.as_deref(), &live.app.stack) {
                Ok(()) => "chaos-version matches head_ref".to_string(),
                Err(e) => e,
            }
        }
        None => "head_ref unknown: fallback to version/image/chaos marker moved".to_string(),
    };
    let mut r = shared.result.lock().unwrap_or_else(|e| e.into_inner());
    r.chaos_version = now.chaos_version.clone();
    r.version_after = now.version.clone();
    r.upgrade_proof = Some(UpgradeProof {
        head_ref: live.head_ref.clone(),
        chaos_version: now.chaos_version,
        version_before: before.and_then(|b| b.version),
        version_after: now.version,
        verdict,
    });
}

fn push(shared: &Shared, t: TierResult) {
    shared
        .result
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .tiers
        .push(t);
}

fn not_run(tp: &TierPlan, reason: &str, rec: &Recorder) -> TierResult {
    println!("\n── {} not run: {reason} ──", tp.tier);
    TierResult {
        tier: tp.tier.to_string(),
        status: TierStatus::NotRun {
            reason: reason.to_string(),
        },
        op: None,
        generic: tp.generic.clone(),
        overlay_files: tp.overlay_files,
        tests: unrun(tp, &format!("not run: {reason}"), rec),
    }
}

fn not_applicable(tp: &TierPlan, reason: &str, declared: bool, rec: &Recorder) -> TierResult {
    println!("\n── {} not applicable: {reason} ──", tp.tier);
    rec.event(
        "verdict",
        &format!("{}::tier", tp.tier),
        "not_applicable",
        serde_json::json!({ "reason": reason, "declared": declared }),
    );
    TierResult {
        tier: tp.tier.to_string(),
        status: TierStatus::NotApplicable {
            reason: reason.to_string(),
            declared,
        },
        op: None,
        generic: tp.generic.clone(),
        overlay_files: tp.overlay_files,
        tests: Vec::new(),
    }
}

/// Every test of a tier that will not run, each with the reason and its own ledger verdict.
pub fn unrun(tp: &TierPlan, reason: &str, rec: &Recorder) -> Vec<TestResult> {
    tp.tests
        .iter()
        .map(|t| {
            rec.event(
                "verdict",
                &t.id,
                "not_run",
                serde_json::json!({ "tier": tp.tier.to_string(), "message": reason }),
            );
            TestResult {
                id: t.id.clone(),
                name: t.name.clone(),
                file: t.file.clone(),
                source: trials::source_of(t.source),
                outcome: Outcome::NotRun {
                    reason: reason.to_string(),
                },
                duration_ms: 0,
            }
        })
        .collect()
}
