//! `cc-ci coord`: being built.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum CoordCmd {
    /// Placeholder until this command group is built.
    Pending,
}

pub fn run(_a: CoordCmd) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cc-ci coord` is not built yet")
}
