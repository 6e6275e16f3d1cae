//! `cc-ci coord`: provision the coord tree, show its paths, reconcile the spool and the mirror, and
//! watch obligations. Coord failures exit 2 with the path and the OS error (`crate::exit`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::coord::{self, CoordError, CoordPaths, Ledger, ProvisionOptions, Standing};
use crate::exit;

/// The `--coord-dir` option every coord, ledger and grant command takes.
#[derive(Debug, Clone, Args)]
pub struct CoordDirArg {
    /// Base of the coord tree (default: $CCCI_COORD_DIR, $XDG_CACHE_HOME/cc-ci/coord, ~/.cache/cc-ci/coord).
    #[arg(long, value_name = "DIR")]
    pub coord_dir: Option<PathBuf>,
}

impl CoordDirArg {
    pub fn resolve(&self) -> Result<CoordPaths, CoordError> {
        CoordPaths::resolve(self.coord_dir.as_deref())
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum CoordCmd {
    /// Create what is missing of the coord tree and prove it usable (idempotent).
    Provision {
        #[command(flatten)]
        dir: CoordDirArg,
        /// chmod a grant key with group/other permissions to 0600 (recorded in the ledger).
        #[arg(long)]
        repair_perms: bool,
    },
    /// Print the resolved paths (base, ledger, mirror, spool, grants, key).
    Path {
        #[command(flatten)]
        dir: CoordDirArg,
    },
    /// Commit spooled events exactly once and repair a lagging mirror.
    Reconcile {
        #[command(flatten)]
        dir: CoordDirArg,
    },
    /// List trust-gate obligations; escalate those not covered by a grant within the grace period.
    Obligations {
        #[command(flatten)]
        dir: CoordDirArg,
        /// How long after an obligation a matching grant may be minted (at most 365d).
        #[arg(long, default_value = "24h",
              value_parser = crate::duration::clap_parser(Duration::ZERO, coord::MAX_GRACE))]
        grace: Duration,
    },
    /// Record an obligation (what the runner does when CCCI_TRUST_GATE_OFF=1 replaces a grant).
    #[command(hide = true)]
    Oblige {
        #[command(flatten)]
        dir: CoordDirArg,
        #[arg(long)]
        gate: String,
        #[arg(long)]
        recipe: String,
        #[arg(long)]
        pr: Option<u64>,
        #[arg(long)]
        run: Option<String>,
        #[arg(long)]
        reason: String,
    },
}

/// Prints a coord error and returns exit 4 for a usage error, else 2.
pub fn fail(e: CoordError) -> ExitCode {
    eprintln!("cc-ci: error: {e}");
    match e {
        CoordError::Usage(_) => exit::code(exit::USAGE),
        _ => exit::code(exit::INTERRUPTED),
    }
}

pub fn run(cmd: CoordCmd) -> anyhow::Result<ExitCode> {
    Ok(match run_inner(cmd) {
        Ok(code) => code,
        Err(e) => fail(e),
    })
}

fn run_inner(cmd: CoordCmd) -> Result<ExitCode, CoordError> {
    match cmd {
        CoordCmd::Provision { dir, repair_perms } => {
            let paths = dir.resolve()?;
            let report = coord::provision(&paths, &ProvisionOptions { repair_perms })?;
            println!("coord tree {}", paths.base.display());
            println!("{report}");
            Ok(exit::code(exit::OK))
        }
        CoordCmd::Path { dir } => {
            println!("{}", dir.resolve()?);
            Ok(exit::code(exit::OK))
        }
        CoordCmd::Reconcile { dir } => {
            let report = coord::reconcile(&dir.resolve()?)?;
            println!("{report}");
            Ok(exit::code(if !report.needs_attention() {
                exit::OK
            } else {
                exit::FAILED
            }))
        }
        CoordCmd::Obligations { dir, grace } => {
            let paths = dir.resolve()?;
            let ledger = Ledger::open(&paths)?;
            let list = coord::obligations(&paths, &ledger, grace)?;
            let overdue = list
                .iter()
                .filter(|o| o.standing == Standing::Overdue)
                .count();
            for o in &list {
                println!("{o}");
            }
            println!(
                "{} obligation(s), {overdue} overdue and escalated",
                list.len()
            );
            Ok(exit::code(if overdue > 0 {
                exit::FAILED
            } else {
                exit::OK
            }))
        }
        CoordCmd::Oblige {
            dir,
            gate,
            recipe,
            pr,
            run,
            reason,
        } => {
            let paths = dir.resolve()?;
            let ledger = Ledger::open(&paths)?;
            coord::record_obligation(&ledger, &gate, &recipe, pr, run.as_deref(), &reason)?;
            println!("obligation recorded for gate {gate} recipe {recipe}");
            Ok(exit::code(exit::OK))
        }
    }
}
