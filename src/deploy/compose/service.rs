//! One compose service, typed: its container settings, mounts, secret/config references, networks,
//! healthcheck, deploy section and ports, with every key checked (see `parse`).

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};

use super::merge::scalar_string;
use super::model::*;
use super::parse::*;
use super::values::{parse_bytes, parse_cpus};
use super::ComposeError;

pub(super) fn service(
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
