//! `cc-ci exec --run RUN_ID --service S -- CMD…`: runs a command in the live app of a running session.
//! The retry is for the engine ("no running container yet", a container gone mid-exec): it re-resolves
//! the container until the deadline, then fails with the last error. A service the stack does not have
//! fails at once (naming the real ones), and so does a command that ran and exited with another code
//! than `--exit`: retrying would only run it again. Used by maintainers by hand (`--pause-after` prints
//! the command) and by the pytest fixtures.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::coord::CoordPaths;
use crate::docker::{Engine, ExecOptions};

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// The run id (printed in the run's header).
    #[arg(long = "run")]
    pub run: String,
    /// The service's short name, e.g. `app`.
    #[arg(long)]
    pub service: String,
    /// The exit code that counts as success; a command that exits with another one fails at once
    /// (exit 1), with its output.
    #[arg(long = "exit", default_value_t = 0)]
    pub exit: i64,
    /// How long to keep retrying while the service has no running container.
    #[arg(long, default_value = "90s", value_parser = humantime::parse_duration)]
    pub deadline: Duration,
    /// The coord tree's base directory.
    #[arg(long, env = "CCCI_COORD_DIR")]
    pub coord_dir: Option<PathBuf>,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

pub fn run(a: ExecArgs) -> anyhow::Result<ExitCode> {
    if a.run.contains('/') || a.run.contains("..") || a.run.is_empty() {
        eprintln!("cc-ci exec: `{}` is not a run id", a.run);
        return Ok(crate::exit::code(crate::exit::USAGE));
    }
    let paths = CoordPaths::resolve(a.coord_dir.as_deref())?;
    let lock = paths.runs.join(&a.run).join("lock");
    let text = match std::fs::read_to_string(&lock) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "cc-ci exec: no running session {} ({}: {e}) (hint: the run id is printed in the run's header)",
                a.run,
                lock.display()
            );
            return Ok(crate::exit::code(crate::exit::USAGE));
        }
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("reading {}", lock.display()))?;
    let stack = v
        .get("stack")
        .and_then(|s| s.as_str())
        .with_context(|| format!("{} names no stack", lock.display()))?
        .to_string();
    let engine = Engine::connect()?;
    if let Some(code) = unknown_service(&engine, &stack, &a) {
        return Ok(code);
    }
    let opts = ExecOptions {
        deadline: a.deadline,
        expect_exit: None,
    };
    match engine.exec(&stack, &a.service, &a.command, &opts) {
        Ok(out) => {
            std::io::stdout().write_all(out.stdout.as_bytes())?;
            std::io::stderr().write_all(out.stderr.as_bytes())?;
            if out.exit_code == a.exit {
                return Ok(crate::exit::code(crate::exit::OK));
            }
            eprintln!(
                "cc-ci exec: `{}` exited {} in {} (wanted {}); not retried: it ran",
                a.command.join(" "),
                out.exit_code,
                a.service,
                a.exit
            );
            Ok(crate::exit::code(crate::exit::FAILED))
        }
        Err(e) => {
            eprintln!("cc-ci exec: {e}");
            Ok(crate::exit::code(crate::exit::FAILED))
        }
    }
}

/// A service the stack does not have is a usage error at once, naming the services it has. A stack
/// with no services yet (still deploying) or one that cannot be listed goes on to the retrying exec.
fn unknown_service(engine: &Engine, stack: &str, a: &ExecArgs) -> Option<ExitCode> {
    let names: Vec<String> = engine
        .services(stack)
        .ok()?
        .into_iter()
        .map(|s| s.name)
        .collect();
    if names.is_empty() || names.contains(&a.service) {
        return None;
    }
    eprintln!(
        "cc-ci exec: run {} has no service `{}` (its services: {})",
        a.run,
        a.service,
        names.join(", ")
    );
    Some(crate::exit::code(crate::exit::USAGE))
}
