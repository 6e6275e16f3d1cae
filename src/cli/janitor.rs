//! `cc-ci janitor`: being built.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct JanitorArgs {}

pub fn run(_a: JanitorArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cc-ci janitor` is not built yet")
}
