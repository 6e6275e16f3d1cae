//! Discovery behind the repo-local trust gate while preparing: what the gate decides (emitted as an
//! event) and what a grant *would* allow. It never spends a grant use nor records anything: the use is
//! taken when a repo-local file first runs (`trust.rs`).

use std::path::Path;

use crate::coord::{decide_grant, CoordPaths, GrantQuery};
use crate::discover::{self, DiscoverRequest, Discovery, GateVia};
use crate::recipe::Checkout;
use crate::report::event::{Gate, GateDecision};
use crate::report::EventKind;

use super::config::RunConfig;
use super::prepare::Purpose;

/// Discovery with the trust gate. Nothing is spent here: a grant (or the off-switch) only *would
/// allow*, and a run emits the decision as such; the use is taken when a repo-local file first runs.
pub(super) fn discover_gated(
    cfg: &RunConfig,
    paths: &CoordPaths,
    recipe: &str,
    data: &Path,
    checkout: &Checkout,
    purpose: Purpose,
) -> Discovery {
    let allowlist = cfg
        .allowlist
        .clone()
        .unwrap_or_else(|| data.join("overlays/repo-local-approved.txt"));
    let mut grant = || would_allow(cfg, paths, recipe);
    let discovery = discover::discover(
        &DiscoverRequest {
            project_root: data,
            recipe,
            checkout: Some(&checkout.path),
            allowlist: &allowlist,
            pr: cfg.pr,
        },
        &mut grant,
    );
    purpose.emit(EventKind::GateDecided(gate_event(
        &discovery.gate,
        recipe,
        cfg.pr,
    )));
    discovery
}

/// The event of the gate's decision while preparing.
pub fn gate_event(d: &discover::GateDecision, recipe: &str, pr: Option<u64>) -> GateDecision {
    let grant = match &d.via {
        GateVia::Grant(id) => Some(id.clone()),
        _ => None,
    };
    GateDecision {
        gate: Gate::RepoLocal,
        recipe: recipe.to_string(),
        allowed: d.allowed,
        reason: d.reason.clone(),
        grant,
        pr,
        files: d.files.iter().map(|f| f.display().to_string()).collect(),
        provisional: matches!(d.via, GateVia::Grant(_) | GateVia::OffSwitch),
        not_needed: d.via == GateVia::NotNeeded,
    }
}

/// What a repo-local grant (or the deprecated off-switch) would decide, without spending a use or
/// recording anything.
fn would_allow(cfg: &RunConfig, paths: &CoordPaths, recipe: &str) -> discover::GrantAnswer {
    if cfg.trust_gate_off {
        return Ok(discover::Granted {
            allowed: true,
            reason: "CCCI_TRUST_GATE_OFF=1 is set (deprecated): an obligation is recorded when a repo-local file first runs; mint a repo-local grant instead".into(),
            grant_id: None,
        });
    }
    let d = decide_grant(
        paths,
        &GrantQuery {
            gate: "repo-local".into(),
            recipe: recipe.to_string(),
            pr: cfg.pr,
            run_id: None,
        },
    )
    .map_err(|e| discover::GrantLookupError(e.to_string()))?;
    let reason = match d.allowed {
        true => format!(
            "{} — not spent yet: the use is taken when a repo-local file first runs",
            d.reason
        ),
        false => d.reason,
    };
    Ok(discover::Granted {
        allowed: d.allowed,
        reason,
        grant_id: d.grant_id,
    })
}
