//! Integration tests: coord. One binary, one module per capability.

#[path = "../support/mod.rs"]
mod support;

mod coord_hostile;
mod coord_provision;
mod grant_escape;
mod ledger_chain;
mod ledger_hostile;
