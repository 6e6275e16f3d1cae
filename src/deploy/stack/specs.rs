//! Turning a typed compose service into the engine's `ServiceSpec`, the way `docker stack deploy`
//! does: names scoped by the stack, the namespace label everywhere, the service name as a network
//! alias, `command` as args and `entrypoint` as command. Pure conversion: no engine calls.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::models::*;
use serde::de::DeserializeOwned;

use crate::deploy::compose::{
    DeployDef, GenericResourceDef, MountKind, ServiceDef, StackSpec, UlimitDef, UpdateConfigDef,
};

/// Ids of the secrets and configs the service may reference, by top-level key: (swarm name, id).
#[derive(Debug, Default, Clone)]
pub struct Refs {
    pub secrets: BTreeMap<String, (String, String)>,
    pub configs: BTreeMap<String, (String, String)>,
}

fn ns(d: Duration) -> i64 {
    d.as_nanos() as i64
}

/// Parses an engine enum from its wire name (`rollback`, `stop-first`, `on-failure`, …).
fn wire<T: DeserializeOwned>(what: &str, s: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| format!("unsupported {what} {s:?}"))
}

/// The swarm name of a network a service attaches to.
pub fn network_name(spec: &StackSpec, key: &str) -> String {
    match spec.networks.get(key) {
        Some(n) if n.external => n.name.clone().unwrap_or_else(|| key.to_string()),
        Some(n) => spec.scoped(key, &n.name),
        None => format!("{}_{key}", spec.stack),
    }
}

/// The swarm name of a named volume.
pub fn volume_name(spec: &StackSpec, key: &str) -> String {
    match spec.volumes.get(key) {
        Some(v) if v.external => v.name.clone().unwrap_or_else(|| key.to_string()),
        Some(v) => spec.scoped(key, &v.name),
        None => format!("{}_{key}", spec.stack),
    }
}

/// The networks a service joins (compose's implicit `default` when it names none).
pub fn service_networks(svc: &ServiceDef) -> Vec<(String, Vec<String>)> {
    if svc.networks.is_empty() {
        return vec![("default".to_string(), vec![])];
    }
    svc.networks
        .iter()
        .map(|n| (n.name.clone(), n.aliases.clone()))
        .collect()
}

/// Builds the engine spec of service `key`. `service_labels` are the final deploy labels (version,
/// chaos, run labels); `base` are the run labels every object carries.
pub fn service_spec(
    spec: &StackSpec,
    key: &str,
    svc: &ServiceDef,
    service_labels: &BTreeMap<String, String>,
    base: &HashMap<String, String>,
    refs: &Refs,
) -> Result<ServiceSpec, String> {
    let at = |m: String| format!("service {key}: {m}");
    let d = &svc.deploy;
    let task_template = TaskSpec {
        container_spec: Some(container_spec(spec, svc, base, refs).map_err(at)?),
        resources: Some(resources(d)),
        restart_policy: restart_policy(svc).map_err(at)?,
        placement: placement(d),
        networks: Some(networks(spec, key, svc)),
        log_driver: svc.logging.as_ref().map(|l| TaskSpecLogDriver {
            name: l.driver.clone(),
            options: Some(l.options.clone().into_iter().collect()),
        }),
        ..Default::default()
    };
    let update_config = d
        .update_config
        .as_ref()
        .map(update)
        .transpose()
        .map_err(at)?;
    let rollback_config = d
        .rollback_config
        .as_ref()
        .map(rollback)
        .transpose()
        .map_err(at)?;
    let endpoint_spec = EndpointSpec {
        mode: d
            .endpoint_mode
            .as_deref()
            .map(|m| wire("endpoint mode", m))
            .transpose()
            .map_err(at)?,
        ports: Some(ports(svc).map_err(at)?),
    };
    Ok(ServiceSpec {
        name: Some(format!("{}_{key}", spec.stack)),
        labels: Some(service_labels.clone().into_iter().collect()),
        task_template: Some(task_template),
        mode: Some(mode(d)),
        update_config,
        rollback_config,
        endpoint_spec: Some(endpoint_spec),
        ..Default::default()
    })
}

/// The task's container: image, command, environment, mounts, secrets, configs, healthcheck and the
/// rest of the service's container-level keys.
fn container_spec(
    spec: &StackSpec,
    svc: &ServiceDef,
    base: &HashMap<String, String>,
    refs: &Refs,
) -> Result<TaskSpecContainerSpec, String> {
    let mut container_labels: HashMap<String, String> = svc.labels.clone().into_iter().collect();
    container_labels.extend(base.clone());
    let mounts = mounts(spec, svc, base)?;
    let secrets = secrets(svc, refs)?;
    let configs = configs(svc, refs)?;
    let health_check = health_check(svc);
    Ok(TaskSpecContainerSpec {
        image: Some(svc.image.clone()),
        labels: Some(container_labels),
        command: svc.entrypoint.clone(),
        args: svc.command.clone(),
        hostname: svc.hostname.clone(),
        env: Some(
            svc.environment
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
        ),
        dir: svc.working_dir.clone(),
        user: svc.user.clone(),
        tty: Some(svc.tty),
        open_stdin: Some(svc.stdin_open),
        read_only: Some(svc.read_only),
        mounts: Some(mounts),
        stop_signal: svc.stop_signal.clone(),
        stop_grace_period: svc.stop_grace_period.map(ns),
        health_check,
        hosts: (!svc.extra_hosts.is_empty())
            .then(|| svc.extra_hosts.iter().map(|h| extra_host(h)).collect()),
        secrets: Some(secrets),
        configs: Some(configs),
        init: svc.init,
        sysctls: (!svc.sysctls.is_empty()).then(|| svc.sysctls.clone().into_iter().collect()),
        capability_add: (!svc.cap_add.is_empty()).then(|| svc.cap_add.clone()),
        capability_drop: (!svc.cap_drop.is_empty()).then(|| svc.cap_drop.clone()),
        dns_config: (!svc.dns.is_empty() || !svc.dns_search.is_empty()).then(|| {
            TaskSpecContainerSpecDnsConfig {
                nameservers: (!svc.dns.is_empty()).then(|| svc.dns.clone()),
                search: (!svc.dns_search.is_empty()).then(|| svc.dns_search.clone()),
                options: None,
            }
        }),
        ulimits: (!svc.ulimits.is_empty()).then(|| {
            svc.ulimits
                .iter()
                .map(|(name, u)| {
                    let (soft, hard) = match u {
                        UlimitDef::Single(n) => (*n, *n),
                        UlimitDef::Range { soft, hard } => (*soft, *hard),
                    };
                    ResourcesUlimits {
                        name: Some(name.clone()),
                        soft: Some(soft),
                        hard: Some(hard),
                    }
                })
                .collect()
        }),
        ..Default::default()
    })
}

/// The service's mounts: named volumes scoped by the stack (their labels and driver), binds, tmpfs.
fn mounts(
    spec: &StackSpec,
    svc: &ServiceDef,
    base: &HashMap<String, String>,
) -> Result<Vec<Mount>, String> {
    let mut mounts = Vec::new();
    for m in &svc.mounts {
        let (typ, source, volume_options) = match m.kind {
            MountKind::Volume => {
                let source = m.source.as_ref().map(|s| volume_name(spec, s));
                let def = m
                    .source
                    .as_ref()
                    .and_then(|s| spec.volumes.get(s))
                    .cloned()
                    .unwrap_or_default();
                let mut labels: HashMap<String, String> = def.labels.clone().into_iter().collect();
                labels.extend(base.clone());
                let driver_config = def.driver.clone().map(|d| MountVolumeOptionsDriverConfig {
                    name: Some(d),
                    options: Some(def.driver_opts.clone().into_iter().collect()),
                });
                let opts = MountVolumeOptions {
                    labels: Some(labels),
                    driver_config,
                    ..Default::default()
                };
                (MountType::VOLUME, source, Some(opts))
            }
            MountKind::Bind => (MountType::BIND, m.source.clone(), None),
            MountKind::Tmpfs => (MountType::TMPFS, None, None),
        };
        let volume_options = volume_options.map(|o| MountVolumeOptions {
            no_copy: m.volume_nocopy.then_some(true),
            ..o
        });
        let bind_options = m
            .bind_propagation
            .as_deref()
            .map(|p| -> Result<MountBindOptions, String> {
                Ok(MountBindOptions {
                    propagation: Some(wire("bind propagation", p)?),
                    ..Default::default()
                })
            })
            .transpose()?;
        mounts.push(Mount {
            target: Some(m.target.clone()),
            source,
            typ: Some(typ),
            read_only: Some(m.read_only),
            volume_options,
            bind_options,
            tmpfs_options: m.tmpfs_size.map(|size| MountTmpfsOptions {
                size_bytes: Some(size),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    Ok(mounts)
}

/// The secrets the service references, by their swarm names and ids.
fn secrets(svc: &ServiceDef, refs: &Refs) -> Result<Vec<TaskSpecContainerSpecSecrets>, String> {
    let mut secrets = Vec::new();
    for r in &svc.secrets {
        let (name, id) = refs
            .secrets
            .get(&r.source)
            .cloned()
            .ok_or_else(|| format!("secret {:?} is not declared at the top level", r.source))?;
        secrets.push(TaskSpecContainerSpecSecrets {
            file: Some(TaskSpecContainerSpecFile {
                name: Some(r.target.clone().unwrap_or_else(|| r.source.clone())),
                uid: Some(r.uid.clone().unwrap_or_else(|| "0".into())),
                gid: Some(r.gid.clone().unwrap_or_else(|| "0".into())),
                mode: Some(r.mode.unwrap_or(0o444)),
            }),
            secret_id: Some(id),
            secret_name: Some(name),
        });
    }
    Ok(secrets)
}

/// The configs the service references, by their swarm names and ids.
fn configs(svc: &ServiceDef, refs: &Refs) -> Result<Vec<TaskSpecContainerSpecConfigs>, String> {
    let mut configs = Vec::new();
    for r in &svc.configs {
        let (name, id) = refs
            .configs
            .get(&r.source)
            .cloned()
            .ok_or_else(|| format!("config {:?} is not declared at the top level", r.source))?;
        configs.push(TaskSpecContainerSpecConfigs {
            file: Some(TaskSpecContainerSpecFile1 {
                name: Some(r.target.clone().unwrap_or_else(|| format!("/{}", r.source))),
                uid: Some(r.uid.clone().unwrap_or_else(|| "0".into())),
                gid: Some(r.gid.clone().unwrap_or_else(|| "0".into())),
                mode: Some(r.mode.unwrap_or(0o444)),
            }),
            config_id: Some(id),
            config_name: Some(name),
            ..Default::default()
        });
    }
    Ok(configs)
}

/// The healthcheck (`disable: true` as the engine's `NONE`).
fn health_check(svc: &ServiceDef) -> Option<HealthConfig> {
    svc.healthcheck.as_ref().map(|h| HealthConfig {
        test: Some(if h.disable {
            vec!["NONE".to_string()]
        } else {
            h.test.clone()
        }),
        interval: h.interval.map(ns),
        timeout: h.timeout.map(ns),
        retries: h.retries,
        start_period: h.start_period.map(ns),
        ..Default::default()
    })
}

/// `deploy.restart_policy`, else the service-level `restart:` as swarm reads it.
fn restart_policy(svc: &ServiceDef) -> Result<Option<TaskSpecRestartPolicy>, String> {
    let d = &svc.deploy;
    Ok(match &d.restart_policy {
        None => svc
            .restart
            .as_deref()
            .map(restart_fallback)
            .transpose()?
            .flatten(),
        Some(r) => Some(TaskSpecRestartPolicy {
            condition: r
                .condition
                .as_deref()
                .map(|c| wire("restart condition", c))
                .transpose()?,
            delay: r.delay.map(ns),
            max_attempts: r.max_attempts,
            window: r.window.map(ns),
        }),
    })
}

/// `deploy.resources` limits and reservations.
fn resources(d: &DeployDef) -> TaskSpecResources {
    TaskSpecResources {
        limits: Some(Limit {
            nano_cpus: d.limits.nano_cpus,
            memory_bytes: d.limits.memory,
            pids: d.limits.pids,
        }),
        reservations: Some(ResourceObject {
            nano_cpus: d.reservations.nano_cpus,
            memory_bytes: d.reservations.memory,
            generic_resources: generic_resources(&d.reservations.generic),
        }),
        ..Default::default()
    }
}

/// The networks the service joins, its name first among each network's aliases.
fn networks(spec: &StackSpec, key: &str, svc: &ServiceDef) -> Vec<NetworkAttachmentConfig> {
    service_networks(svc)
        .into_iter()
        .map(|(n, mut aliases)| {
            aliases.insert(0, key.to_string());
            NetworkAttachmentConfig {
                target: Some(network_name(spec, &n)),
                aliases: Some(aliases),
                driver_opts: None,
            }
        })
        .collect()
}

/// Global or replicated (one replica unless `deploy.replicas` says otherwise).
fn mode(d: &DeployDef) -> ServiceSpecMode {
    if d.global() {
        ServiceSpecMode {
            global: Some(HashMap::new()),
            ..Default::default()
        }
    } else {
        ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(d.replicas.unwrap_or(1) as i64),
            }),
            ..Default::default()
        }
    }
}

/// The published ports (protocol tcp and mode ingress unless given).
fn ports(svc: &ServiceDef) -> Result<Vec<EndpointPortConfig>, String> {
    svc.ports
        .iter()
        .map(|p| -> Result<EndpointPortConfig, String> {
            Ok(EndpointPortConfig {
                protocol: Some(wire(
                    "port protocol",
                    p.protocol.as_deref().unwrap_or("tcp"),
                )?),
                target_port: Some(p.target as i64),
                published_port: p.published.map(|x| x as i64),
                publish_mode: Some(wire("port mode", p.mode.as_deref().unwrap_or("ingress"))?),
                ..Default::default()
            })
        })
        .collect::<Result<Vec<_>, _>>()
}

/// The service-level `restart:` as swarm reads it when `deploy.restart_policy` is absent.
fn restart_fallback(r: &str) -> Result<Option<TaskSpecRestartPolicy>, String> {
    let (name, count) = match r.split_once(':') {
        Some((n, c)) => (
            n,
            Some(c.parse::<i64>().map_err(|_| format!("bad restart {r:?}"))?),
        ),
        None => (r, None),
    };
    let condition = match name {
        "no" | "" => return Ok(None),
        "always" | "unless-stopped" => TaskSpecRestartPolicyConditionEnum::ANY,
        "on-failure" => TaskSpecRestartPolicyConditionEnum::ON_FAILURE,
        other => return Err(format!("unknown restart policy {other:?}")),
    };
    Ok(Some(TaskSpecRestartPolicy {
        condition: Some(condition),
        max_attempts: count.filter(|c| *c > 0),
        ..Default::default()
    }))
}

/// compose `host:ip` (or `host=ip`) → the engine's `ip host`.
/// Constraints, spread preferences and the per-node replica cap, when any is set.
fn placement(d: &DeployDef) -> Option<TaskSpecPlacement> {
    let none = d.constraints.is_empty() && d.preferences.is_empty();
    if none && d.max_replicas_per_node.is_none() {
        return None;
    }
    Some(TaskSpecPlacement {
        constraints: (!d.constraints.is_empty()).then(|| d.constraints.clone()),
        preferences: (!d.preferences.is_empty()).then(|| {
            d.preferences
                .iter()
                .map(|p| TaskSpecPlacementPreferences {
                    spread: Some(TaskSpecPlacementSpread {
                        spread_descriptor: Some(p.clone()),
                    }),
                })
                .collect()
        }),
        max_replicas: d.max_replicas_per_node.map(|n| n as i64),
        ..Default::default()
    })
}

fn generic_resources(g: &[GenericResourceDef]) -> Option<GenericResources> {
    (!g.is_empty()).then(|| {
        g.iter()
            .map(|r| GenericResourcesInner {
                discrete_resource_spec: Some(GenericResourcesInnerDiscreteResourceSpec {
                    kind: Some(r.kind.clone()),
                    value: Some(r.value),
                }),
                ..Default::default()
            })
            .collect()
    })
}

fn extra_host(h: &str) -> String {
    match h.split_once([':', '=']) {
        Some((host, ip)) => format!("{ip} {host}"),
        None => h.to_string(),
    }
}

fn update(u: &UpdateConfigDef) -> Result<ServiceSpecUpdateConfig, String> {
    Ok(ServiceSpecUpdateConfig {
        parallelism: Some(u.parallelism.unwrap_or(1)),
        delay: u.delay.map(ns),
        failure_action: u
            .failure_action
            .as_deref()
            .map(|f| wire("failure_action", f))
            .transpose()?,
        monitor: u.monitor.map(ns),
        max_failure_ratio: u.max_failure_ratio,
        order: u
            .order
            .as_deref()
            .map(|o| wire("update order", o))
            .transpose()?,
    })
}

fn rollback(u: &UpdateConfigDef) -> Result<ServiceSpecRollbackConfig, String> {
    Ok(ServiceSpecRollbackConfig {
        parallelism: Some(u.parallelism.unwrap_or(1)),
        delay: u.delay.map(ns),
        failure_action: u
            .failure_action
            .as_deref()
            .map(|f| wire("rollback failure_action", f))
            .transpose()?,
        monitor: u.monitor.map(ns),
        max_failure_ratio: u.max_failure_ratio,
        order: u
            .order
            .as_deref()
            .map(|o| wire("rollback order", o))
            .transpose()?,
    })
}

#[cfg(test)]
#[path = "specs_tests.rs"]
mod tests;
