//! `cc-ci janitor [--dry-run] [--coord-dir DIR] [--runs-dir DIR]`: reaps what dead runs left on the
//! engine (see `crate::docker::Engine::janitor`) and prints one line per removal.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::docker::Engine;
use crate::exit;

#[derive(Debug, clap::Args)]
pub struct JanitorArgs {
    /// Only list what would be removed.
    #[arg(long)]
    dry_run: bool,
    /// The coord tree (default: CCCI_COORD_DIR, then $XDG_CACHE_HOME/cc-ci/coord, then ~/.cache/cc-ci/coord).
    #[arg(long)]
    coord_dir: Option<PathBuf>,
    /// Where run directories live (default: <coord dir>/runs).
    #[arg(long)]
    runs_dir: Option<PathBuf>,
}

/// The coord base, resolved in the documented order.
fn coord_base(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p);
    }
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = var("CCCI_COORD_DIR") {
        return Ok(p);
    }
    if let Some(p) = var("XDG_CACHE_HOME") {
        return Ok(p.join("cc-ci/coord"));
    }
    var("HOME")
        .map(|h| h.join(".cache/cc-ci/coord"))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "cannot find the coord dir (hint: pass --coord-dir or set CCCI_COORD_DIR)"
            )
        })
}

pub fn run(a: JanitorArgs) -> anyhow::Result<ExitCode> {
    let runs_dir = match a.runs_dir {
        Some(r) => r,
        None => coord_base(a.coord_dir)?.join("runs"),
    };
    let engine = Engine::connect()?;
    let verb = if a.dry_run { "would remove" } else { "removed" };
    let report = engine.janitor(&runs_dir, a.dry_run, &mut |r| {
        println!(
            "{verb} {} {} (stack {}, {})",
            r.kind, r.name, r.stack, r.reason
        );
    })?;
    for s in &report.skipped_live {
        println!("left alone: {s}");
    }
    for e in &report.errors {
        eprintln!("cc-ci: janitor: {e}");
    }
    println!(
        "janitor: {} {verb}, {} live stacks left alone, {} errors",
        report.removed.len(),
        report.skipped_live.len(),
        report.errors.len()
    );
    Ok(exit::code(if report.errors.is_empty() {
        exit::OK
    } else {
        exit::FAILED
    }))
}
