//! Ops: the one deploy, the upgrade to head_ref, the backup and the restore. Each runs exactly once
//! per run and is owned by the harness; overlays can add seeding steps before it or replace it, never
//! run it again. Seeding steps live here too, since they run right before their op.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::deploy::{DeployRequest, Deployer};
use crate::recipe::{Checkout, RecipeError};
use crate::spec::Step;

use super::context::{Live, LiveError};
use super::plan::OpPlan;

/// Why an op (or a seeding step) failed. Messages that come from a deployer or the engine are redacted.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("{0}")]
    Checkout(#[from] RecipeError),
    /// The deployer failed (redacted message).
    #[error("{0}")]
    Deploy(String),
    /// The op cannot be done here (redacted reason): its tier is unsupported, never failed or passed.
    #[error("{op} is not supported here: {reason}")]
    Unsupported { op: &'static str, reason: String },
    #[error("{0}")]
    Live(#[from] LiveError),
    #[error("upgrade rolled back: swarm reverted `{service}` to its previous spec (update state {state})")]
    RolledBack { service: String, state: String },
    #[error("cannot create {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("backup artifact {} is missing: {source}", path.display())]
    ArtifactMissing {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("backup artifact {} is empty", path.display())]
    ArtifactEmpty { path: PathBuf },
    #[error("the backup failed verification {attempts} time(s): {problems}")]
    BackupUnverified { attempts: u32, problems: String },
    #[error("no backup to restore: the backup op did not produce one")]
    NoBackup,
    /// A seeding step failed; `what` names the step (`exec in app`, `record seed`, `wait healthy, 3s`).
    #[error("step {n} ({what}): {cause}")]
    Step {
        n: usize,
        what: String,
        cause: String,
    },
    #[error("{} {problem}", script.display())]
    Script { script: PathBuf, problem: String },
    #[error("install_steps.sh exited with {0}")]
    ScriptFailed(std::process::ExitStatus),
    #[error("the op panicked")]
    Panicked,
    /// The repo-local file that replaced the op, or gave it env, may not run.
    #[error("trust gate: {0}")]
    TrustGate(String),
}

/// Attempts at a verified backup when recipe.yaml's `backup_attempts` does not say.
pub const DEFAULT_BACKUP_ATTEMPTS: u32 = 3;

/// Default deploy timeout when neither the recipe label nor recipe.yaml says.
pub const DEFAULT_DEPLOY_TIMEOUT: Duration = Duration::from_secs(300);

/// What an op needs beyond the live app.
pub struct OpEnv<'a> {
    pub checkout: &'a Checkout,
    /// An overlay's extra env for this op, over recipe.yaml's.
    pub op_env: &'a BTreeMap<String, String>,
    pub env_install: &'a BTreeMap<String, String>,
    pub env_upgrade: &'a BTreeMap<String, String>,
    pub deploy_timeout: Option<Duration>,
    pub progress: &'a mut dyn FnMut(&str),
    /// How many times a backup that fails verification is taken (recipe.yaml `backup_attempts`).
    pub backup_attempts: u32,
    /// recipe.yaml's `backup_verify`, checked on each backup.
    pub backup_verify: Option<&'a crate::spec::Check>,
    /// Records what an op found beyond its outcome (each backup attempt) in the ledger.
    pub record: &'a mut dyn FnMut(crate::deploy::DeployNote),
}

/// Runs one op to completion (deploy and convergence).
pub fn perform(
    op: &OpPlan,
    deployer: &mut dyn Deployer,
    live: &Live,
    env: &mut OpEnv,
) -> Result<(), OpError> {
    let redact = |e: crate::deploy::DeployError| match e {
        crate::deploy::DeployError::Unsupported { op, reason } => OpError::Unsupported {
            op,
            reason: live.app.redactor.redact(&reason),
        },
        e => OpError::Deploy(live.app.redactor.redact(&e.to_string())),
    };
    match op {
        OpPlan::Install { base } => {
            if let Some(b) = base {
                env.checkout.checkout_at(&b.rev)?;
            }
            let chaos = base.as_ref().is_none_or(|b| b.chaos);
            let req = request(env, chaos, merged(env.env_install, env.op_env));
            deployer.install(&req).map_err(redact)?;
            wait(live, env)?;
            let snap = live.snapshot()?;
            *live.install.lock().unwrap_or_else(|e| e.into_inner()) = Some(snap);
            Ok(())
        }
        OpPlan::Upgrade => {
            let head = live.head_ref.clone().unwrap_or_else(|| "HEAD".to_string());
            env.checkout.checkout_at(&head)?;
            let req = request(env, true, merged(env.env_upgrade, env.op_env));
            deployer.upgrade(&req).map_err(redact)?;
            wait(live, env)?;
            let snap = live.snapshot()?;
            if let Some(u) = snap
                .update_state
                .as_deref()
                .filter(|u| u.contains("rollback"))
            {
                return Err(OpError::RolledBack {
                    service: live.main_service.clone(),
                    state: u.to_string(),
                });
            }
            Ok(())
        }
        OpPlan::Backup => backup(deployer, live, env, &redact),
        OpPlan::Restore => {
            let artifact = live
                .backup
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .ok_or(OpError::NoBackup)?;
            deployer.restore(&artifact).map_err(redact)?;
            wait(live, env)
        }
        OpPlan::Script { steps } => seed(live, steps),
        OpPlan::None | OpPlan::Skipped { .. } => Ok(()),
    }
}

/// Takes a backup and verifies it (backup_check.rs); one that fails verification is re-taken, up to
/// `backup_attempts` in all, each attempt recorded. A deployer's failure is not re-taken: the engine
/// re-takes an unreadable archive itself, and abra has its own retries. Only a verified backup (or
/// abra's restic snapshot, which cannot be read here) is kept for the restore.
fn backup(
    deployer: &mut dyn Deployer,
    live: &Live,
    env: &mut OpEnv,
    redact: &dyn Fn(crate::deploy::DeployError) -> OpError,
) -> Result<(), OpError> {
    let dir = live.app.run_dir.join("backups");
    std::fs::create_dir_all(&dir).map_err(|source| OpError::CreateDir {
        path: dir.clone(),
        source,
    })?;
    let attempts = env.backup_attempts.max(1);
    let mut problems = Vec::new();
    for n in 1..=attempts {
        let artifact = deployer.backup(&dir).map_err(redact)?;
        let meta =
            std::fs::metadata(&artifact.path).map_err(|source| OpError::ArtifactMissing {
                path: artifact.path.clone(),
                source,
            })?;
        if meta.is_file() && meta.len() == 0 {
            return Err(OpError::ArtifactEmpty {
                path: artifact.path.clone(),
            });
        }
        let v = super::backup_check::verify(live, &artifact, env.backup_verify);
        let outcome = match (&v.unverifiable, v.problems.is_empty()) {
            (_, false) => "rejected",
            (Some(_), true) => "unverifiable",
            (None, true) => "verified",
        };
        (env.record)(crate::deploy::DeployNote {
            kind: "backup_attempt",
            subject: format!("backup::attempt::{n}"),
            outcome: outcome.into(),
            data: serde_json::json!({
                "attempt": n, "of": attempts, "artifact": artifact.path, "sha256": artifact.sha256,
                "pieces": v.pieces, "problems": v.problems, "unverifiable": v.unverifiable,
            }),
            notice: (!v.problems.is_empty()).then(|| {
                format!(
                    "backup attempt {n}/{attempts} rejected: {}",
                    v.problems.join("; ")
                )
            }),
        });
        if v.problems.is_empty() {
            *live.backup.lock().unwrap_or_else(|e| e.into_inner()) = Some(artifact);
            return Ok(());
        }
        problems = v.problems;
    }
    Err(OpError::BackupUnverified {
        attempts,
        problems: live.app.redactor.redact(&problems.join("; ")),
    })
}

fn merged(
    base: &BTreeMap<String, String>,
    over: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut m = base.clone();
    m.extend(over.iter().map(|(k, v)| (k.clone(), v.clone())));
    m
}

fn request(env: &OpEnv, chaos: bool, vars: BTreeMap<String, String>) -> DeployRequest {
    DeployRequest {
        checkout: env.checkout.path.clone(),
        chaos,
        env: vars,
        timeout: env.deploy_timeout,
    }
}

fn wait(live: &Live, env: &mut OpEnv) -> Result<(), OpError> {
    let timeout = env.deploy_timeout.unwrap_or(DEFAULT_DEPLOY_TIMEOUT);
    live.engine
        .wait_converged(&live.app.stack, timeout, env.progress)
        .map(|_| ())
        .map_err(|e| OpError::Live(live.engine_error(e)))
}

/// Runs the seeding steps of one overlay file. Returns the first failure.
pub fn seed(live: &Live, steps: &[Step]) -> Result<(), OpError> {
    let step_err = |n: usize, what: String| {
        move |e: LiveError| OpError::Step {
            n,
            what,
            cause: e.to_string(),
        }
    };
    for (i, step) in steps.iter().enumerate() {
        let n = i + 1;
        match step {
            Step::Exec {
                service,
                command,
                record,
            } => {
                let out = live
                    .exec(service, &command.argv(), Some(0))
                    .map_err(step_err(n, format!("exec in {service}")))?;
                if let Some(name) = record {
                    live.record(name, out.stdout.trim_end().to_string());
                }
            }
            Step::Record {
                name,
                service,
                command,
            } => {
                let out = live
                    .exec(service, &command.argv(), Some(0))
                    .map_err(step_err(n, format!("record {name}")))?;
                live.record(name, out.stdout.trim_end().to_string());
            }
            Step::Sleep(d) => std::thread::sleep(*d),
            Step::WaitHealthy => {
                let start = Instant::now();
                live.engine
                    .wait_converged(&live.app.stack, DEFAULT_DEPLOY_TIMEOUT, &mut |_| {})
                    .map_err(|e| OpError::Step {
                        n,
                        what: format!("wait healthy, {:?}", start.elapsed()),
                        cause: e.to_string(),
                    })?;
            }
        }
    }
    Ok(())
}

/// How long a recipe's own `install_steps.sh` may run.
pub const INSTALL_STEPS_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs the recipe's `install_steps.sh` (already allowed by the trust gate) on the host, in the
/// checkout, with the app's coordinates in the environment. Its output, redacted, goes to `show`.
pub fn install_steps(
    live: &Live,
    script: &std::path::Path,
    checkout: &std::path::Path,
    show: &mut dyn FnMut(String),
) -> Result<(), OpError> {
    let problem = |problem: String| OpError::Script {
        script: script.to_path_buf(),
        problem,
    };
    // Output goes to a file, not a pipe: a chatty script can never block on a full pipe.
    let log_path = live.app.run_dir.join("install_steps.log");
    let log = std::fs::File::create(&log_path).map_err(|source| OpError::CreateDir {
        path: log_path.clone(),
        source,
    })?;
    let log_err = log
        .try_clone()
        .map_err(|e| problem(format!("cannot open {} twice: {e}", log_path.display())))?;
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(script)
        .current_dir(checkout)
        .env("CCCI_APP_DOMAIN", &live.app.domain)
        .env("DOMAIN", &live.app.domain)
        .env("CCCI_STACK", &live.app.stack)
        .env("STACK_NAME", &live.app.stack)
        .env("CCCI_RECIPE", &live.app.recipe)
        .env("CCCI_RUN_DIR", &live.app.run_dir)
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(log_err);
    // Its own process group: at the deadline everything the script started dies with it.
    let mut child = crate::child::own_group(&mut cmd)
        .spawn()
        .map_err(|e| problem(format!("cannot be started: {e}")))?;
    let status = match crate::child::wait_within(&mut child, INSTALL_STEPS_TIMEOUT)
        .map_err(|e| problem(format!("cannot be waited for: {e}")))?
    {
        crate::child::Ended::Exited(s) => s,
        crate::child::Ended::TimedOut => {
            return Err(problem(format!(
                "did not finish within {INSTALL_STEPS_TIMEOUT:?}: killed with its process group"
            )));
        }
    };
    let raw = std::fs::read(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    let text = live.app.redactor.redact(&String::from_utf8_lossy(&raw));
    if !text.trim().is_empty() {
        show(text.trim_end().to_string());
    }
    if status.success() {
        Ok(())
    } else {
        Err(OpError::ScriptFailed(status))
    }
}
