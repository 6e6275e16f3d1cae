//! Integration tests: coord. One binary, one module per capability.

// The shared fixtures this binary uses (tests/support/), each a module of the crate root (they name
// each other as `super::…`), reached by the tests as `crate::support::…`.
#[path = "../support/cli.rs"]
mod cli;
#[path = "../support/coord.rs"]
mod coord;
#[path = "../support/process.rs"]
mod process;
mod support {
    pub(crate) use super::{cli, coord, process};
}

mod coord_hostile;
mod coord_provision;
mod grant_escape;
mod ledger_chain;
mod ledger_hostile;
mod reconcile_from;
