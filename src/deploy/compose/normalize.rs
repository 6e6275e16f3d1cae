//! One compose file, after interpolation, rewritten into the canonical form Docker's loader gives it
//! before overlays are merged: `environment`/`labels`/`sysctls` as mappings (bare names resolved
//! from the app env, `env_file` read in), `networks` as a mapping, `extra_hosts` as a list, ports,
//! volumes, secrets and configs in long form. Docker does this per file, so an overlay merges entry by
//! entry (volumes by target, secrets by source, …). Values Docker refuses (a boolean env value) are
//! errors here too.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::{Mapping, Value};

use super::keys::{scalar_string, Checker};
use super::mounts::{bind_source, port_short, volume_short};
use super::ComposeError;

/// What normalizing needs to know.
pub struct Ctx<'a> {
    pub base: &'a Path,
    pub vars: &'a BTreeMap<String, String>,
}

/// Normalizes every service of one file in place.
pub fn normalize(v: &mut Value, ck: &Checker, ctx: &Ctx) -> Result<(), ComposeError> {
    let Some(services) = v.get_mut("services").and_then(Value::as_mapping_mut) else {
        return Ok(());
    };
    for (name, svc) in services.iter_mut() {
        let at = format!("services.{}", scalar_string(name));
        if let Some(m) = svc.as_mapping_mut() {
            service(m, &at, ck, ctx)?;
        }
    }
    Ok(())
}

fn service(m: &mut Mapping, at: &str, ck: &Checker, ctx: &Ctx) -> Result<(), ComposeError> {
    let mut env = Mapping::new();
    if let Some(files) = m.get("env_file") {
        for f in super::keys::list(Some(files)) {
            for (k, v) in env_file(&f, &format!("{at}.env_file"), ck, ctx)? {
                env.insert(Value::from(k), v.map(Value::from).unwrap_or(Value::Null));
            }
        }
    }
    if let Some(e) = m.get("environment") {
        for (k, v) in kv_map(e, &format!("{at}.environment"), true, ck)? {
            env.insert(k, v);
        }
    }
    if !env.is_empty() || m.contains_key("environment") || m.contains_key("env_file") {
        resolve_env(&mut env, ctx.vars);
        m.insert("environment".into(), Value::Mapping(env));
    }
    for key in ["labels", "sysctls"] {
        if let Some(l) = m.get(key) {
            let mapped = kv_map(l, &format!("{at}.{key}"), false, ck)?;
            m.insert(key.into(), Value::Mapping(mapped));
        }
    }
    if let Some(d) = m.get_mut("deploy").and_then(Value::as_mapping_mut) {
        if let Some(l) = d.get("labels") {
            let mapped = kv_map(l, &format!("{at}.deploy.labels"), false, ck)?;
            d.insert("labels".into(), Value::Mapping(mapped));
        }
    }
    if let Some(Value::Mapping(h)) = m.get("extra_hosts") {
        let list: Vec<Value> = h
            .iter()
            .map(|(k, v)| Value::from(format!("{}:{}", scalar_string(k), scalar_string(v))))
            .collect();
        m.insert("extra_hosts".into(), Value::Sequence(list));
    }
    if let Some(Value::Sequence(nets)) = m.get("networks") {
        let mut map = Mapping::new();
        for n in nets {
            map.insert(Value::from(scalar_string(n)), Value::Null);
        }
        m.insert("networks".into(), Value::Mapping(map));
    }
    if let Some(Value::Sequence(ports)) = m.get("ports") {
        let mut out = Vec::new();
        for (i, p) in ports.iter().enumerate() {
            match p {
                Value::Mapping(_) => out.push(p.clone()),
                other => out.extend(
                    port_short(&scalar_string(other))
                        .map_err(|e| ck.invalid(&format!("{at}.ports[{i}]"), e))?,
                ),
            }
        }
        m.insert("ports".into(), Value::Sequence(out));
    }
    if let Some(Value::Sequence(vols)) = m.get("volumes") {
        let mut out = Vec::new();
        for (i, item) in vols.iter().enumerate() {
            out.push(match item {
                Value::Mapping(long) => long_volume(long.clone(), ctx),
                other => volume_short(&scalar_string(other), ctx.base, ctx.vars)
                    .map_err(|e| ck.invalid(&format!("{at}.volumes[{i}]"), e))?,
            });
        }
        m.insert("volumes".into(), Value::Sequence(out));
    }
    for key in ["secrets", "configs"] {
        if let Some(Value::Sequence(items)) = m.get(key) {
            let out: Vec<Value> = items
                .iter()
                .map(|item| match item {
                    Value::Mapping(_) => item.clone(),
                    other => {
                        let mut s = Mapping::new();
                        s.insert("source".into(), Value::from(scalar_string(other)));
                        Value::Mapping(s)
                    }
                })
                .collect();
            m.insert(key.into(), Value::Sequence(out));
        }
    }
    Ok(())
}

/// A long-form bind's relative source, resolved as Docker resolves it.
fn long_volume(mut long: Mapping, ctx: &Ctx) -> Value {
    let bind = long.get("type").and_then(Value::as_str) == Some("bind");
    if let (true, Some(src)) = (bind, long.get("source").and_then(Value::as_str)) {
        let resolved = bind_source(src, ctx.base, ctx.vars);
        long.insert("source".into(), Value::from(resolved));
    }
    Value::Mapping(long)
}

/// `environment`, `labels`, `sysctls`: a `K=V` list or a mapping, as a mapping of strings. A bare
/// list entry is null for the environment (`with_nil`) and empty otherwise; numbers become text as
/// Go prints them; a boolean is refused, as Docker refuses it.
fn kv_map(v: &Value, at: &str, with_nil: bool, ck: &Checker) -> Result<Mapping, ComposeError> {
    let mut out = Mapping::new();
    match v {
        Value::Sequence(items) => {
            for item in items {
                let s = scalar_string(item);
                match s.split_once('=') {
                    Some((a, b)) => out.insert(Value::from(a), Value::from(b)),
                    None if with_nil => out.insert(Value::from(s), Value::Null),
                    None => out.insert(Value::from(s), Value::from("")),
                };
            }
        }
        Value::Mapping(m) => {
            for (k, val) in m {
                let key = scalar_string(k);
                let val = match val {
                    Value::Bool(_) => {
                        return Err(ck.invalid(
                            &format!("{at}.{key}"),
                            "must be a string, number or null, as Docker requires (hint: quote it, e.g. \"true\")",
                        ))
                    }
                    Value::Null if with_nil => Value::Null,
                    other => Value::from(scalar_string(other)),
                };
                out.insert(Value::from(key), val);
            }
        }
        Value::Null => {}
        _ => return Err(ck.invalid(at, "expected a list of KEY=VALUE or a mapping")),
    }
    Ok(out)
}

/// Docker's rule: a variable with no value, or an empty one, takes the app env's value when the app
/// env has the name.
fn resolve_env(env: &mut Mapping, vars: &BTreeMap<String, String>) {
    for (k, v) in env.iter_mut() {
        let empty = v.is_null() || v.as_str() == Some("");
        if let (true, Some(x)) = (empty, vars.get(&scalar_string(k))) {
            *v = Value::from(x.clone());
        }
    }
}

/// The largest env file read (an env file is small).
const MAX_ENV_FILE: u64 = 1 << 20;

/// An `env_file` as Docker reads it: `KEY=VALUE` taken literally, `KEY` alone looked up in the app
/// env (Docker looks in its own process environment), `#` lines and blank lines skipped.
fn env_file(
    file: &str,
    at: &str,
    ck: &Checker,
    ctx: &Ctx,
) -> Result<Vec<(String, Option<String>)>, ComposeError> {
    let path = super::keys::resolve_path(ctx.base, file);
    let meta =
        std::fs::metadata(&path).map_err(|e| ck.invalid(at, format!("{}: {e}", path.display())))?;
    if !meta.is_file() || meta.len() > MAX_ENV_FILE {
        return Err(ck.invalid(
            at,
            format!(
                "{}: not a regular file of at most {MAX_ENV_FILE} bytes",
                path.display()
            ),
        ));
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ck.invalid(at, format!("{}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (line.trim_end().to_string(), None),
        };
        if key.contains(char::is_whitespace) || key.is_empty() {
            return Err(ck.invalid(
                at,
                format!(
                    "{}:{}: variable {key:?} contains whitespace",
                    path.display(),
                    n + 1
                ),
            ));
        }
        let value = value.or_else(|| ctx.vars.get(&key).cloned());
        out.push((key, value));
    }
    Ok(out)
}
