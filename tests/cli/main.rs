//! Integration tests: cli. One binary, one module per capability.

// The shared fixtures this binary uses (tests/support/), each a module of the crate root (they name
// each other as `super::…`), reached by the tests as `crate::support::…`.
#[path = "../support/browser.rs"]
mod browser;
#[path = "../support/cli.rs"]
mod cli;
#[path = "../support/oracle.rs"]
mod oracle;
#[path = "../support/process.rs"]
mod process;
#[path = "../support/pytest_mirror.rs"]
mod pytest_mirror;
#[path = "../support/recipe_repo.rs"]
mod recipe_repo;
#[path = "../support/report.rs"]
mod report;
mod support {
    pub(crate) use super::{browser, cli, oracle, process, pytest_mirror, recipe_repo, report};
}

mod check_cli;
mod compose_oracle;
mod compose_verdicts;
mod dashboard_browser;
mod lint_builtin;
mod overlay_cli;
mod overlay_cli_values;
mod properties;
mod pytest_parity;
mod pytest_parity_reports;
mod recipe_checkout;
mod report_junit;
mod report_results;
mod report_text;
mod reporters_agree;
mod run_usage;
mod spec_discovery;
mod spec_docs;
mod spec_hostile;
