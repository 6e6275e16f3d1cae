//! `cc-ci overlay`: being built.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum OverlayCmd {
    /// Placeholder until this command group is built.
    Pending,
}

pub fn run(_a: OverlayCmd) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cc-ci overlay` is not built yet")
}
