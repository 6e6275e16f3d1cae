//! Integration tests: abra. One binary, one module per capability.

#[path = "../support/mod.rs"]
mod support;

mod abra_contract;
mod abra_deployer;
mod abra_double;
mod abra_run;
mod lint_abra;
