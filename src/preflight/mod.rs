//! The preflight: what can be known about a recipe before anything is deployed, and why a tier will
//! not run. It owns the recipe's identity ([`identity`]: `TYPE=` in `.env.sample`, else the directory
//! name), the loaded stack with its warnings and backup capability ([`inspect`]), the reason a tier
//! cannot run ([`tier_unavailable`]), and `cc-ci check` ([`check`], rendered by [`render_text`] and
//! [`render_json`]). `cc-ci run` calls the same functions before it touches the engine, so a recipe
//! that does not load fails there with nothing deployed.
//!
//! It reads files and git only: it never talks to the engine, never consumes a grant use and never
//! writes into the recipe or the coord tree.

mod check;
mod report;
mod scaffold;
mod tiers;

use std::path::{Path, PathBuf};

use crate::deploy::compose::{self, ComposeError, StackSpec};

pub use check::{check, peek_grant, CheckRequest};
pub use report::{render_json, render_text, CheckReport, GateLine, TierLine};
pub use scaffold::{fit, scaffold, Fitted, ScaffoldFile};
pub use tiers::{tier_unavailable, NO_BACKUP, NO_RELEASE};

/// Where the recipe's name came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameFrom {
    /// `--recipe-name`.
    Flag,
    /// `TYPE=` (or the older `RECIPE=`) in `.env.sample`, at this line.
    EnvSample { key: String, line: usize },
    /// The name of the source (directory, URL or catalogue name).
    Source,
}

/// The recipe's name and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    pub name: String,
    pub from: NameFrom,
}

impl Identity {
    /// `bonfire (TYPE in .env.sample:1)`, for people.
    pub fn describe(&self) -> String {
        match &self.from {
            NameFrom::Flag => format!("{} (--recipe-name)", self.name),
            NameFrom::EnvSample { key, line } => {
                format!("{} ({key} in .env.sample:{line})", self.name)
            }
            NameFrom::Source => format!(
                "{} (the source's name; .env.sample sets no TYPE)",
                self.name
            ),
        }
    }
}

/// Why the preflight refuses a recipe. Every variant is a usage error (exit 4): the recipe (or the
/// name given for it) must be fixed before anything can run.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error("{}: not a recipe: {why}", path.display())]
    NotARecipe { path: PathBuf, why: String },
    #[error("{0}")]
    Load(#[from] ComposeError),
    #[error("{}: {message}", path.display())]
    BadName { path: PathBuf, message: String },
}

/// The recipe's name: `explicit` (`--recipe-name`) when given, else `TYPE` (or `RECIPE`) from
/// `.env.sample` as abra reads it, else `source_name`. The name must be a valid recipe name.
pub fn identity(
    checkout: &Path,
    source_name: &str,
    explicit: Option<&str>,
) -> Result<Identity, PreflightError> {
    let sample = checkout.join(".env.sample");
    let bad = |name: &str, path: &Path, at: String| {
        crate::recipe::validate_name(name).map_err(|e| PreflightError::BadName {
            path: path.to_path_buf(),
            message: format!("{at}: {e}"),
        })
    };
    if let Some(n) = explicit {
        bad(n, checkout, "--recipe-name".into())?;
        return Ok(Identity {
            name: n.to_string(),
            from: NameFrom::Flag,
        });
    }
    let env = compose::read_env_sample(checkout).map_err(|e| PreflightError::Load(e.into()))?;
    for key in ["TYPE", "RECIPE"] {
        if let Some(v) = env.vars.get(key).filter(|v| !v.trim().is_empty()) {
            let line = env.lines.get(key).copied().unwrap_or(0);
            let name = v.trim().to_string();
            bad(&name, &sample, format!("line {line}: {key}={name}"))?;
            return Ok(Identity {
                name,
                from: NameFrom::EnvSample {
                    key: key.to_string(),
                    line,
                },
            });
        }
    }
    bad(source_name, checkout, "the source's name".into())?;
    Ok(Identity {
        name: source_name.to_string(),
        from: NameFrom::Source,
    })
}

/// What the preflight knows about a loadable recipe.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The stack as Docker would deploy it (for the app at the domain given).
    pub spec: StackSpec,
    /// The compose files chosen, relative to the recipe (`compose.yml`, `compose.postgres.yml`).
    pub files: Vec<String>,
    /// Keys swarm ignores, one line each.
    pub warnings: Vec<String>,
    /// Services carrying `backupbot.backup=true` (empty: the recipe is not backup-capable).
    pub backup_services: Vec<String>,
}

impl Facts {
    pub fn backup_capable(&self) -> bool {
        !self.backup_services.is_empty()
    }
}

/// Loads the recipe at `checkout` as the app `stack` at `domain` would be deployed (with `env` over
/// its `.env.sample`). A directory without its compose file is not a recipe.
pub fn inspect(
    checkout: &Path,
    stack: &str,
    domain: &str,
    env: &std::collections::BTreeMap<String, String>,
) -> Result<Facts, PreflightError> {
    if !checkout.is_dir() {
        return Err(PreflightError::NotARecipe {
            path: checkout.to_path_buf(),
            why: "not a directory".into(),
        });
    }
    let spec = compose::load(checkout, stack, domain, env).map_err(|e| match e {
        ComposeError::NoComposeFile { wanted, .. } => PreflightError::NotARecipe {
            path: checkout.to_path_buf(),
            why: format!(
                "{} does not exist (hint: a recipe has a compose.yml, or names its compose files in COMPOSE_FILE in .env.sample)",
                wanted.strip_prefix(checkout).unwrap_or(&wanted).display()
            ),
        },
        other => PreflightError::Load(other),
    })?;
    let files = spec
        .files
        .iter()
        .map(|f| f.strip_prefix(checkout).unwrap_or(f).display().to_string())
        .collect();
    let backup_services = spec
        .services
        .iter()
        .filter(|(_, s)| s.deploy.labels.get("backupbot.backup").map(|v| v.trim()) == Some("true"))
        .map(|(name, _)| name.clone())
        .collect();
    Ok(Facts {
        warnings: spec.warnings(),
        files,
        backup_services,
        spec,
    })
}

#[cfg(test)]
mod tests;
