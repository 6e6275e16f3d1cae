//! The `deploy` section of a service: mode, replicas, service labels, restart/update/rollback
//! policies, resources and placement, typed with every key checked.

use serde_yaml::{Mapping, Value};

use super::keys::*;
use super::model::*;
use super::values::{parse_bytes, parse_cpus};
use super::ComposeError;

pub const DEPLOY: &[&str] = &[
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

pub fn deploy(ck: &mut Checker, at: &str, d: &Mapping) -> Result<DeployDef, ComposeError> {
    ck.keys(d, at, DEPLOY, &[]);
    let mode = string(d, "mode");
    if let Some(m) = mode
        .as_deref()
        .filter(|m| !matches!(*m, "replicated" | "global"))
    {
        return Err(ck.invalid(
            &format!("{at}.mode"),
            format!("unsupported mode {m:?} (hint: replicated or global)"),
        ));
    }
    let mut out = DeployDef {
        mode,
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
            let cfg = update_config(ck, &format!("{at}.{key}"), u)?;
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
                // Docker's schema: pids only as a limit, generic_resources only as a reservation,
                // devices nowhere in a stack.
                let allowed: &[&str] = if key == "limits" {
                    &["cpus", "memory", "pids"]
                } else {
                    &["cpus", "memory", "generic_resources"]
                };
                ck.keys(l, &lat, allowed, &[]);
                let cpus = string(l, "cpus");
                let res = ResourcesDef {
                    nano_cpus: cpus
                        .as_deref()
                        .map(|s| parse_cpus(s).map_err(|e| ck.invalid(&format!("{lat}.cpus"), e)))
                        .transpose()?,
                    cpus,
                    memory: string(l, "memory")
                        .map(|s| {
                            parse_bytes(&s).map_err(|e| ck.invalid(&format!("{lat}.memory"), e))
                        })
                        .transpose()?,
                    pids: int(ck, &lat, l, "pids")?,
                    generic: generic_resources(ck, &lat, l.get("generic_resources"))?,
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
        let pat = format!("{at}.placement");
        ck.keys(
            p,
            &pat,
            &["constraints", "preferences", "max_replicas_per_node"],
            &[],
        );
        out.constraints = list(p.get("constraints"));
        out.preferences = preferences(ck, &pat, p.get("preferences"))?;
        out.max_replicas_per_node =
            int(ck, &pat, p, "max_replicas_per_node")?.map(|n| n.max(0) as u64);
    }
    Ok(out)
}

/// `placement.preferences`: a list of `{spread: DESCRIPTOR}`.
fn preferences(ck: &mut Checker, at: &str, v: Option<&Value>) -> Result<Vec<String>, ComposeError> {
    let mut out = Vec::new();
    for (i, p) in v
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let pat = format!("{at}.preferences[{i}]");
        let Some(m) = p.as_mapping() else {
            return Err(ck.invalid(
                &pat,
                "expected a mapping such as {spread: node.labels.zone}",
            ));
        };
        ck.keys(m, &pat, &["spread"], &[]);
        out.push(string(m, "spread").unwrap_or_default());
    }
    Ok(out)
}

/// `reservations.generic_resources`: a list of `{discrete_resource_spec: {kind, value}}`.
fn generic_resources(
    ck: &mut Checker,
    at: &str,
    v: Option<&Value>,
) -> Result<Vec<GenericResourceDef>, ComposeError> {
    let mut out = Vec::new();
    for (i, g) in v
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let gat = format!("{at}.generic_resources[{i}]");
        let Some(m) = g.as_mapping() else {
            return Err(ck.invalid(&gat, "expected a mapping"));
        };
        ck.keys(m, &gat, &["discrete_resource_spec"], &[]);
        if let Some(s) = m.get("discrete_resource_spec").and_then(Value::as_mapping) {
            let sat = format!("{gat}.discrete_resource_spec");
            ck.keys(s, &sat, &["kind", "value"], &[]);
            out.push(GenericResourceDef {
                kind: string(s, "kind").unwrap_or_default(),
                value: int(ck, &sat, s, "value")?.unwrap_or(0),
            });
        }
    }
    Ok(out)
}

fn update_config(ck: &mut Checker, at: &str, u: &Mapping) -> Result<UpdateConfigDef, ComposeError> {
    ck.keys(
        u,
        at,
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
    Ok(UpdateConfigDef {
        parallelism: int(ck, at, u, "parallelism")?,
        delay: duration(ck, at, u, "delay")?,
        failure_action: string(u, "failure_action"),
        monitor: duration(ck, at, u, "monitor")?,
        max_failure_ratio: string(u, "max_failure_ratio")
            .map(|s| {
                s.parse().map_err(|_| {
                    ck.invalid(&format!("{at}.max_failure_ratio"), "expected a number")
                })
            })
            .transpose()?,
        order: string(u, "order"),
    })
}
