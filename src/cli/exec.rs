//! `cc-ci exec --run RUN_ID --service S -- CMD…`: runs a command in the live app of a running session,
//! with the same retry rules as the harness's own exec (re-resolve the container, retry until the
//! deadline, then fail with the last error). Used by maintainers by hand and by the pytest fixtures.

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
    /// The exit code that counts as success (retried until it comes or the deadline passes).
    #[arg(long = "exit", default_value_t = 0)]
    pub exit: i64,
    /// How long to keep retrying.
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
    let opts = ExecOptions {
        deadline: a.deadline,
        expect_exit: Some(a.exit),
    };
    match engine.exec(&stack, &a.service, &a.command, &opts) {
        Ok(out) => {
            std::io::stdout().write_all(out.stdout.as_bytes())?;
            std::io::stderr().write_all(out.stderr.as_bytes())?;
            Ok(crate::exit::code(crate::exit::OK))
        }
        Err(e) => {
            eprintln!("cc-ci exec: {e}");
            Ok(crate::exit::code(crate::exit::FAILED))
        }
    }
}
