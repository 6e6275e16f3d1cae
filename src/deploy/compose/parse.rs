//! Turning the merged compose YAML into the typed [`StackSpec`], checking every key on the way: keys
//! swarm ignores are collected as `ignored`, keys nobody handles make the load fail, naming each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_yaml::{Mapping, Value};

use super::merge::scalar_string;
use super::model::*;
use super::values::{parse_duration, shell_split};
use super::{ComposeError, EnvFile};

const TOP: &[&str] = &[
    "version", "name", "services", "volumes", "networks", "secrets", "configs",
];
pub(super) const SERVICE: &[&str] = &[
    "image",
    "command",
    "entrypoint",
    "environment",
    "labels",
    "hostname",
    "user",
    "working_dir",
    "tty",
    "stdin_open",
    "read_only",
    "init",
    "stop_grace_period",
    "stop_signal",
    "volumes",
    "secrets",
    "configs",
    "networks",
    "healthcheck",
    "deploy",
    "ports",
    "extra_hosts",
    "cap_add",
    "cap_drop",
    "sysctls",
    "logging",
];
/// What `docker stack deploy` ignores (it prints "Ignoring unsupported options").
pub(super) const SERVICE_IGNORED: &[&str] = &[
    "build",
    "cgroup_parent",
    "container_name",
    "depends_on",
    "devices",
    "external_links",
    "links",
    "network_mode",
    "restart",
    "security_opt",
    "userns_mode",
    "expose",
];
pub(super) const DEPLOY: &[&str] = &[
    "mode",
    "replicas",
    "labels",
    "restart_policy",
    "update_config",
    "rollback_config",
    "resources",
    "placement",
    "endpoint_mode",
];

/// Collects key problems while walking.
pub(super) struct Checker {
    unsupported: Vec<String>,
    ignored: Vec<String>,
    path: PathBuf,
}

impl Checker {
    pub(super) fn keys(&mut self, m: &Mapping, at: &str, allowed: &[&str], ignored: &[&str]) {
        for k in m.keys() {
            let k = scalar_string(k);
            if k.starts_with("x-") || allowed.contains(&k.as_str()) {
                continue;
            }
            if ignored.contains(&k.as_str()) {
                self.ignored.push(format!("{at}.{k}"));
            } else {
                self.unsupported.push(format!("{at}.{k}"));
            }
        }
    }

    pub(super) fn invalid(&self, key: &str, message: impl Into<String>) -> ComposeError {
        ComposeError::Invalid {
            path: self.path.clone(),
            key: key.to_string(),
            message: message.into(),
        }
    }
}

pub(super) fn to_spec(
    v: Value,
    checkout: &Path,
    stack: &str,
    env: EnvFile,
    files: Vec<PathBuf>,
) -> Result<StackSpec, ComposeError> {
    let path = files
        .first()
        .cloned()
        .unwrap_or_else(|| checkout.join("compose.yml"));
    let mut ck = Checker {
        unsupported: Vec::new(),
        ignored: Vec::new(),
        path,
    };
    let empty = Mapping::new();
    let top = v.as_mapping().unwrap_or(&empty);
    for k in top.keys() {
        let k = scalar_string(k);
        if !k.starts_with("x-") && !TOP.contains(&k.as_str()) {
            ck.unsupported.push(k);
        }
    }
    let mut spec = StackSpec {
        stack: stack.to_string(),
        files,
        secret_lengths: env.secret_lengths.clone(),
        ..Default::default()
    };
    for (name, s) in section(top, "services") {
        let at = format!("services.{name}");
        let svc = super::service::service(&s, &at, &env.vars, &mut ck)?;
        spec.services.insert(name, svc);
    }
    for (name, s) in section(top, "volumes") {
        let m = s.as_mapping().cloned().unwrap_or_default();
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
                name: string(&m, "name"),
                driver: string(&m, "driver"),
                driver_opts: kv(m.get("driver_opts")),
                labels: kv(m.get("labels")),
            },
        );
    }
    for (name, s) in section(top, "networks") {
        let m = s.as_mapping().cloned().unwrap_or_default();
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
                name: string(&m, "name"),
                driver: string(&m, "driver"),
                attachable: flag(&m, "attachable"),
                internal: flag(&m, "internal"),
                driver_opts: kv(m.get("driver_opts")),
                labels: kv(m.get("labels")),
            },
        );
    }
    for (name, s) in section(top, "secrets") {
        let m = s.as_mapping().cloned().unwrap_or_default();
        ck.keys(
            &m,
            &format!("secrets.{name}"),
            &["external", "name", "file"],
            &[],
        );
        spec.secrets.insert(
            name,
            SecretDef {
                external: flag(&m, "external"),
                name: string(&m, "name"),
                file: string(&m, "file").map(|f| checkout.join(f)),
            },
        );
    }
    for (name, s) in section(top, "configs") {
        let m = s.as_mapping().cloned().unwrap_or_default();
        ck.keys(
            &m,
            &format!("configs.{name}"),
            &["external", "name", "file", "template_driver"],
            &[],
        );
        spec.configs.insert(
            name,
            ConfigDef {
                external: flag(&m, "external"),
                name: string(&m, "name"),
                file: string(&m, "file").map(|f| checkout.join(f)),
                template_driver: string(&m, "template_driver"),
            },
        );
    }
    if !ck.unsupported.is_empty() {
        return Err(ComposeError::Unsupported {
            checkout: checkout.to_path_buf(),
            keys: ck.unsupported,
        });
    }
    spec.ignored = ck.ignored;
    spec.env = env.vars;
    Ok(spec)
}

pub(super) fn section(top: &Mapping, key: &str) -> Vec<(String, Value)> {
    top.get(key)
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (scalar_string(k), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn string(m: &Mapping, key: &str) -> Option<String> {
    m.get(key).filter(|v| !v.is_null()).map(scalar_string)
}

pub(super) fn flag(m: &Mapping, key: &str) -> bool {
    match m.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        // `external: {name: x}` (old syntax) is external too.
        Some(Value::Mapping(_)) => true,
        _ => false,
    }
}

/// A `K: V` mapping (lists were normalized already) as strings; null values become "".
pub(super) fn kv(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (scalar_string(k), scalar_string(v)))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_sequence)
        .map(|s| s.iter().map(scalar_string).collect())
        .unwrap_or_default()
}

pub(super) fn words(
    ck: &Checker,
    at: &str,
    v: Option<&Value>,
) -> Result<Option<Vec<String>>, ComposeError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => shell_split(s).map(Some).map_err(|e| ck.invalid(at, e)),
        Some(Value::Sequence(_)) => Ok(Some(list(v))),
        Some(_) => Err(ck.invalid(at, "expected a string or a list")),
    }
}

pub(super) fn duration(
    ck: &Checker,
    at: &str,
    m: &Mapping,
    key: &str,
) -> Result<Option<Duration>, ComposeError> {
    string(m, key)
        .map(|s| parse_duration(&s).map_err(|e| ck.invalid(&format!("{at}.{key}"), e)))
        .transpose()
}

pub(super) fn int(
    ck: &Checker,
    at: &str,
    m: &Mapping,
    key: &str,
) -> Result<Option<i64>, ComposeError> {
    string(m, key)
        .map(|s| {
            s.parse::<i64>().map_err(|_| {
                ck.invalid(
                    &format!("{at}.{key}"),
                    format!("expected a number, got {s:?}"),
                )
            })
        })
        .transpose()
}
