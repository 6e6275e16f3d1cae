//! `cc-ci grant`: being built.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum GrantCmd {
    /// Placeholder until this command group is built.
    Pending,
}

pub fn run(_a: GrantCmd) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cc-ci grant` is not built yet")
}
