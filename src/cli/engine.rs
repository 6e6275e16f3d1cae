//! `cc-ci engine …`: hidden low-level engine commands for the abra double and for debugging. Thin: each
//! one parses its flags and calls one `crate::docker` / `crate::deploy::stack` function.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::deploy::stack::{StackDeployer, StackOptions};
use crate::deploy::{stack_name, AppRef, DeployRequest, Deployer};
use crate::docker::{Engine, ExecOptions, RunLock};
use crate::exit;

#[derive(Debug, clap::Subcommand)]
pub enum EngineCmd {
    /// Deploy a recipe checkout as a stack (install when absent, in-place upgrade when present).
    Deploy(DeployArgs),
    /// Back up the app's volumes (backupbot labels) into a directory.
    Backup {
        #[arg(long)]
        domain: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup made by `engine backup`.
    Restore {
        #[arg(long)]
        domain: String,
        /// The `.tar.gz` (its `.manifest.json` must sit beside it).
        #[arg(long)]
        from: PathBuf,
        #[arg(long, value_parser = humantime::parse_duration, default_value = "300s")]
        timeout: Duration,
    },
    /// Remove the stack with its volumes, secrets, configs and networks; exits 1 if anything is left.
    Rm {
        #[arg(long)]
        domain: String,
    },
    /// List what is left of a stack (and run id); exits 1 if anything is.
    Leftovers {
        #[arg(long)]
        domain: String,
        #[arg(long)]
        run_id: Option<String>,
    },
    /// The stack's services as JSON.
    Services {
        #[arg(long)]
        domain: String,
    },
    /// Run a command in a service's container (retried until it exits 0 or the deadline passes).
    Exec {
        #[arg(long)]
        domain: String,
        #[arg(long)]
        service: String,
        #[arg(long, value_parser = humantime::parse_duration, default_value = "90s")]
        deadline: Duration,
        /// Accept any exit code (only engine failures are retried).
        #[arg(long)]
        any_exit: bool,
        #[arg(trailing_var_arg = true, required = true)]
        cmd: Vec<String>,
    },
    /// The log tail of a service.
    Logs {
        #[arg(long)]
        domain: String,
        #[arg(long)]
        service: String,
        #[arg(long, default_value_t = 100)]
        tail: usize,
    },
}

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    #[arg(long)]
    checkout: PathBuf,
    #[arg(long)]
    domain: String,
    #[arg(long)]
    run_id: String,
    #[arg(long)]
    chaos: bool,
    /// Extra app env, `K=V` (repeatable).
    #[arg(long = "env", value_parser = parse_kv)]
    env: Vec<(String, String)>,
    /// The run directory whose `lock` labels the resources; when no process holds it, this command
    /// holds it while it runs. Default: a fresh directory under the system temp dir.
    #[arg(long)]
    run_dir: Option<PathBuf>,
    #[arg(long, value_parser = humantime::parse_duration)]
    timeout: Option<Duration>,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected K=V, got {s:?}"))
}

fn code(ok: bool) -> ExitCode {
    exit::code(if ok { exit::OK } else { exit::FAILED })
}

pub fn run(cmd: EngineCmd) -> anyhow::Result<ExitCode> {
    let engine = Arc::new(Engine::connect()?);
    match cmd {
        EngineCmd::Deploy(a) => deploy(engine, a),
        EngineCmd::Backup { domain, out } => {
            let a = engine.backup(&stack_name(&domain), &out)?;
            println!("{}", serde_json::to_string_pretty(&a)?);
            Ok(code(true))
        }
        EngineCmd::Restore {
            domain,
            from,
            timeout,
        } => {
            let artifact = crate::deploy::BackupArtifact {
                path: from,
                sha256: String::new(),
                entries: vec![],
            };
            engine.restore(&stack_name(&domain), &artifact, timeout)?;
            eprintln!("restored {}", stack_name(&domain));
            Ok(code(true))
        }
        EngineCmd::Rm { domain } => {
            let stack = stack_name(&domain);
            engine.remove_stack(&stack)?;
            let left = engine.leftovers(None, &stack)?;
            left.iter().for_each(|l| println!("{l}"));
            Ok(code(left.is_empty()))
        }
        EngineCmd::Leftovers { domain, run_id } => {
            let left = engine.leftovers(run_id.as_deref(), &stack_name(&domain))?;
            left.iter().for_each(|l| println!("{l}"));
            Ok(code(left.is_empty()))
        }
        EngineCmd::Services { domain } => {
            let s = engine.services(&stack_name(&domain))?;
            println!("{}", serde_json::to_string_pretty(&s)?);
            Ok(code(true))
        }
        EngineCmd::Exec {
            domain,
            service,
            deadline,
            any_exit,
            cmd,
        } => {
            let opts = ExecOptions {
                deadline,
                expect_exit: if any_exit { None } else { Some(0) },
            };
            let out = engine.exec(&stack_name(&domain), &service, &cmd, &opts)?;
            print!("{}", out.stdout);
            eprint!("{}", out.stderr);
            Ok(ExitCode::from(out.exit_code.clamp(0, 255) as u8))
        }
        EngineCmd::Logs {
            domain,
            service,
            tail,
        } => {
            print!("{}", engine.logs(&stack_name(&domain), &service, tail)?);
            Ok(code(true))
        }
    }
}

fn deploy(engine: Arc<Engine>, a: DeployArgs) -> anyhow::Result<ExitCode> {
    let stack = stack_name(&a.domain);
    let run_dir = a
        .run_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("cc-ci-engine").join(&a.run_id));
    let lock_path = run_dir.join("lock");
    // Held by the caller (a run) → only label with it; else hold it ourselves while deploying.
    let _lock = if RunLock::is_alive(&lock_path) {
        None
    } else {
        Some(RunLock::acquire(&run_dir, &a.run_id, &stack).context("taking the run lock")?)
    };
    let app = AppRef {
        run_id: a.run_id.clone(),
        recipe: String::new(),
        domain: a.domain.clone(),
        stack: stack.clone(),
        run_dir,
        lock_path,
        redactor: crate::redact::Redactor::new(),
    };
    let upgrade = !engine.services(&stack)?.is_empty();
    let mut d = StackDeployer::new(
        engine.clone(),
        app,
        StackOptions {
            create_proxy_network: true,
        },
    );
    d.set_progress(Box::new(|l| eprintln!("converging: {l}")));
    let req = DeployRequest {
        checkout: a.checkout,
        chaos: a.chaos,
        env: a.env.into_iter().collect::<BTreeMap<_, _>>(),
        timeout: a.timeout,
    };
    if upgrade {
        d.upgrade(&req)?
    } else {
        d.install(&req)?
    }
    eprintln!(
        "{} {stack} (fresh deploys: {})",
        if upgrade { "upgraded" } else { "deployed" },
        d.fresh_deploys()
    );
    Ok(code(true))
}
