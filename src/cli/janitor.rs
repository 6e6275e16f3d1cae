//! `cc-ci janitor [--dry-run] [--all-trees] [--coord-dir DIR] [--runs-dir DIR]`: reaps what dead runs
//! left on the engine (see `crate::docker::Engine::janitor`), prints one line per removal and records
//! each removal in the ledger, and a dead run's `run_end` as `abandoned` when it never recorded one.
//! Only the runs of its own coord tree unless `--all-trees`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::coord::{CoordPaths, Ledger, NewEvent};
use crate::docker::{Engine, JanitorScope};
use crate::exit;

#[derive(Debug, clap::Args)]
pub struct JanitorArgs {
    /// Only list what would be removed.
    #[arg(long)]
    dry_run: bool,
    /// Also reap dead runs of other coord trees on this engine (e.g. a tree that was removed); their
    /// removals are recorded in this tree's ledger. Without it only this tree's runs are reaped.
    #[arg(long)]
    all_trees: bool,
    /// The coord tree (default: CCCI_COORD_DIR, then $XDG_CACHE_HOME/cc-ci/coord, then ~/.cache/cc-ci/coord).
    #[arg(long)]
    coord_dir: Option<PathBuf>,
    /// Where run directories live (default: <coord dir>/runs).
    #[arg(long)]
    runs_dir: Option<PathBuf>,
}

pub fn run(a: JanitorArgs) -> anyhow::Result<ExitCode> {
    let paths = CoordPaths::resolve(a.coord_dir.as_deref())?;
    let runs_dir = match a.runs_dir {
        // Run locks are labelled with absolute paths: compare like with like.
        Some(d) => std::path::absolute(&d)?,
        None => paths.runs.clone(),
    };
    let scope = if a.all_trees {
        JanitorScope::AllTrees
    } else {
        JanitorScope::Tree
    };
    // A removal is recorded: the ledger must be there (a dry run records nothing).
    let ledger = if a.dry_run {
        None
    } else {
        match Ledger::open(&paths) {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("cc-ci janitor: {e} (hint: run `cc-ci coord provision` first)");
                return Ok(exit::code(exit::INTERRUPTED));
            }
        }
    };
    let engine = Engine::connect()?;
    let verb = if a.dry_run { "would remove" } else { "removed" };
    let mut unrecorded = 0;
    let mut dead = std::collections::BTreeMap::new();
    let report = engine.janitor(&runs_dir, scope, a.dry_run, &mut |r| {
        if let Some(id) = &r.run_id {
            dead.entry(id.clone()).or_insert_with(|| r.stack.clone());
        }
        println!(
            "{verb} {} {} (stack {}, {})",
            r.kind, r.name, r.stack, r.reason
        );
        if let Some(l) = &ledger {
            let mut ev = NewEvent::new("janitor", format!("{} {}", r.kind, r.name), "removed")
                .data(serde_json::json!({ "stack": r.stack, "reason": r.reason }));
            if let Some(id) = &r.run_id {
                ev = ev.run(id);
            }
            if let Err(e) = l.append(ev) {
                eprintln!(
                    "cc-ci janitor: could not record the removal of {} {}: {e}",
                    r.kind, r.name
                );
                unrecorded += 1;
            }
        }
    })?;
    if let Some(l) = &ledger {
        // Dead runs never recorded their end: the ledger closes them as abandoned.
        let (closed, problems) = crate::coord::abandoned::close_dead_runs(l, &dead, None);
        for id in closed {
            println!("recorded run {id} as abandoned (it died without ending)");
        }
        for p in problems {
            eprintln!("cc-ci janitor: {p}");
            unrecorded += 1;
        }
    }
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
    Ok(exit::code(if report.errors.is_empty() && unrecorded == 0 {
        exit::OK
    } else {
        exit::FAILED
    }))
}
