//! `cc-ci exec`: being built.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ExecArgs {}

pub fn run(_a: ExecArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cc-ci exec` is not built yet")
}
