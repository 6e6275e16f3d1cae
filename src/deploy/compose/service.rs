//! One compose service, typed from its canonical form (see `normalize`): container settings, mounts,
//! secret/config references, networks, healthcheck, deploy section and ports, with every key sorted
//! by the [`Checker`] into used, ignored (as Docker ignores it for a swarm service) or unsupported.

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};

use super::deploy_section::deploy;
use super::keys::*;
use super::model::*;
use super::mounts::{mount, port};
use super::ComposeError;

/// Service keys cc-ci reads and deploys.
pub const SERVICE: &[&str] = &[
    "image",
    "command",
    "entrypoint",
    "environment",
    "env_file",
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
    "dns",
    "dns_search",
    "ulimits",
    "restart",
];
/// Service keys `docker stack deploy` accepts but a swarm service does not use: warned about, skipped.
pub const SERVICE_IGNORED: &[&str] = &[
    "build",
    "cgroup_parent",
    "container_name",
    "credential_spec",
    "depends_on",
    "devices",
    "domainname",
    "expose",
    "external_links",
    "ipc",
    "isolation",
    "links",
    "mac_address",
    "network_mode",
    "pid",
    "privileged",
    "security_opt",
    "shm_size",
    "tmpfs",
    "userns_mode",
];
/// Service keys Docker refuses outright, with its reason.
pub const SERVICE_FORBIDDEN: &[(&str, &str)] = &[
    ("extends", "Support for `extends` is not implemented yet."),
    (
        "volume_driver",
        "define a volume using the top-level `volumes` option and specify the driver there",
    ),
    (
        "volumes_from",
        "define a volume using the top-level `volumes` option and reference it from each service",
    ),
    ("cpu_quota", "set resource limits using deploy.resources"),
    ("cpu_shares", "set resource limits using deploy.resources"),
    ("cpuset", "set resource limits using deploy.resources"),
    ("mem_limit", "set resource limits using deploy.resources"),
    (
        "memswap_limit",
        "set resource limits using deploy.resources",
    ),
];

pub fn service(v: &Value, at: &str, ck: &mut Checker) -> Result<ServiceDef, ComposeError> {
    let m = v.as_mapping().cloned().unwrap_or_default();
    if let Some((k, why)) = SERVICE_FORBIDDEN.iter().find(|(k, _)| m.contains_key(*k)) {
        return Err(ck.invalid(
            &format!("{at}.{k}"),
            format!("Docker refuses this key in a stack: {why}"),
        ));
    }
    ck.keys(&m, at, SERVICE, SERVICE_IGNORED);
    let image = string(&m, "image")
        .ok_or_else(|| ck.invalid(at, "`image` is required (swarm cannot build images)"))?;
    let mut svc = ServiceDef {
        image,
        command: words(ck, &format!("{at}.command"), m.get("command"))?,
        entrypoint: words(ck, &format!("{at}.entrypoint"), m.get("entrypoint"))?,
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
        dns: list(m.get("dns")),
        dns_search: list(m.get("dns_search")),
        env_file: list(m.get("env_file")),
        restart: string(&m, "restart"),
        ..Default::default()
    };
    if let Some(env) = m.get("environment").and_then(Value::as_mapping) {
        for (k, val) in env {
            match val {
                Value::Null => svc.environment_unset.push(scalar_string(k)),
                other => {
                    svc.environment
                        .insert(scalar_string(k), scalar_string(other));
                }
            }
        }
    }
    for (i, item) in seq(m.get("volumes")).iter().enumerate() {
        svc.mounts
            .push(mount(ck, &format!("{at}.volumes[{i}]"), item)?);
    }
    svc.secrets = file_refs(ck, &format!("{at}.secrets"), m.get("secrets"))?;
    svc.configs = file_refs(ck, &format!("{at}.configs"), m.get("configs"))?;
    svc.networks = networks(ck, &format!("{at}.networks"), m.get("networks"));
    if let Some(h) = m.get("healthcheck").and_then(Value::as_mapping) {
        svc.healthcheck = Some(healthcheck(ck, &format!("{at}.healthcheck"), h)?);
    }
    if let Some(d) = m.get("deploy").and_then(Value::as_mapping) {
        svc.deploy = deploy(ck, &format!("{at}.deploy"), d)?;
    }
    for (i, p) in seq(m.get("ports")).iter().enumerate() {
        svc.ports.push(port(ck, &format!("{at}.ports[{i}]"), p)?);
    }
    if let Some(l) = m.get("logging").and_then(Value::as_mapping) {
        ck.keys(l, &format!("{at}.logging"), &["driver", "options"], &[]);
        svc.logging = Some(LoggingDef {
            driver: string(l, "driver"),
            options: kv(l.get("options")),
        });
    }
    if let Some(u) = m.get("ulimits").and_then(Value::as_mapping) {
        svc.ulimits = ulimits(ck, &format!("{at}.ulimits"), u)?;
    }
    Ok(svc)
}

fn seq(v: Option<&Value>) -> Vec<Value> {
    v.and_then(Value::as_sequence).cloned().unwrap_or_default()
}

fn networks(ck: &mut Checker, at: &str, v: Option<&Value>) -> Vec<NetworkRef> {
    let Some(nm) = v.and_then(Value::as_mapping) else {
        return Vec::new();
    };
    nm.iter()
        .map(|(k, v)| {
            let name = scalar_string(k);
            let aliases = match v.as_mapping() {
                Some(x) => {
                    ck.keys(
                        x,
                        &format!("{at}.{name}"),
                        &["aliases"],
                        &["ipv4_address", "ipv6_address"],
                    );
                    list(x.get("aliases"))
                }
                None => Vec::new(),
            };
            NetworkRef { name, aliases }
        })
        .collect()
}

fn healthcheck(ck: &mut Checker, at: &str, h: &Mapping) -> Result<HealthcheckDef, ComposeError> {
    ck.keys(
        h,
        at,
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
    Ok(HealthcheckDef {
        test,
        disable: flag(h, "disable"),
        interval: duration(ck, at, h, "interval")?,
        timeout: duration(ck, at, h, "timeout")?,
        start_period: duration(ck, at, h, "start_period")?,
        retries: int(ck, at, h, "retries")?,
    })
}

fn ulimits(
    ck: &mut Checker,
    at: &str,
    u: &Mapping,
) -> Result<BTreeMap<String, UlimitDef>, ComposeError> {
    let mut out = BTreeMap::new();
    for (k, v) in u {
        let name = scalar_string(k);
        let uat = format!("{at}.{name}");
        let def = match v {
            Value::Mapping(r) => {
                ck.keys(r, &uat, &["soft", "hard"], &[]);
                let soft = int(ck, &uat, r, "soft")?;
                let hard = int(ck, &uat, r, "hard")?;
                match (soft, hard) {
                    (Some(soft), Some(hard)) => UlimitDef::Range { soft, hard },
                    _ => return Err(ck.invalid(&uat, "needs both `soft` and `hard`")),
                }
            }
            other => UlimitDef::Single(
                scalar_string(other)
                    .parse()
                    .map_err(|_| ck.invalid(&uat, "expected a number or {soft, hard}"))?,
            ),
        };
        out.insert(name, def);
    }
    Ok(out)
}

fn file_refs(ck: &mut Checker, at: &str, v: Option<&Value>) -> Result<Vec<FileRef>, ComposeError> {
    let mut out = Vec::new();
    for (i, item) in seq(v).iter().enumerate() {
        let iat = format!("{at}[{i}]");
        let Some(m) = item.as_mapping() else {
            return Err(ck.invalid(&iat, "expected a name or {source, target, …}"));
        };
        ck.keys(m, &iat, &["source", "target", "uid", "gid", "mode"], &[]);
        let source = string(m, "source").ok_or_else(|| ck.invalid(&iat, "`source` is required"))?;
        out.push(FileRef {
            source,
            target: string(m, "target"),
            uid: string(m, "uid"),
            gid: string(m, "gid"),
            mode: mode(ck, &iat, m)?,
        });
    }
    Ok(out)
}
