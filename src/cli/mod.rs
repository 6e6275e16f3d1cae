//! The command line: routing only. Each command group lives in its own file and calls into the library;
//! `anyhow` is allowed here and nowhere below.

mod check;
mod coord;
mod dashboard;
mod engine;
mod exec;
mod grant;
mod janitor;
mod ledger;
mod overlay;
mod overlay_new;
mod run;
mod run_flags;
mod run_ignored;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// cc-ci: test Co-op Cloud recipe pull requests — deploy once, install → upgrade → backup → restore.
#[derive(Debug, Parser)]
#[command(name = "cc-ci", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the tiers against a recipe (the main job).
    Run(Box<run::RunArgs>),
    /// Check a recipe before any deploy (no Docker needed): what will run, what will not and why.
    Check(Box<check::CheckArgs>),
    /// The coord tree: provision, show paths, reconcile the spool, list obligations.
    #[command(subcommand)]
    Coord(coord::CoordCmd),
    /// The hash-chained ledger: tail, verify, export.
    #[command(subcommand)]
    Ledger(ledger::LedgerCmd),
    /// Signed escape grants: mint, check, list, revoke.
    #[command(subcommand)]
    Grant(grant::GrantCmd),
    /// Overlays for recipe maintainers: new, check, doc.
    #[command(subcommand)]
    Overlay(overlay::OverlayCmd),
    /// Render the static dashboard of every recipe's state.
    Dashboard(dashboard::DashboardArgs),
    /// Remove leftovers of runs that are no longer alive.
    Janitor(janitor::JanitorArgs),
    /// Run a command in the live app of a running session.
    Exec(exec::ExecArgs),
    /// Low-level engine operations (used by the abra double and for debugging).
    #[command(subcommand, hide = true)]
    Engine(engine::EngineCmd),
}

/// The plain usage line of the subcommand typed first (`cc-ci run [OPTIONS] …`), if any.
fn subcommand_usage() -> Option<clap::builder::StyledStr> {
    use clap::CommandFactory;
    let name = std::env::args().nth(1)?;
    let mut cmd = Cli::command();
    cmd.build();
    let sub = cmd.find_subcommand_mut(&name)?;
    Some(sub.render_usage())
}

/// Parses the command line and runs the command. Errors are printed with their causes; the exit code
/// comes from `crate::exit`.
pub fn main() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    // The matches are kept beside the parsed command: `run` reads the order of -x and --maxfail.
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(p) => p,
        Err(e) => {
            let kind = e.kind();
            let _ = run_ignored::without_far_hints(e, subcommand_usage()).print();
            return match kind {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    crate::exit::code(crate::exit::OK)
                }
                _ => crate::exit::code(crate::exit::USAGE),
            };
        }
    };
    let result = match cli.command {
        Command::Run(a) => run::run(*a, matches.subcommand_matches("run")),
        Command::Check(a) => check::run(*a),
        Command::Coord(c) => coord::run(c),
        Command::Ledger(c) => ledger::run(c),
        Command::Grant(c) => grant::run(c),
        Command::Overlay(c) => overlay::run(c),
        Command::Dashboard(a) => dashboard::run(a),
        Command::Janitor(a) => janitor::run(a),
        Command::Exec(a) => exec::run(a),
        Command::Engine(c) => engine::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cc-ci: error: {e:#}");
            crate::exit::code(crate::exit::INTERNAL)
        }
    }
}
