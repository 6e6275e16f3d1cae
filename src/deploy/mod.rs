//! Deployers: the one place that knows how an app is put on the swarm and taken off it.
//!
//! Two implementations sit behind [`Deployer`]: `stack` (built in, deploys a recipe checkout through the
//! engine API with the labels abra sets) and `abra` (drives the `abra` CLI). A deployer performs ops only;
//! it never evaluates assertions, and it never decides which tiers run. Waiting for convergence after an
//! op and verifying that teardown left nothing are the runner's job, done through `crate::docker`.

pub mod abra;
pub mod compose;
pub mod stack;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::redact::Redactor;

/// A backup made by a deployer. It is the engine's type (the engine layer makes the stack deployer's
/// backups and must not know the deployer layer), re-exported here for the deployers and the runner.
pub use crate::docker::BackupArtifact;

/// Identity of the app under test for one run. Every resource a run creates is traceable to it.
#[derive(Debug, Clone)]
pub struct AppRef {
    /// Unique id of the run (also the `cc-ci.run-id` label value).
    pub run_id: String,
    /// Recipe name, e.g. `custom-html`.
    pub recipe: String,
    /// The app's domain, e.g. `custom-html-1a2b3c.ci.local`.
    pub domain: String,
    /// Swarm stack name derived from the domain as abra does (see [`stack_name`]).
    pub stack: String,
    /// The run's private directory (lock file, checkout, abra state, backups, artifacts).
    pub run_dir: PathBuf,
    /// The run's lock file; its path is put in a label so the janitor can tell live runs from dead ones.
    pub lock_path: PathBuf,
    /// Every generated secret value is registered here.
    pub redactor: Redactor,
}

/// What an op deploys.
#[derive(Debug, Clone)]
pub struct DeployRequest {
    /// The recipe checkout to deploy (already checked out at the wanted commit).
    pub checkout: PathBuf,
    /// Chaos deploy: deploy the working tree and set the chaos labels.
    pub chaos: bool,
    /// Extra app env (overrides `.env.sample`).
    pub env: BTreeMap<String, String>,
    /// Deploy timeout override; `None` uses the recipe's label or the default.
    pub timeout: Option<Duration>,
}

/// Errors of a deploy op. Messages are already redacted.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("{op} failed: {message}")]
    Op { op: &'static str, message: String },
    #[error("`{command}` exited with {code:?}; last output:\n{tail}")]
    Command {
        command: String,
        code: Option<i32>,
        tail: String,
    },
    #[error("`{command}` did not finish within {timeout:?} and was killed")]
    Timeout { command: String, timeout: Duration },
    /// The op cannot be done where cc-ci runs (e.g. abra found no backup bot on the server). Never a
    /// pass; the message says what is missing.
    #[error("{op} is not supported here: {reason}")]
    Unsupported { op: &'static str, reason: String },
    #[error("recipe at {path}: {message}")]
    Recipe { path: PathBuf, message: String },
    #[error("engine: {0}")]
    Engine(String),
    #[error("{0}")]
    Other(String),
}

/// Something a deployer did on its own initiative that belongs in the ledger (abra: registering the
/// local server, putting back a recipe checkout abra had moved, creating the `proxy` network).
#[derive(Debug, Clone, PartialEq)]
pub struct DeployNote {
    /// Ledger event kind, e.g. `abra_server`.
    pub kind: &'static str,
    pub subject: String,
    pub outcome: String,
    pub data: serde_json::Value,
    /// One line for the person watching the run (e.g. that the `proxy` network was created, or a
    /// warning); `None` for notes only the ledger keeps.
    pub notice: Option<String>,
}

/// The external overlay network of the host's reverse proxy (traefik) that web recipes join.
pub const PROXY_NETWORK: &str = "proxy";

/// The note both deployers leave when they created the missing proxy network: a ledger event and one
/// line for the person watching.
pub fn proxy_created_note(name: &str) -> DeployNote {
    DeployNote {
        kind: "network",
        subject: name.to_string(),
        outcome: "created".into(),
        data: serde_json::json!({ "driver": "overlay", "attachable": true,
            "why": "the external network of the host's proxy was missing" }),
        notice: Some(format!(
            "network {name} (the host proxy's external network) was missing: created it (overlay, attachable; it is never removed)"
        )),
    }
}

/// Deploys, upgrades, backs up, restores and removes one app. One instance serves one run.
pub trait Deployer: Send {
    /// `stack` or `abra`.
    fn kind(&self) -> &'static str;
    /// A fresh deploy of the app (abra: `app new`, secrets, `deploy`). Counts as one fresh deploy.
    fn install(&mut self, req: &DeployRequest) -> Result<(), DeployError>;
    /// An in-place redeploy of the running app from `req.checkout` (an upgrade). Never a fresh deploy.
    fn upgrade(&mut self, req: &DeployRequest) -> Result<(), DeployError>;
    /// Takes a backup of the app's volumes into `dest_dir`.
    fn backup(&mut self, dest_dir: &Path) -> Result<BackupArtifact, DeployError>;
    /// Restores a backup made by [`Deployer::backup`].
    fn restore(&mut self, artifact: &BackupArtifact) -> Result<(), DeployError>;
    /// Removes the app with its volumes, secrets, configs and networks. Safe to call more than once
    /// and when nothing was deployed.
    fn teardown(&mut self) -> Result<(), DeployError>;
    /// How many fresh deploys this deployer made (the session requires exactly one).
    fn fresh_deploys(&self) -> u32;
    /// The notes gathered since the last call, for the ledger (the runner records them after each op).
    fn take_notes(&mut self) -> Vec<DeployNote> {
        Vec::new()
    }
}

/// The swarm stack name abra derives from a domain: dots become underscores, and names longer than
/// 45 characters are cut (swarm limits the names of the objects derived from it).
pub fn stack_name(domain: &str) -> String {
    let mut s: String = domain.replace('.', "_");
    if s.len() > 45 {
        s.truncate(45);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_name_replaces_dots_with_underscores() {
        assert_eq!(stack_name("app.example.org"), "app_example_org");
    }

    #[test]
    fn long_stack_names_are_cut_to_45_characters() {
        let d = format!("{}.example.org", "a".repeat(60));
        assert_eq!(stack_name(&d).len(), 45);
    }
}
