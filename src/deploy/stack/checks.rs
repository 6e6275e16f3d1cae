//! What the stack deployer checks before it creates anything. Every image must be present or pullable
//! now — else the deploy fails at once, naming the image and the pull's reason (swarm would only
//! report "No such image" task after task). Every published port no swarm service publishes yet must
//! be free on this host — else a warning note: swarm's ingress takes such a port silently and the app
//! never answers there. It never creates anything on the engine (a pull that works adds the image).

use std::collections::BTreeSet;

use crate::deploy::compose::StackSpec;
use crate::deploy::{DeployError, DeployNote};
use crate::docker::{host_port_in_use, Engine};

/// Fails on the first image that is neither present nor pullable.
pub(super) fn images(engine: &Engine, spec: &StackSpec) -> Result<(), DeployError> {
    let images: BTreeSet<(&str, &str)> = spec
        .services
        .iter()
        .map(|(k, s)| (s.image.as_str(), k.as_str()))
        .collect();
    let mut seen = BTreeSet::new();
    for (image, service) in images {
        if !seen.insert(image) {
            continue;
        }
        if let Err(reason) = engine.ensure_image(image) {
            return Err(DeployError::Op {
                op: "deploy",
                message: format!(
                    "image {image} is not present and could not be pulled: {reason} (service {service})"
                ),
            });
        }
    }
    Ok(())
}

/// A warning note for each published port something outside swarm already holds on this host.
pub(super) fn ports(engine: &Engine, spec: &StackSpec) -> Result<Vec<DeployNote>, DeployError> {
    let wanted: Vec<(u16, String, &str, &str)> = spec
        .services
        .iter()
        .flat_map(|(k, s)| {
            s.ports.iter().filter_map(move |p| {
                let proto = p.protocol.clone().unwrap_or_else(|| "tcp".to_string());
                let mode = p.mode.as_deref().unwrap_or("");
                p.published.map(|n| (n, proto, k.as_str(), mode))
            })
        })
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    // A port a swarm service publishes is held by the engine itself (this stack's own on an upgrade);
    // swarm refuses a second publisher with its own error.
    let swarm = engine
        .published_ports()
        .map_err(|e| DeployError::Engine(e.to_string()))?;
    let mut notes = Vec::new();
    for (port, proto, service, mode) in wanted {
        if swarm.contains(&(port, proto.clone())) || !host_port_in_use(port, &proto) {
            continue;
        }
        let mode = if mode.is_empty() { "ingress" } else { mode };
        notes.push(DeployNote {
            kind: "deploy_warning",
            subject: format!("port {port}/{proto}"),
            outcome: "in_use".into(),
            data: serde_json::json!({ "service": service, "port": port, "protocol": proto, "mode": mode }),
            notice: Some(format!(
                "warning: service {service} publishes port {port}/{proto} ({mode} mode), which a process \
                 outside swarm already holds on this host: the app will not answer there \
                 (hint: free the port or publish another)"
            )),
        });
    }
    Ok(notes)
}
