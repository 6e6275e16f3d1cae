//! Turning the merged compose YAML into the typed [`StackSpec`], checking every key on the way: keys
//! swarm ignores are collected as `ignored` (printed as warnings), keys nobody handles make the load
//! fail, naming each.

use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use super::keys::*;
use super::model::*;
use super::service::service;
use super::{ComposeError, EnvFile};

const TOP: &[&str] = &[
    "version", "services", "volumes", "networks", "secrets", "configs",
];

/// Types the merged document `v`. `base` is the recipe directory (relative files resolve there).
pub fn to_spec(
    v: Value,
    base: &Path,
    stack: &str,
    env: EnvFile,
    files: Vec<PathBuf>,
    mut ck: Checker,
) -> Result<StackSpec, ComposeError> {
    let empty = Mapping::new();
    let top = v.as_mapping().unwrap_or(&empty);
    ck.keys(top, "", TOP, &[]);
    let mut spec = StackSpec {
        stack: stack.to_string(),
        version: string(top, "version"),
        files,
        secret_lengths: env.secret_lengths.clone(),
        ..Default::default()
    };
    for (name, s) in section(top, "services") {
        let at = format!("services.{name}");
        let svc = service(&s, &at, &mut ck)?;
        spec.services.insert(name, svc);
    }
    for (name, s) in section(top, "volumes") {
        let m = definition(&ck, "volumes", &name, &s)?;
        ck.keys(
            &m,
            &format!("volumes.{name}"),
            &["external", "name", "driver", "driver_opts", "labels"],
            &[],
        );
        spec.volumes.insert(
            name,
            VolumeDef {
                external: flag(&m, "external"),
                name: external_name(&m),
                driver: string(&m, "driver"),
                driver_opts: kv(m.get("driver_opts")),
                labels: labels(&m),
            },
        );
    }
    for (name, s) in section(top, "networks") {
        let m = definition(&ck, "networks", &name, &s)?;
        ck.keys(
            &m,
            &format!("networks.{name}"),
            &[
                "external",
                "name",
                "driver",
                "attachable",
                "internal",
                "driver_opts",
                "labels",
            ],
            &["ipam"],
        );
        spec.networks.insert(
            name,
            NetworkDef {
                external: flag(&m, "external"),
                name: external_name(&m),
                driver: string(&m, "driver"),
                attachable: flag(&m, "attachable"),
                internal: flag(&m, "internal"),
                driver_opts: kv(m.get("driver_opts")),
                labels: labels(&m),
            },
        );
    }
    for (name, s) in section(top, "secrets") {
        let m = definition(&ck, "secrets", &name, &s)?;
        ck.keys(
            &m,
            &format!("secrets.{name}"),
            &["external", "name", "file", "labels", "template_driver"],
            &[],
        );
        spec.secrets.insert(
            name,
            SecretDef {
                external: flag(&m, "external"),
                name: external_name(&m),
                file: string(&m, "file").map(|f| resolve_path(base, &f)),
                labels: labels(&m),
                template_driver: string(&m, "template_driver"),
            },
        );
    }
    for (name, s) in section(top, "configs") {
        let m = definition(&ck, "configs", &name, &s)?;
        ck.keys(
            &m,
            &format!("configs.{name}"),
            &["external", "name", "file", "template_driver", "labels"],
            &[],
        );
        spec.configs.insert(
            name,
            ConfigDef {
                external: flag(&m, "external"),
                name: external_name(&m),
                file: string(&m, "file").map(|f| resolve_path(base, &f)),
                template_driver: string(&m, "template_driver"),
                labels: labels(&m),
            },
        );
    }
    let (unsupported, ignored, origins) = ck.finish();
    if let Some(first) = unsupported.first() {
        let (path, line) = origins.locate(first);
        let places = unsupported
            .iter()
            .map(|k| match origins.locate(k) {
                (f, Some(l)) => format!("{}:{l}", file_name(&f)),
                (f, None) => file_name(&f),
            })
            .collect();
        return Err(ComposeError::Unsupported {
            path,
            line,
            keys: unsupported,
            places,
        });
    }
    spec.ignored = ignored;
    spec.env = env.vars;
    Ok(spec)
}

fn file_name(f: &Path) -> String {
    f.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A top-level definition: a mapping, or nothing (`data:`).
fn definition(ck: &Checker, section: &str, name: &str, v: &Value) -> Result<Mapping, ComposeError> {
    match v {
        Value::Mapping(m) => Ok(m.clone()),
        Value::Null => Ok(Mapping::new()),
        _ => Err(ck.invalid(&format!("{section}.{name}"), "expected a mapping")),
    }
}

/// The `name:`, or the old `external: {name: …}`.
fn external_name(m: &Mapping) -> Option<String> {
    string(m, "name").or_else(|| {
        m.get("external")
            .and_then(Value::as_mapping)
            .and_then(|e| string(e, "name"))
    })
}

fn labels(m: &Mapping) -> std::collections::BTreeMap<String, String> {
    match m.get("labels") {
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|i| {
                let s = scalar_string(i);
                match s.split_once('=') {
                    Some((a, b)) => (a.to_string(), b.to_string()),
                    None => (s, String::new()),
                }
            })
            .collect(),
        other => kv(other),
    }
}
