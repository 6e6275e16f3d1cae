//! The task's container part of a service spec: image, command, environment, mounts, secrets,
//! configs, healthcheck, extra hosts. Pure conversion: no engine calls.

use std::collections::HashMap;

use bollard::models::*;

use crate::deploy::compose::{MountKind, ServiceDef, StackSpec, UlimitDef};

use super::{ns, volume_name, wire, Refs};

/// The task's container: image, command, environment, mounts, secrets, configs, healthcheck and the
/// rest of the service's container-level keys.
pub(super) fn container_spec(
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
pub(super) fn mounts(
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
pub(super) fn secrets(
    svc: &ServiceDef,
    refs: &Refs,
) -> Result<Vec<TaskSpecContainerSpecSecrets>, String> {
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
pub(super) fn configs(
    svc: &ServiceDef,
    refs: &Refs,
) -> Result<Vec<TaskSpecContainerSpecConfigs>, String> {
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
pub(super) fn health_check(svc: &ServiceDef) -> Option<HealthConfig> {
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

pub(super) fn extra_host(h: &str) -> String {
    match h.split_once([':', '=']) {
        Some((host, ip)) => format!("{ip} {host}"),
        None => h.to_string(),
    }
}
