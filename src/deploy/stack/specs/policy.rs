//! The swarm-level part of a service spec: restart policy, resources, placement, mode, published
//! ports, update and rollback. Pure conversion: no engine calls.

use std::collections::HashMap;

use bollard::models::*;

use crate::deploy::compose::{DeployDef, GenericResourceDef, ServiceDef, UpdateConfigDef};

use super::{ns, wire};

/// `deploy.restart_policy`, else the service-level `restart:` as swarm reads it.
pub(super) fn restart_policy(svc: &ServiceDef) -> Result<Option<TaskSpecRestartPolicy>, String> {
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
pub(super) fn resources(d: &DeployDef) -> TaskSpecResources {
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

/// Global or replicated (one replica unless `deploy.replicas` says otherwise).
pub(super) fn mode(d: &DeployDef) -> ServiceSpecMode {
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
pub(super) fn ports(svc: &ServiceDef) -> Result<Vec<EndpointPortConfig>, String> {
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
pub(super) fn restart_fallback(r: &str) -> Result<Option<TaskSpecRestartPolicy>, String> {
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
pub(super) fn placement(d: &DeployDef) -> Option<TaskSpecPlacement> {
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

pub(super) fn generic_resources(g: &[GenericResourceDef]) -> Option<GenericResources> {
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

pub(super) fn update(u: &UpdateConfigDef) -> Result<ServiceSpecUpdateConfig, String> {
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

pub(super) fn rollback(u: &UpdateConfigDef) -> Result<ServiceSpecRollbackConfig, String> {
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
