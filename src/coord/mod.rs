//! The coord tree: one fixed, user-writable location outside every worktree that holds the ledger,
//! the spool, the grants and the grant key. Owns path resolution (one resolver for every consumer),
//! provisioning, the hash-chained ledger and signed escape grants. It never deploys anything and never
//! reads recipe files.
//!
//! Main types: [`CoordPaths`] (where), [`Ledger`] (append events), [`provision`], [`reconcile`],
//! [`reconcile_from`] (a run's fallback file), [`verify`], [`check_grant`]. See `docs/coord.md` for the formats.

pub mod abandoned;
mod checkpoint;
mod db;
mod error;
pub mod event;
mod from_file;
mod grant_check;
pub mod grants;
mod green;
mod history;
mod key;
mod ledger;
mod mirror;
mod obligations;
mod paths;
mod provision;
mod rebuild;
mod reconcile;
mod seal;
mod spool;
mod sys;
#[cfg(test)]
pub(crate) mod testutil;
mod verify;

pub use abandoned::{never_ended_runs, OpenRun};
pub use checkpoint::Checkpoint;
pub use error::CoordError;
pub use event::{Event, NewEvent, Stamped};
pub use from_file::{reconcile_from, FromReport, MAX_FALLBACK_BYTES};
pub use grant_check::{check_grant, decide_grant, GrantDecision, GrantQuery};
pub use grants::{
    check_gate, check_recipe, mint, revoke, Claims, GrantFile, MintRequest, Scope, GATES, MAX_TTL,
};
pub use green::{green_runs, GreenRun};
pub use history::{last_run, LastRun};
pub use key::{inspect as inspect_key, KeyStatus};
pub use ledger::{export, head, Appended, Ledger, LedgerOptions};
pub use obligations::{obligations, record_obligation, settle, Obligation, Standing, MAX_GRACE};
pub use paths::CoordPaths;
pub use provision::{provision, ProvisionOptions, ProvisionReport};
pub use rebuild::{rebuild, RebuildReport};
pub use reconcile::{reconcile, ReconcileReport};
pub use verify::{verify, verify_with, Divergence, VerifyReport};

/// Everything a grant listing shows about one grant file.
pub use grant_list::{list_grants, GrantRow};

mod grant_list;
