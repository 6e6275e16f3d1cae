//! `cc-ci ledger`: being built.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum LedgerCmd {
    /// Placeholder until this command group is built.
    Pending,
}

pub fn run(_a: LedgerCmd) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cc-ci ledger` is not built yet")
}
