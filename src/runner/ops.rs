//! Ops: the one deploy, the upgrade to head_ref, the backup and the restore. Each runs exactly once
//! per run and is owned by the harness; overlays can add seeding steps before it or replace it, never
//! run it again. Seeding steps live here too, since they run right before their op.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::deploy::{DeployRequest, Deployer};
use crate::recipe::Checkout;
use crate::spec::Step;

use super::context::Live;
use super::plan::OpPlan;

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
}

/// Runs one op to completion (deploy and convergence). Returns the error message on failure.
pub fn perform(
    op: &OpPlan,
    deployer: &mut dyn Deployer,
    live: &Live,
    env: &mut OpEnv,
) -> Result<(), String> {
    let redact = |e: String| live.app.redactor.redact(&e);
    match op {
        OpPlan::Install { release } => {
            if let Some(tag) = release {
                env.checkout.checkout_at(tag).map_err(|e| e.to_string())?;
            }
            let req = request(env, release.is_none(), merged(env.env_install, env.op_env));
            deployer.install(&req).map_err(|e| redact(e.to_string()))?;
            wait(live, env)?;
            let snap = live.snapshot()?;
            *live.install.lock().unwrap_or_else(|e| e.into_inner()) = Some(snap);
            Ok(())
        }
        OpPlan::Upgrade => {
            let head = live.head_ref.clone().unwrap_or_else(|| "HEAD".to_string());
            env.checkout.checkout_at(&head).map_err(|e| e.to_string())?;
            let req = request(env, true, merged(env.env_upgrade, env.op_env));
            deployer.upgrade(&req).map_err(|e| redact(e.to_string()))?;
            wait(live, env)?;
            let snap = live.snapshot()?;
            if let Some(u) = snap
                .update_state
                .as_deref()
                .filter(|u| u.contains("rollback"))
            {
                return Err(format!(
                    "upgrade rolled back: swarm reverted `{}` to its previous spec (update state {u})",
                    live.main_service
                ));
            }
            Ok(())
        }
        OpPlan::Backup => {
            let dir = live.app.run_dir.join("backups");
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let artifact = deployer.backup(&dir).map_err(|e| redact(e.to_string()))?;
            let meta = std::fs::metadata(&artifact.path).map_err(|e| {
                format!(
                    "backup artifact {} is missing: {e}",
                    artifact.path.display()
                )
            })?;
            if meta.is_file() && meta.len() == 0 {
                return Err(format!(
                    "backup artifact {} is empty",
                    artifact.path.display()
                ));
            }
            *live.backup.lock().unwrap_or_else(|e| e.into_inner()) = Some(artifact);
            Ok(())
        }
        OpPlan::Restore => {
            let artifact = live
                .backup
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .ok_or("no backup to restore: the backup op did not produce one")?;
            deployer
                .restore(&artifact)
                .map_err(|e| redact(e.to_string()))?;
            wait(live, env)
        }
        OpPlan::Script { steps } => seed(live, steps),
        OpPlan::None | OpPlan::Skipped { .. } => Ok(()),
    }
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

fn wait(live: &Live, env: &mut OpEnv) -> Result<(), String> {
    let timeout = env.deploy_timeout.unwrap_or(DEFAULT_DEPLOY_TIMEOUT);
    live.engine
        .wait_converged(&live.app.stack, timeout, env.progress)
        .map(|_| ())
        .map_err(|e| live.app.redactor.redact(&e.to_string()))
}

/// Runs the seeding steps of one overlay file. Returns the first failure.
pub fn seed(live: &Live, steps: &[Step]) -> Result<(), String> {
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
                    .map_err(|e| format!("step {n} (exec in {service}): {e}"))?;
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
                    .map_err(|e| format!("step {n} (record {name}): {e}"))?;
                live.record(name, out.stdout.trim_end().to_string());
            }
            Step::Sleep(d) => std::thread::sleep(*d),
            Step::WaitHealthy => {
                let start = Instant::now();
                live.engine
                    .wait_converged(&live.app.stack, DEFAULT_DEPLOY_TIMEOUT, &mut |_| {})
                    .map_err(|e| format!("step {n} (wait healthy, {:?}): {e}", start.elapsed()))?;
            }
        }
    }
    Ok(())
}

/// How long a recipe's own `install_steps.sh` may run.
pub const INSTALL_STEPS_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs the recipe's `install_steps.sh` (already allowed by the trust gate) on the host, in the
/// checkout, with the app's coordinates in the environment. Output is redacted and shown.
pub fn install_steps(
    live: &Live,
    script: &std::path::Path,
    checkout: &std::path::Path,
) -> Result<(), String> {
    use wait_timeout::ChildExt;
    // Output goes to a file, not a pipe: a chatty script can never block on a full pipe.
    let log_path = live.app.run_dir.join("install_steps.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let log_err = log
        .try_clone()
        .map_err(|e| format!("cannot open {} twice: {e}", log_path.display()))?;
    let mut child = std::process::Command::new("bash")
        .arg(script)
        .current_dir(checkout)
        .env("CCCI_APP_DOMAIN", &live.app.domain)
        .env("DOMAIN", &live.app.domain)
        .env("CCCI_STACK", &live.app.stack)
        .env("STACK_NAME", &live.app.stack)
        .env("CCCI_RECIPE", &live.app.recipe)
        .env("CCCI_RUN_DIR", &live.app.run_dir)
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", script.display()))?;
    let status = match child
        .wait_timeout(INSTALL_STEPS_TIMEOUT)
        .map_err(|e| e.to_string())?
    {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{} did not finish within {:?}",
                script.display(),
                INSTALL_STEPS_TIMEOUT
            ));
        }
    };
    let raw = std::fs::read(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    let text = live.app.redactor.redact(&String::from_utf8_lossy(&raw));
    if !text.trim().is_empty() {
        println!("install_steps.sh:\n{}", text.trim_end());
    }
    if status.success() {
        Ok(())
    } else {
        Err(format!("install_steps.sh exited with {status}"))
    }
}
