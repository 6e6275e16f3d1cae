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
    /// Commit spooled events exactly once and repair a lagging mirror; with --from, also append the
    /// events of a run's fallback file (exit 1 on quarantined files or id collisions).
    Reconcile {
        #[command(flatten)]
        dir: CoordDirArg,
        /// A fallback file a run wrote when the ledger could not take its events
        /// (`ledger-unrecorded-<run id>….jsonl`): its events are appended in order, each once. A bad
        /// file appends nothing and exits 4 naming FILE:LINE.
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
    },
    /// List trust-gate obligations; escalate those not covered by a grant within the grace period
    /// (once per grace period). Exit 1 while any is overdue, 0 otherwise.
    Obligations {
        #[command(flatten)]
        dir: CoordDirArg,
        /// How long after an obligation a matching grant may be minted (at most 365d); also how often
        /// an overdue obligation is escalated again.
        #[arg(long, default_value = "24h",
              value_parser = crate::duration::clap_parser(Duration::ZERO, coord::MAX_GRACE))]
        grace: Duration,
        /// `text` (one line each) or `json` (an array of objects with each obligation's `id`, for
        /// `cc-ci grant mint --settles ID`).
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
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

/// How a listing is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
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
        CoordCmd::Reconcile { dir, from } => {
            let paths = dir.resolve()?;
            let report = match &from {
                Some(file) => coord::reconcile_from(&paths, file)?,
                None => coord::reconcile(&paths)?,
            };
            println!("{report}");
            Ok(exit::code(if !report.needs_attention() {
                exit::OK
            } else {
                exit::FAILED
            }))
        }
        CoordCmd::Obligations { dir, grace, format } => {
            let paths = dir.resolve()?;
            let ledger = Ledger::open(&paths)?;
            let list = coord::obligations(&paths, &ledger, grace)?;
            let overdue = list
                .iter()
                .filter(|o| o.standing == Standing::Overdue)
                .count();
            let escalated = list.iter().filter(|o| o.escalated_now).count();
            match format {
                ListFormat::Json => println!(
                    "{}",
                    serde_json::Value::Array(list.iter().map(|o| o.to_json()).collect())
                ),
                ListFormat::Text => {
                    for o in &list {
                        println!("{o}");
                    }
                    println!(
                        "{} obligation(s), {overdue} overdue ({escalated} escalated now)",
                        list.len()
                    );
                }
            }
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
