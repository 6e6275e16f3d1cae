//! Turning a typed compose service into the engine's `ServiceSpec`, the way `docker stack deploy`
//! does: names scoped by the stack, the namespace label everywhere, the service name as a network
//! alias, `command` as args and `entrypoint` as command; the container part is `specs/container.rs`,
//! the swarm policies `specs/policy.rs`. Pure conversion: no engine calls.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::models::*;
use serde::de::DeserializeOwned;

use crate::deploy::compose::{ServiceDef, StackSpec};

mod container;
mod policy;

use container::container_spec;
use policy::{mode, placement, ports, resources, restart_policy, rollback, update};

/// Ids of the secrets and configs the service may reference, by top-level key: (swarm name, id).
#[derive(Debug, Default, Clone)]
pub struct Refs {
    pub secrets: BTreeMap<String, (String, String)>,
    pub configs: BTreeMap<String, (String, String)>,
}

pub(super) fn ns(d: Duration) -> i64 {
    d.as_nanos() as i64
}

/// Parses an engine enum from its wire name (`rollback`, `stop-first`, `on-failure`, …).
pub(super) fn wire<T: DeserializeOwned>(what: &str, s: &str) -> Result<T, String> {
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

#[cfg(test)]
#[path = "specs_tests.rs"]
mod tests;
