//! The tier loop, run on the session's worker thread: for each tier, seeding steps, the op (once),
//! then the assertions as trials. An op failure fails its tier's assertions with the op's error and
//! marks every later tier as not run, with the reason. Nothing is silently skipped. Everything that
//! happens is an event on the bus.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::deploy::Deployer;
use crate::report::event::{
    DeployerNote, OpFinish, OpOutcome, Pause, Progress, SeedFinish, SkipReason, TierSkip, TierStart,
};
use crate::report::{EventBus, EventKind, Outcome, UpgradeProof};
use crate::spec::Tier;

use super::config::RunConfig;
use super::context::Live;
use super::ops::{self, OpEnv, OpError, DEFAULT_BACKUP_ATTEMPTS};
use super::plan::{OpPlan, TierPlan};
use super::prepare::Prepared;
use super::trials::{self, StopRule, TierInputs};
use super::{check, pytest};

/// What the worker and the main thread (which tears down on a signal) share.
pub struct Shared {
    pub cfg: RunConfig,
    pub prepared: Prepared,
    pub live: Arc<Live>,
    pub bus: Arc<EventBus>,
    pub deployer: Mutex<Box<dyn Deployer>>,
    /// Set on a signal: the worker stops before its next tier.
    pub abort: AtomicBool,
    /// Why the run is an infrastructure failure (the engine stopped answering and did not come back),
    /// once it is one.
    pub infrastructure: Mutex<Option<String>>,
}

impl Shared {
    /// After a failure: when the engine is gone (bounded wait), records it as the run's
    /// infrastructure failure and says so at once.
    pub fn check_engine(&self) {
        let Some(why) = self.live.engine.engine_gone() else {
            return;
        };
        let mut infra = self
            .infrastructure
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if infra.is_none() {
            self.bus.emit(EventKind::Warning {
                message: format!("infrastructure failure: {why}"),
            });
            *infra = Some(why);
        }
    }
}

/// What earlier tiers decided for later ones.
#[derive(Default)]
struct Carry {
    /// An op failed: every later tier is not run, for this reason.
    blocked: Option<String>,
    /// The app is not backup-capable: backup and restore do not apply, for this reason.
    no_backup: Option<String>,
}

/// Runs every tier of the plan. Returns when done or when `sh.abort` is set.
pub fn run_tiers(sh: &Shared) {
    let stop = StopRule::new(sh.cfg.selection.maxfail);
    let mut carry = Carry::default();
    for tp in &sh.prepared.plan.tiers {
        if sh.abort.load(Ordering::SeqCst) {
            return;
        }
        if let Some(why) = skip_reason(tp, &carry, &stop) {
            skip(sh, tp, why);
            continue;
        }
        run_tier(sh, tp, &stop, &mut carry);
        if sh.cfg.pause_after == Some(tp.tier) {
            pause(sh, tp.tier);
        }
    }
}

/// Why `tp` will not run, if it will not.
fn skip_reason(tp: &TierPlan, carry: &Carry, stop: &StopRule) -> Option<SkipReason> {
    let stopped = stop.stopped().then(|| stop.reason());
    if let Some(reason) = carry.blocked.clone().or(stopped) {
        return Some(SkipReason::NotRun { reason });
    }
    if let Some(na) = &tp.not_applicable {
        return Some(SkipReason::NotApplicable {
            reason: na.reason.clone(),
            declared: na.declared,
        });
    }
    match (&carry.no_backup, tp.tier) {
        (Some(reason), Tier::Backup | Tier::Restore) => Some(SkipReason::NotApplicable {
            reason: reason.clone(),
            declared: false,
        }),
        _ => None,
    }
}

/// Emits a tier that will not run; a tier not run carries each of its tests as not run.
fn skip(sh: &Shared, tp: &TierPlan, why: SkipReason) {
    let tests = match &why {
        SkipReason::NotRun { reason } => tp
            .tests
            .iter()
            .map(|t| {
                let reason = format!("not run: {reason}");
                trials::result_of(t, Outcome::NotRun { reason }, 0)
            })
            .collect(),
        SkipReason::NotApplicable { .. } => Vec::new(),
    };
    sh.bus.emit(EventKind::TierSkipped(TierSkip {
        tier: tp.tier,
        why,
        generic: tp.generic.to_string(),
        overlay_files: tp.overlay_files,
        tests,
    }));
}

/// One tier: seeds, op, what the op proved, trials.
fn run_tier(sh: &Shared, tp: &TierPlan, stop: &StopRule, carry: &mut Carry) {
    let live = &sh.live;
    sh.bus.emit(EventKind::TierStarted(TierStart {
        tier: tp.tier,
        op: tp.op.name().to_string(),
        generic: tp.generic.to_string(),
        overlay_files: tp.overlay_files,
        tests: tp.tests.iter().map(|t| t.id.clone()).collect(),
        deselected: tp.deselected,
    }));
    // A repo-local grant's use is spent here, when a repo-local file is about to run for the first time.
    let before = match tp.repo_local_before_op() {
        true => admit(sh, &format!("the {} tier's seeding and op", tp.tier)),
        false => Ok(()),
    };
    let seed_failures = seeds(sh, tp, before.as_ref().err());
    let refused_op = before.as_ref().err().filter(|_| tp.op_repo_local);
    let op_failure = match perform_op(sh, tp, refused_op) {
        Some(Err(OpError::Unsupported { reason, .. })) => {
            // Not a failure: the tier (and restore after a backup) cannot run here. Nothing of it is
            // asserted, so nothing of it can pass.
            if tp.tier == Tier::Backup {
                carry.no_backup = Some(reason);
            }
            sh.bus.emit(EventKind::TierFinished {
                tier: tp.tier,
                failed: false,
            });
            return;
        }
        Some(Err(e)) => {
            carry.blocked = Some(format!("{} op failed", tp.tier));
            Some(format!("{} op failed: {e}", tp.op.name()))
        }
        _ => None,
    };
    if op_failure.is_none() {
        match tp.tier {
            Tier::Install => {
                carry.no_backup = backup_capability(live);
                let deployed = live
                    .install
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                sh.bus.emit(EventKind::InstallObserved {
                    version: deployed.as_ref().and_then(|s| s.version.clone()),
                    chaos_version: deployed.and_then(|s| s.chaos_version),
                });
            }
            Tier::Upgrade => {
                if let Some(p) = upgrade_proof(live) {
                    sh.bus.emit(EventKind::UpgradeProved(p));
                }
            }
            _ => {}
        }
        super::screenshot::after_op(sh, tp.tier);
    }
    let after = match op_failure.is_none() && tp.repo_local_after_op() {
        true => admit(sh, &format!("the {} tier's repo-local assertions", tp.tier)),
        false => Ok(()),
    };
    let refused = before.err().or(after.err());
    let pytest_outcomes = match op_failure {
        None => pytest::run_tier(tp, live, &sh.cfg, refused.is_none()),
        Some(_) => pytest::PytestOutcomes::new(),
    };
    let failed_trials = tp.selected && {
        let inputs = TierInputs {
            op_failure: op_failure.as_deref(),
            seed_failures: &seed_failures,
            pytest: &pytest_outcomes,
            stop,
            repo_local_refused: refused.as_deref(),
            panic_in: sh.cfg.debug_panic_in_check.as_deref(),
        };
        trials::run_tier(tp, live, &sh.cfg.selection, &inputs, &sh.bus)
    };
    sh.bus.emit(EventKind::TierFinished {
        tier: tp.tier,
        failed: op_failure.is_some() || failed_trials,
    });
}

/// Spends the run's repo-local grant use (once; later calls get the same answer).
fn admit(sh: &Shared, first_use: &str) -> Result<(), String> {
    sh.prepared.admission.admit(first_use)
}

/// Runs the tier's seeding steps; each one's failure, by index. A repo-local seed the trust gate
/// `refused` fails with why, without running.
fn seeds(sh: &Shared, tp: &TierPlan, refused: Option<&String>) -> Vec<Option<String>> {
    tp.seeds
        .iter()
        .map(|s| {
            let r = match (&s.script, refused.filter(|_| s.repo_local)) {
                (_, Some(why)) => Err(OpError::TrustGate(why.clone())),
                (script, None) => seed(sh, s.steps.as_slice(), script.as_deref()),
            };
            let error = r.err().map(|e| e.to_string());
            sh.bus.emit(EventKind::SeedFinished(SeedFinish {
                tier: tp.tier,
                file: s.file.clone(),
                error: error.clone(),
            }));
            error
        })
        .collect()
}

/// One seed: the recipe's install_steps.sh on the host, or exec steps in the app.
fn seed(
    sh: &Shared,
    steps: &[crate::spec::Step],
    script: Option<&std::path::Path>,
) -> Result<(), OpError> {
    match script {
        Some(script) => {
            let mut show = |text: String| {
                sh.bus.emit(EventKind::StepOutput {
                    source: "install_steps.sh".into(),
                    text,
                })
            };
            let checkout = &sh.prepared.checkout.path;
            ops::install_steps(&sh.live, script, checkout, &mut show)
        }
        None => ops::seed(&sh.live, steps),
    }
}

/// Runs the tier's op once. `None` when the tier has no op. An op a repo-local file replaced (or gave
/// env to) fails without running when the trust gate `refused` it.
fn perform_op(sh: &Shared, tp: &TierPlan, refused: Option<&String>) -> Option<Result<(), OpError>> {
    let finish = |outcome, duration_ms, deploy_count| {
        sh.bus.emit(EventKind::OpFinished(OpFinish {
            tier: tp.tier,
            op: tp.op.name().to_string(),
            outcome,
            duration_ms,
            deployer: sh.cfg.deployer.name().to_string(),
            deploy_count,
        }))
    };
    match &tp.op {
        OpPlan::None => return None,
        OpPlan::Skipped { reason } => {
            let reason = reason.clone();
            finish(OpOutcome::Skipped { reason }, 0, None);
            return Some(Ok(()));
        }
        _ => {}
    }
    if let Some(why) = refused {
        let e = OpError::TrustGate(why.clone());
        let error = e.to_string();
        finish(OpOutcome::Failed { error }, 0, None);
        return Some(Err(e));
    }
    sh.bus.emit(EventKind::OpStarted {
        tier: tp.tier,
        op: tp.op.name().to_string(),
    });
    let start = Instant::now();
    let meta = &sh.prepared.discovery.meta;
    let label = format!("{} op", tp.op.name());
    let mut progress = |state: &str| {
        sh.bus.emit(EventKind::Progress(Progress {
            label: label.clone(),
            state: state.to_string(),
        }))
    };
    let mut record = |n: crate::deploy::DeployNote| {
        sh.bus.emit(EventKind::DeployerNote(DeployerNote {
            kind: n.kind.to_string(),
            subject: n.subject,
            outcome: n.outcome,
            data: n.data,
            notice: n.notice,
        }))
    };
    let mut env = OpEnv {
        checkout: &sh.prepared.checkout,
        op_env: &tp.op_env,
        env_install: &meta.env_install,
        env_upgrade: &meta.env_upgrade,
        deploy_timeout: meta.deploy_timeout,
        progress: &mut progress,
        backup_attempts: meta.backup_attempts.unwrap_or(DEFAULT_BACKUP_ATTEMPTS),
        backup_verify: meta.backup_verify.as_ref(),
        record: &mut record,
    };
    let (result, deploy_count) = {
        let mut deployer = sh.deployer.lock().unwrap_or_else(|e| e.into_inner());
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ops::perform(&tp.op, deployer.as_mut(), &sh.live, &mut env)
        }))
        .unwrap_or(Err(OpError::Panicked));
        // What the deployer did on its own (abra: server registration, a checkout put back).
        for n in deployer.take_notes() {
            sh.bus.emit(EventKind::DeployerNote(DeployerNote {
                kind: n.kind.to_string(),
                subject: n.subject,
                outcome: n.outcome,
                data: n.data,
                notice: n.notice,
            }));
        }
        // The count comes from the deployer itself, after every op, so a signal still reports it.
        (r, deployer.fresh_deploys())
    };
    let ms = start.elapsed().as_millis() as u64;
    if matches!(&result, Err(e) if !matches!(e, OpError::Unsupported { .. })) {
        sh.check_engine();
    }
    let outcome = match &result {
        Ok(()) => OpOutcome::Ok,
        Err(OpError::Unsupported { reason, .. }) => OpOutcome::Unsupported {
            reason: reason.clone(),
        },
        Err(e) => OpOutcome::Failed {
            error: e.to_string(),
        },
    };
    finish(outcome, ms, Some(deploy_count));
    Some(result)
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

/// What the upgrade deployed, against head_ref. `None` when the app cannot be read.
fn upgrade_proof(live: &Live) -> Option<UpgradeProof> {
    let before = live
        .install
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let now = live.snapshot().ok()?;
    let verdict = match &live.head_ref {
        Some(h) => {
            match check::verify_chaos_version(h, now.chaos_version.as_deref(), &live.app.stack) {
                Ok(()) => "chaos-version matches head_ref".to_string(),
                Err(e) => e.to_string(),
            }
        }
        None => "head_ref unknown: fallback to version/image/chaos marker moved".to_string(),
    };
    Some(UpgradeProof {
        head_ref: live.head_ref.clone(),
        chaos_version: now.chaos_version,
        chaos_version_before: before.as_ref().and_then(|b| b.chaos_version.clone()),
        version_before: before.and_then(|b| b.version),
        version_after: now.version,
        verdict,
    })
}

/// `--pause-after`: says how to look inside the live app, then waits for Enter on a terminal (CI
/// refuses the flag before the run starts).
fn pause(sh: &Shared, tier: Tier) {
    let waiting = std::io::stdin().is_terminal();
    let live = &sh.live;
    let mut services: Vec<String> = live
        .services()
        .map(|s| s.into_iter().map(|s| s.name).collect())
        .unwrap_or_default();
    services.sort_by_key(|s| (*s != live.main_service, s.clone()));
    sh.bus.emit(EventKind::Paused(Pause {
        tier,
        waiting,
        run_id: live.app.run_id.clone(),
        services,
        coord_dir: sh.cfg.coord_dir.as_ref().map(|d| {
            std::path::absolute(d)
                .unwrap_or_else(|_| d.clone())
                .display()
                .to_string()
        }),
    }));
    if waiting {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }
}
