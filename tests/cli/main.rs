//! Integration tests: cli. One binary, one module per capability.

#[path = "../support/mod.rs"]
mod support;

mod dashboard_browser;
mod lint_builtin;
mod overlay_cli;
mod overlay_cli_values;
mod pytest_parity;
mod recipe_checkout;
mod report_junit;
mod report_results;
mod report_text;
mod spec_discovery;
mod spec_docs;
