//! Turning the merged compose YAML into the typed [`StackSpec`], checking every key on the way: keys
//! swarm ignores are collected as `ignored`, keys nobody handles make the load fail, naming each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_yaml::{Mapping, Value};

use super::merge::scalar_string;
use super::model::*;
use super::values::{parse_bytes, parse_cpus, parse_duration, shell_split};
use super::{ComposeError, EnvFile};

const TOP: &[&str] = &[
    "version", "name", "services", "volumes", "networks", "secrets", "configs",
];
const SERVICE: &[&str] = &[
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
const SERVICE_IGNORED: &[&str] = &[
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
const DEPLOY: &[&str] = &[
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
struct Checker {
    unsupported: Vec<String>,
    ignored: Vec<String>,
    path: PathBuf,
}

impl Checker {
    fn keys(&mut self, m: &Mapping, at: &str, allowed: &[&str], ignored: &[&str]) {
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

    fn invalid(&self, key: &str, message: impl Into<String>) -> ComposeError {
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
        let svc = service(&s, &at, &env.vars, &mut ck)?;
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

fn section(top: &Mapping, key: &str) -> Vec<(String, Value)> {
    top.get(key)
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (scalar_string(k), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn string(m: &Mapping, key: &str) -> Option<String> {
    m.get(key).filter(|v| !v.is_null()).map(scalar_string)
}

fn flag(m: &Mapping, key: &str) -> bool {
    match m.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        // `external: {name: x}` (old syntax) is external too.
        Some(Value::Mapping(_)) => true,
        _ => false,
    }
}

/// A `K: V` mapping (lists were normalized already) as strings; null values become "".
fn kv(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (scalar_string(k), scalar_string(v)))
                .collect()
        })
        .unwrap_or_default()
}

fn list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_sequence)
        .map(|s| s.iter().map(scalar_string).collect())
        .unwrap_or_default()
}

fn words(ck: &Checker, at: &str, v: Option<&Value>) -> Result<Option<Vec<String>>, ComposeError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => shell_split(s).map(Some).map_err(|e| ck.invalid(at, e)),
        Some(Value::Sequence(_)) => Ok(Some(list(v))),
        Some(_) => Err(ck.invalid(at, "expected a string or a list")),
    }
}

fn duration(
    ck: &Checker,
    at: &str,
    m: &Mapping,
    key: &str,
) -> Result<Option<Duration>, ComposeError> {
    string(m, key)
        .map(|s| parse_duration(&s).map_err(|e| ck.invalid(&format!("{at}.{key}"), e)))
        .transpose()
}

fn int(ck: &Checker, at: &str, m: &Mapping, key: &str) -> Result<Option<i64>, ComposeError> {
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

fn service(
    v: &Value,
    at: &str,
    vars: &BTreeMap<String, String>,
    ck: &mut Checker,
) -> Result<ServiceDef, ComposeError> {
    let m = v.as_mapping().cloned().unwrap_or_default();
    ck.keys(&m, at, SERVICE, SERVICE_IGNORED);
    let image = string(&m, "image")
        .ok_or_else(|| ck.invalid(at, "`image` is required (swarm cannot build images)"))?;
    let mut environment = BTreeMap::new();
    for (k, val) in m
        .get("environment")
        .and_then(Value::as_mapping)
        .cloned()
        .unwrap_or_default()
    {
        let k = scalar_string(&k);
        match val {
            Value::Null => {
                if let Some(x) = vars.get(&k) {
                    environment.insert(k, x.clone());
                }
            }
            other => {
                environment.insert(k, scalar_string(&other));
            }
        }
    }
    let mut svc = ServiceDef {
        image,
        command: words(ck, &format!("{at}.command"), m.get("command"))?,
        entrypoint: words(ck, &format!("{at}.entrypoint"), m.get("entrypoint"))?,
        environment,
        labels: kv(m.get("labels")),
        hostname: string(&m, "hostname"),
        user: string(&m, "user"),
        working_dir: string(&m, "working_dir"),
        tty: flag(&m, "tty"),
        stdin_open: flag(&m, "stdin_open"),
        read_only: flag(&m, "read_only"),
        init: m.get("init").and_then(Value::as_bool),
        stop_grace_period: duration(ck, at, &m, "stop_grace_period")?,
        stop_signal: string(&m, "stop_signal"),
        extra_hosts: list(m.get("extra_hosts")),
        cap_add: list(m.get("cap_add")),
        cap_drop: list(m.get("cap_drop")),
        sysctls: kv(m.get("sysctls")),
        ..Default::default()
    };
    for (i, item) in m
        .get("volumes")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        svc.mounts
            .push(mount(ck, &format!("{at}.volumes[{i}]"), item)?);
    }
    svc.secrets = file_refs(ck, &format!("{at}.secrets"), m.get("secrets"))?;
    svc.configs = file_refs(ck, &format!("{at}.configs"), m.get("configs"))?;
    svc.networks = match m.get("networks") {
        Some(Value::Sequence(_)) => list(m.get("networks"))
            .into_iter()
            .map(|name| NetworkRef {
                name,
                aliases: vec![],
            })
            .collect(),
        Some(Value::Mapping(nm)) => nm
            .iter()
            .map(|(k, v)| NetworkRef {
                name: scalar_string(k),
                aliases: v
                    .as_mapping()
                    .map(|x| list(x.get("aliases")))
                    .unwrap_or_default(),
            })
            .collect(),
        _ => Vec::new(),
    };
    if let Some(h) = m.get("healthcheck").and_then(Value::as_mapping) {
        let hat = format!("{at}.healthcheck");
        ck.keys(
            h,
            &hat,
            &[
                "test",
                "interval",
                "timeout",
                "retries",
                "start_period",
                "disable",
            ],
            &[],
        );
        let test = match h.get("test") {
            Some(Value::String(s)) => vec!["CMD-SHELL".to_string(), s.clone()],
            other => list(other),
        };
        let test = if flag(h, "disable") {
            vec!["NONE".to_string()]
        } else {
            test
        };
        svc.healthcheck = Some(HealthcheckDef {
            test,
            interval: duration(ck, &hat, h, "interval")?,
            timeout: duration(ck, &hat, h, "timeout")?,
            start_period: duration(ck, &hat, h, "start_period")?,
            retries: int(ck, &hat, h, "retries")?,
        });
    }
    if let Some(d) = m.get("deploy").and_then(Value::as_mapping) {
        svc.deploy = deploy(ck, &format!("{at}.deploy"), d)?;
    }
    for (i, p) in m
        .get("ports")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        svc.ports.push(port(ck, &format!("{at}.ports[{i}]"), p)?);
    }
    if let Some(l) = m.get("logging").and_then(Value::as_mapping) {
        ck.keys(l, &format!("{at}.logging"), &["driver", "options"], &[]);
        svc.logging = Some(LoggingDef {
            driver: string(l, "driver"),
            options: kv(l.get("options")),
        });
    }
    Ok(svc)
}

fn mount(ck: &mut Checker, at: &str, v: &Value) -> Result<MountDef, ComposeError> {
    if let Some(m) = v.as_mapping() {
        ck.keys(
            m,
            at,
            &[
                "type",
                "source",
                "target",
                "read_only",
                "volume",
                "bind",
                "tmpfs",
                "consistency",
            ],
            &[],
        );
        let kind = match string(m, "type").as_deref().unwrap_or("volume") {
            "volume" => MountKind::Volume,
            "bind" => MountKind::Bind,
            "tmpfs" => MountKind::Tmpfs,
            t => return Err(ck.invalid(at, format!("unsupported mount type {t:?}"))),
        };
        let target = string(m, "target").ok_or_else(|| ck.invalid(at, "`target` is required"))?;
        return Ok(MountDef {
            kind,
            source: string(m, "source"),
            target,
            read_only: flag(m, "read_only"),
        });
    }
    let s = scalar_string(v);
    let parts: Vec<&str> = s.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => (None, t.to_string(), ""),
        [s, t] => (Some(s.to_string()), t.to_string(), ""),
        [s, t, m] => (Some(s.to_string()), t.to_string(), *m),
        _ => return Err(ck.invalid(at, format!("cannot read volume {s:?}"))),
    };
    let kind = match &source {
        Some(src) if src.starts_with('/') || src.starts_with('.') || src.starts_with('~') => {
            MountKind::Bind
        }
        _ => MountKind::Volume,
    };
    Ok(MountDef {
        kind,
        source,
        target,
        read_only: mode.split(',').any(|x| x == "ro"),
    })
}

fn file_refs(ck: &mut Checker, at: &str, v: Option<&Value>) -> Result<Vec<FileRef>, ComposeError> {
    let mut out = Vec::new();
    for (i, item) in v
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let iat = format!("{at}[{i}]");
        match item.as_mapping() {
            Some(m) => {
                ck.keys(m, &iat, &["source", "target", "uid", "gid", "mode"], &[]);
                let source =
                    string(m, "source").ok_or_else(|| ck.invalid(&iat, "`source` is required"))?;
                let mode = match m.get("mode") {
                    Some(Value::Number(n)) => n.as_u64().map(|n| n as u32),
                    Some(Value::String(s)) => {
                        u32::from_str_radix(s.trim_start_matches("0o"), 8).ok()
                    }
                    _ => None,
                };
                out.push(FileRef {
                    source,
                    target: string(m, "target"),
                    uid: string(m, "uid"),
                    gid: string(m, "gid"),
                    mode,
                });
            }
            None => out.push(FileRef {
                source: scalar_string(item),
                target: None,
                uid: None,
                gid: None,
                mode: None,
            }),
        }
    }
    Ok(out)
}

fn deploy(ck: &mut Checker, at: &str, d: &Mapping) -> Result<DeployDef, ComposeError> {
    ck.keys(d, at, DEPLOY, &[]);
    let mut out = DeployDef {
        global: string(d, "mode").as_deref() == Some("global"),
        replicas: int(ck, at, d, "replicas")?.map(|n| n.max(0) as u64),
        labels: kv(d.get("labels")),
        endpoint_mode: string(d, "endpoint_mode"),
        ..Default::default()
    };
    if let Some(r) = d.get("restart_policy").and_then(Value::as_mapping) {
        let rat = format!("{at}.restart_policy");
        ck.keys(
            r,
            &rat,
            &["condition", "delay", "max_attempts", "window"],
            &[],
        );
        out.restart_policy = Some(RestartPolicyDef {
            condition: string(r, "condition"),
            delay: duration(ck, &rat, r, "delay")?,
            max_attempts: int(ck, &rat, r, "max_attempts")?,
            window: duration(ck, &rat, r, "window")?,
        });
    }
    for key in ["update_config", "rollback_config"] {
        if let Some(u) = d.get(key).and_then(Value::as_mapping) {
            let uat = format!("{at}.{key}");
            ck.keys(
                u,
                &uat,
                &[
                    "parallelism",
                    "delay",
                    "failure_action",
                    "monitor",
                    "max_failure_ratio",
                    "order",
                ],
                &[],
            );
            let cfg = UpdateConfigDef {
                parallelism: int(ck, &uat, u, "parallelism")?,
                delay: duration(ck, &uat, u, "delay")?,
                failure_action: string(u, "failure_action"),
                monitor: duration(ck, &uat, u, "monitor")?,
                max_failure_ratio: string(u, "max_failure_ratio").and_then(|s| s.parse().ok()),
                order: string(u, "order"),
            };
            if key == "update_config" {
                out.update_config = Some(cfg)
            } else {
                out.rollback_config = Some(cfg)
            }
        }
    }
    if let Some(r) = d.get("resources").and_then(Value::as_mapping) {
        ck.keys(
            r,
            &format!("{at}.resources"),
            &["limits", "reservations"],
            &[],
        );
        for key in ["limits", "reservations"] {
            if let Some(l) = r.get(key).and_then(Value::as_mapping) {
                let lat = format!("{at}.resources.{key}");
                ck.keys(l, &lat, &["cpus", "memory"], &["pids", "devices"]);
                let res = ResourcesDef {
                    nano_cpus: string(l, "cpus")
                        .map(|s| parse_cpus(&s).map_err(|e| ck.invalid(&lat, e)))
                        .transpose()?,
                    memory: string(l, "memory")
                        .map(|s| parse_bytes(&s).map_err(|e| ck.invalid(&lat, e)))
                        .transpose()?,
                };
                if key == "limits" {
                    out.limits = res
                } else {
                    out.reservations = res
                }
            }
        }
    }
    if let Some(p) = d.get("placement").and_then(Value::as_mapping) {
        ck.keys(
            p,
            &format!("{at}.placement"),
            &["constraints"],
            &["preferences", "max_replicas_per_node"],
        );
        out.constraints = list(p.get("constraints"));
    }
    Ok(out)
}

fn port(ck: &mut Checker, at: &str, v: &Value) -> Result<PortDef, ComposeError> {
    if let Some(m) = v.as_mapping() {
        ck.keys(m, at, &["target", "published", "protocol", "mode"], &[]);
    }
    let num = |s: &str| {
        s.trim()
            .parse::<u16>()
            .map_err(|_| ck.invalid(at, format!("bad port {s:?}")))
    };
    if let Some(m) = v.as_mapping() {
        return Ok(PortDef {
            target: num(&string(m, "target").unwrap_or_default())?,
            published: string(m, "published").map(|s| num(&s)).transpose()?,
            protocol: string(m, "protocol").unwrap_or_else(|| "tcp".into()),
            mode: string(m, "mode").unwrap_or_else(|| "ingress".into()),
        });
    }
    let s = scalar_string(v);
    let (spec, protocol) = s
        .split_once('/')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap_or((s.clone(), "tcp".into()));
    let parts: Vec<&str> = spec.split(':').collect();
    let (published, target) = match parts.as_slice() {
        [t] => (None, num(t)?),
        [p, t] => (Some(num(p)?), num(t)?),
        [_ip, p, t] => (Some(num(p)?), num(t)?),
        _ => return Err(ck.invalid(at, format!("cannot read port {s:?}"))),
    };
    Ok(PortDef {
        target,
        published,
        protocol,
        mode: "ingress".into(),
    })
}
