//! Loading a recipe's compose files into a typed [`StackSpec`], as `docker stack deploy` would read them:
//! `COMPOSE_FILE` (colon-separated, default `compose.yml`) selects the files, each is interpolated
//! against the app env (`.env.sample` < `abra.sh` exports < overrides < `STACK_NAME`, `DOMAIN`), then
//! the overlays are merged and the result is typed. Keys swarm ignores are listed by name as
//! `ignored`; keys cc-ci does not understand are an error naming each one. It never talks to the engine.

mod env;
mod interp;
mod merge;
mod model;
mod parse;
mod service;
mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use env::{app_env, parse_env, EnvFile};
pub use interp::{interpolate, InterpError};
pub use model::*;
pub use values::{parse_duration, shell_split};

/// Why a recipe's compose files could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid YAML: {message}")]
    Yaml { path: PathBuf, message: String },
    #[error("{path}: {key}: required variable {var} is missing: {message} (hint: set it in .env.sample or pass it with --env {var}=…)")]
    MissingVariable {
        path: PathBuf,
        key: String,
        var: String,
        message: String,
    },
    #[error("{path}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error("{checkout}: unsupported compose keys: {} (hint: cc-ci's stack deployer does not handle them; use the abra deployer or drop them)", keys.join(", "))]
    Unsupported {
        checkout: PathBuf,
        keys: Vec<String>,
    },
}

/// Loads the compose files of `checkout` for the app at `domain` (stack `stack`), with `overrides`
/// on top of the recipe's env.
pub fn load(
    checkout: &Path,
    stack: &str,
    domain: &str,
    overrides: &BTreeMap<String, String>,
) -> Result<StackSpec, ComposeError> {
    let env = app_env(checkout, stack, domain, overrides).map_err(|e| ComposeError::Io {
        path: checkout.to_path_buf(),
        source: e,
    })?;
    let list = env
        .vars
        .get("COMPOSE_FILE")
        .cloned()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "compose.yml".into());
    let files: Vec<PathBuf> = list
        .split(':')
        .filter(|s| !s.is_empty())
        .map(|f| checkout.join(f.trim()))
        .collect();
    let mut merged: Option<serde_yaml::Value> = None;
    for f in &files {
        let text = std::fs::read_to_string(f).map_err(|e| ComposeError::Io {
            path: f.clone(),
            source: e,
        })?;
        let mut v = load_str(&text, f, &env.vars)?;
        merge::normalize(&mut v);
        match merged.as_mut() {
            None => merged = Some(v),
            Some(m) => merge::merge(m, v),
        }
    }
    let merged = merged.unwrap_or(serde_yaml::Value::Null);
    parse::to_spec(merged, checkout, stack, env, files)
}

/// Parses one compose file's text and interpolates every string value in it (keys are left alone).
pub fn load_str(
    text: &str,
    path: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<serde_yaml::Value, ComposeError> {
    let mut v: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| ComposeError::Yaml {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    // YAML merge keys (`<<: *anchor`, also a list of them), as Docker's loader (go-yaml) applies them:
    // keys written beside the merge win over merged ones.
    v.apply_merge().map_err(|e| ComposeError::Yaml {
        path: path.to_path_buf(),
        message: format!("merge key (<<): {e}"),
    })?;
    let lookup = |k: &str| vars.get(k).cloned();
    interpolate_value(&mut v, "", &lookup, path)?;
    Ok(v)
}

fn interpolate_value(
    v: &mut serde_yaml::Value,
    key: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    path: &Path,
) -> Result<(), ComposeError> {
    use serde_yaml::Value;
    match v {
        Value::String(s) => {
            *s = interpolate(s, lookup).map_err(|e| match e {
                InterpError::Required(var, message) => ComposeError::MissingVariable {
                    path: path.to_path_buf(),
                    key: key.to_string(),
                    var,
                    message,
                },
                InterpError::Syntax(message) => ComposeError::Invalid {
                    path: path.to_path_buf(),
                    key: key.to_string(),
                    message,
                },
            })?;
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate_value(item, &format!("{key}[{i}]"), lookup, path)?;
            }
        }
        Value::Mapping(m) => {
            for (k, child) in m.iter_mut() {
                let name = merge::scalar_string(k);
                let sub = if key.is_empty() {
                    name
                } else {
                    format!("{key}.{name}")
                };
                interpolate_value(child, &sub, lookup, path)?;
            }
        }
        Value::Tagged(t) => interpolate_value(&mut t.value, key, lookup, path)?,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
