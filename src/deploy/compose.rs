//! Loading a recipe's compose files into a typed [`StackSpec`] exactly as `docker stack deploy` (and
//! abra, which vendors Docker's loader) would read them. The app env is read as abra reads it (see
//! `env`); `COMPOSE_FILE` (colon-separated, default `compose.yml`) selects the files; each file is
//! parsed with merge keys applied and scalars resolved as go-yaml resolves them (`yaml`), interpolated
//! with Docker's rules (`interp`), put in canonical form (`normalize`), then the files are merged as
//! Docker merges them (`merge`) and the result is typed (`parse`, `service`, `mounts`). Keys swarm
//! ignores are listed as `ignored` (shown as warnings); keys nobody handles are an error naming each.
//! [`render`] prints the result in the shape `docker stack config` prints. It never talks to the
//! engine.

mod deploy_section;
mod env;
mod interp;
mod keys;
mod merge;
mod model;
mod mounts;
mod normalize;
mod parse;
mod render;
mod schema;
mod service;
mod values;
mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use env::{
    abra_sh_exports, app_env, parse_env, read_env_sample, AppEnvError, EnvError, EnvFile,
};
pub use interp::{interpolate, InterpError};
pub use model::*;
pub use render::{render, render_yaml};
pub use service::{SERVICE, SERVICE_FORBIDDEN, SERVICE_IGNORED};
pub use values::{parse_duration, shell_split};

use keys::{Checker, Origins};

/// The largest compose file read (a compose file is small; a bigger one is a mistake or an attack).
pub const MAX_COMPOSE_BYTES: u64 = 4 << 20;

/// Why a recipe's compose files could not be loaded. Positions are 1-based lines where known.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("{}: no compose file: {} does not exist (hint: a recipe has a compose.yml, or names its files in COMPOSE_FILE in .env.sample)", checkout.display(), wanted.display())]
    NoComposeFile { checkout: PathBuf, wanted: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Env(#[from] AppEnvError),
    #[error("{}:{line}: invalid YAML: {message}", path.display())]
    Yaml {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}{}: {key}: required variable {var} is missing a value: {message} (hint: set it in .env.sample or pass it with --env {var}=…)", path.display(), at_line(*line))]
    MissingVariable {
        path: PathBuf,
        line: Option<usize>,
        key: String,
        var: String,
        message: String,
    },
    #[error("{}{}: {key}: {message}", path.display(), at_line(*line))]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        key: String,
        message: String,
    },
    /// Keys nobody handles; `path`/`line` place the first, `places` each (`compose.yml:7`).
    #[error("{}{}: unsupported compose keys: {} (hint: `docker stack deploy` refuses them too; remove them)", path.display(), at_line(*line), placed(keys, places))]
    Unsupported {
        path: PathBuf,
        line: Option<usize>,
        keys: Vec<String>,
        places: Vec<String>,
    },
}

fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

fn placed(keys: &[String], places: &[String]) -> String {
    keys.iter()
        .zip(places)
        .map(|(k, p)| format!("{k} ({p})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Loads the compose files of `checkout` for the app at `domain` (stack `stack`), with `overrides`
/// on top of the recipe's env.
pub fn load(
    checkout: &Path,
    stack: &str,
    domain: &str,
    overrides: &BTreeMap<String, String>,
) -> Result<StackSpec, ComposeError> {
    let env = app_env(checkout, stack, domain, overrides)?;
    load_with_env(checkout, stack, env)
}

/// The compose files `COMPOSE_FILE` selects (default `compose.yml`), as abra joins them to the recipe.
pub fn compose_files(checkout: &Path, vars: &BTreeMap<String, String>) -> Vec<PathBuf> {
    let list = vars
        .get("COMPOSE_FILE")
        .filter(|s| !s.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| "compose.yml".into());
    list.split(':')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|f| checkout.join(f))
        .collect()
}

/// Loads the compose files of `checkout` with an app env already assembled.
pub fn load_with_env(
    checkout: &Path,
    stack: &str,
    env: EnvFile,
) -> Result<StackSpec, ComposeError> {
    let files = compose_files(checkout, &env.vars);
    let first = files
        .first()
        .cloned()
        .unwrap_or_else(|| checkout.join("compose.yml"));
    if !first.exists() {
        return Err(ComposeError::NoComposeFile {
            checkout: checkout.to_path_buf(),
            wanted: first,
        });
    }
    let base = first.parent().unwrap_or(checkout).to_path_buf();
    let ctx = normalize::Ctx {
        base: &base,
        vars: &env.vars,
    };
    let mut origins = Origins::default();
    let mut merged: Option<serde_yaml::Value> = None;
    let mut first_version = None;
    for (i, f) in files.iter().enumerate() {
        let text = read_compose(f)?;
        let (mut v, lines) = parse_file(&text, f, &env.vars)?;
        let own = Checker::new(Origins {
            files: vec![(f.clone(), lines.clone())],
        });
        if i == 0 {
            first_version = schema::version(&v);
        }
        schema::same_version(first_version, &v, &own)?;
        schema::pids_needs_3_9(&v, &own)?;
        normalize::normalize(&mut v, &own, &ctx)?;
        origins.files.push((f.clone(), lines));
        match merged.as_mut() {
            None => merged = Some(v),
            Some(m) => merge::merge_files(m, v),
        }
    }
    let merged = merged.unwrap_or(serde_yaml::Value::Null);
    parse::to_spec(merged, &base, stack, env, files, Checker::new(origins))
}

/// Parses one compose file's text (`path` names it in errors) with merge keys applied and interpolates
/// every string value in it with `vars` (keys are left alone).
pub fn load_str(
    text: &str,
    path: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<serde_yaml::Value, ComposeError> {
    parse_file(text, path, vars).map(|(v, _)| v)
}

/// [`load_str`], with the line of every key path of the file.
fn parse_file(
    text: &str,
    path: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<(serde_yaml::Value, yaml::Lines), ComposeError> {
    let (mut v, lines) = yaml::parse(text).map_err(|e| ComposeError::Yaml {
        path: path.to_path_buf(),
        line: e.line,
        message: e.message,
    })?;
    let ck = Checker::new(Origins {
        files: vec![(path.to_path_buf(), lines)],
    });
    interpolate_value(&mut v, "", &|k: &str| vars.get(k).cloned(), &ck)?;
    let lines = ck.into_origins().files.remove(0).1;
    Ok((v, lines))
}

/// A compose file's text; it must be a regular file of at most [`MAX_COMPOSE_BYTES`].
fn read_compose(f: &Path) -> Result<String, ComposeError> {
    let io = |source| ComposeError::Io {
        path: f.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(f).map_err(io)?;
    if !meta.is_file() || meta.len() > MAX_COMPOSE_BYTES {
        return Err(io(std::io::Error::other(format!(
            "not a regular file of at most {MAX_COMPOSE_BYTES} bytes"
        ))));
    }
    std::fs::read_to_string(f).map_err(io)
}

/// Interpolates every string value (keys are left alone), as Docker does, errors placed at their line.
fn interpolate_value(
    v: &mut serde_yaml::Value,
    key: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    ck: &Checker,
) -> Result<(), ComposeError> {
    use serde_yaml::Value;
    match v {
        Value::String(s) => {
            *s = interpolate(s, lookup).map_err(|e| match e {
                InterpError::Required(var, message) => {
                    let (path, line) = ck.origins().locate(key);
                    ComposeError::MissingVariable {
                        path,
                        line,
                        key: key.to_string(),
                        var,
                        message,
                    }
                }
                InterpError::Syntax(_) => ck.invalid(key, e.to_string()),
            })?;
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate_value(item, &format!("{key}[{i}]"), lookup, ck)?;
            }
        }
        Value::Mapping(m) => {
            for (k, child) in m.iter_mut() {
                let name = keys::scalar_string(k);
                let sub = if key.is_empty() {
                    name
                } else {
                    format!("{key}.{name}")
                };
                interpolate_value(child, &sub, lookup, ck)?;
            }
        }
        Value::Tagged(t) => interpolate_value(&mut t.value, key, lookup, ck)?,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
