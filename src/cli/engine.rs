//! `cc-ci engine`: being built.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum EngineCmd {
    /// Placeholder until this command group is built.
    Pending,
}

pub fn run(_a: EngineCmd) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cc-ci engine` is not built yet")
}
