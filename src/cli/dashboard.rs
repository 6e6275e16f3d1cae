//! `cc-ci dashboard`: being built.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DashboardArgs {}

pub fn run(_a: DashboardArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cc-ci dashboard` is not built yet")
}
