//! `cc-ci dashboard --out DIR [--coord-dir DIR] [--results FILE]...`: reads the `run_end` events of the
//! coord ledger mirror, loads each run's results.json and renders the static dashboard.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::report::dashboard;

#[derive(Debug, clap::Args)]
pub struct DashboardArgs {
    /// Directory to write the dashboard into (created if missing; its pages are overwritten).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The coord base whose ledger.jsonl lists the runs (default: CCCI_COORD_DIR, then
    /// $XDG_CACHE_HOME/cc-ci/coord, then $HOME/.cache/cc-ci/coord).
    #[arg(long, value_name = "DIR")]
    pub coord_dir: Option<PathBuf>,
    /// Also include these results.json files (repeatable); with them, a missing ledger is not an error.
    #[arg(long = "results", value_name = "FILE")]
    pub results: Vec<PathBuf>,
}

/// Renders the dashboard of the runs the resolved coord base's ledger mirror lists (and of `--results`).
pub fn run(a: DashboardArgs) -> anyhow::Result<ExitCode> {
    // The one shared resolver, as every consumer of the coord tree uses.
    let paths = crate::coord::CoordPaths::resolve(a.coord_dir.as_deref())?;
    let mirror = paths.mirror;
    let mut loaded = if mirror.exists() || a.results.is_empty() {
        // Older runs recorded their results path relative to where they ran: try it from here first.
        let cwd = std::env::current_dir().ok();
        match dashboard::from_ledger(&mirror, cwd.as_deref()) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("cc-ci: error: {e}");
                return Ok(crate::exit::code(crate::exit::USAGE));
            }
        }
    } else {
        dashboard::Loaded::default()
    };
    dashboard::from_files(&a.results, &mut loaded);
    for p in &loaded.problems {
        eprintln!("cc-ci dashboard: warning: {p}");
    }
    let rendered = dashboard::render(&loaded.runs, &loaded.ended, &a.out)
        .with_context(|| format!("rendering the dashboard into {}", a.out.display()))?;
    println!(
        "dashboard: {} recipe(s), {} run(s) → {}",
        rendered.recipes,
        rendered.run_pages.len(),
        rendered.index.display()
    );
    Ok(crate::exit::code(crate::exit::OK))
}
