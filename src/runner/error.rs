//! Why a run could not go ahead, or could not start its session: [`RunError`]. Each variant keeps its
//! cause and maps to one exit class ([`RunError::class`]); the message says what failed and, where a
//! person can act, how to fix it. Verdicts (a failed check, a failed op) are not errors: they are events.

use std::path::PathBuf;

use crate::coord::CoordError;
use crate::deploy::DeployError;
use crate::docker::DockerError;
use crate::exit::ExitClass;
use crate::recipe::RecipeError;

use super::plan::PlanError;
use super::pytest::PytestError;
use super::select::TargetError;

/// A run that stops before (or outside) its tiers.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("coord: {0}")]
    CoordResolve(#[source] CoordError),
    #[error("coord provision: {0}")]
    Provision(#[source] CoordError),
    #[error("coord reconcile: {0}")]
    Reconcile(#[source] CoordError),
    #[error("ledger: {0}")]
    Ledger(#[source] CoordError),
    /// The recipe source, its checkout, head_ref or its releases.
    #[error("{0}")]
    Recipe(#[from] RecipeError),
    #[error("cannot create {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create a temporary directory: {0}")]
    TempDir(#[source] std::io::Error),
    #[error("{0}")]
    RunLock(#[source] DockerError),
    /// The stack belongs to another live run (or to no live cc-ci run): nothing was touched.
    #[error("{0}")]
    StackBusy(#[source] Box<crate::docker::StackBusy>),
    /// The recipe is not a recipe, its name is invalid, or its compose files do not load.
    #[error("{0}\nnothing was deployed (hint: `cc-ci check --recipe {1}` shows every problem before a run)")]
    Preflight(#[source] Box<crate::preflight::PreflightError>, String),
    /// Spec files that do not parse; every error is listed with its position.
    #[error("{} error(s) in {files} spec file(s); nothing was deployed:\n{}", errors.len(), errors.join("\n"))]
    InvalidSpecs { errors: Vec<String>, files: usize },
    /// The data dir is missing, not a directory, or without generic tests.
    #[error("{0}")]
    DataDir(String),
    /// SIGINT/SIGTERM while preparing (a running git was killed with its process group).
    #[error("interrupted (SIGINT/SIGTERM) while preparing; nothing was deployed")]
    Interrupted,
    #[error("{0}")]
    GrantCheck(#[source] CoordError),
    #[error("skipping the generic tests in CI needs a skip-generic grant for {recipe}: {reason} \
             (hint: cc-ci grant mint --gate skip-generic --recipe {recipe}{} --ttl 2h --reason \"...\")",
             pr.map(|p| format!(" --pr {p}")).unwrap_or_default())]
    SkipGenericDenied {
        recipe: String,
        reason: String,
        pr: Option<u64>,
    },
    /// The repo-local grant that would have allowed no longer does when the run is about to execute a
    /// repo-local file (used up or revoked meanwhile).
    #[error("trust gate: {0}; nothing was deployed")]
    TrustGate(String),
    /// A positional argument that names no test, file or directory.
    #[error("{0}")]
    Target(#[from] TargetError),
    /// The upgrade base asked for cannot be used.
    #[error("{by} {rev}: {why} (hint: pass --upgrade-from previous|last-green or a commit/tag of the recipe)")]
    UpgradeBase {
        by: String,
        rev: String,
        why: String,
    },
    #[error("{0}")]
    Plan(#[from] PlanError),
    #[error("{0}")]
    Pytest(#[from] PytestError),
    #[error("engine: {0}")]
    Engine(#[source] DockerError),
    /// The deployer cannot be made (e.g. no `abra` binary).
    #[error("{0}")]
    Deployer(#[source] DeployError),
}

impl RunError {
    /// The exit class this error ends the run with.
    pub fn class(&self) -> ExitClass {
        match self {
            RunError::CoordResolve(_)
            | RunError::Provision(_)
            | RunError::Reconcile(_)
            | RunError::Ledger(_) => ExitClass::Provisioning,
            RunError::Recipe(e) if e.is_interrupted() => ExitClass::Interrupted,
            RunError::Recipe(crate::recipe::RecipeError::GitTimeout { .. }) => {
                ExitClass::Infrastructure
            }
            RunError::Interrupted => ExitClass::Interrupted,
            RunError::StackBusy(b)
                if matches!(
                    **b,
                    crate::docker::StackBusy::Live { .. }
                        | crate::docker::StackBusy::Foreign { .. }
                ) =>
            {
                ExitClass::Usage
            }
            RunError::StackBusy(_) => ExitClass::Infrastructure,
            RunError::Recipe(_)
            | RunError::Preflight(..)
            | RunError::InvalidSpecs { .. }
            | RunError::DataDir(_)
            | RunError::SkipGenericDenied { .. }
            | RunError::TrustGate(_)
            | RunError::Target(_)
            | RunError::Plan(_)
            | RunError::UpgradeBase { .. }
            | RunError::Deployer(_) => ExitClass::Usage,
            RunError::CreateDir { .. }
            | RunError::TempDir(_)
            | RunError::RunLock(_)
            | RunError::GrantCheck(_)
            | RunError::Pytest(_)
            | RunError::Engine(_) => ExitClass::Infrastructure,
        }
    }
}
