//! Whether the generic tests may be skipped: in CI only under a `skip-generic` grant. While preparing
//! the grant is only asked what it would decide (nothing is spent, so a run refused later costs no
//! use); its use is spent when the run goes ahead, right before the first deploy. Every decision of a
//! run is emitted as an event.

use crate::coord::{check_grant, decide_grant, CoordPaths, GrantQuery};
use crate::report::event::{Gate, GateDecision};
use crate::report::{EventBus, EventKind};

use super::config::RunConfig;
use super::error::RunError;
use super::prepare::Purpose;

/// A generic skip: why, and the `skip-generic` grant whose use the run spends when it goes ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericSkip {
    pub why: String,
    pub grant: Option<String>,
}

fn decision(cfg: &RunConfig, recipe: &str, allowed: bool, reason: String) -> GateDecision {
    GateDecision {
        gate: Gate::SkipGeneric,
        recipe: recipe.to_string(),
        allowed,
        reason,
        grant: None,
        pr: cfg.pr,
        files: Vec::new(),
        provisional: false,
        not_needed: false,
    }
}

fn query(cfg: &RunConfig, recipe: &str, run_id: Option<&str>) -> GrantQuery {
    GrantQuery {
        gate: "skip-generic".into(),
        recipe: recipe.to_string(),
        pr: cfg.pr,
        run_id: run_id.map(str::to_string),
    }
}

/// Decides whether generic tests are skipped. In CI a skip needs a `skip-generic` grant that would
/// allow; a run refuses to start without one (a listing too, as the run would).
pub fn generic_skip(
    cfg: &RunConfig,
    paths: &CoordPaths,
    recipe: &str,
    purpose: Purpose,
) -> Result<Option<GenericSkip>, RunError> {
    if !cfg.skip_generic {
        return Ok(None);
    }
    let emit = |d: GateDecision| {
        if let Purpose::Run { bus, .. } = purpose {
            bus.emit(EventKind::GateDecided(d));
        }
    };
    if !cfg.ci {
        let why = "--skip-generic / CCCI_SKIP_GENERIC=1 (local development)".to_string();
        emit(decision(cfg, recipe, true, why.clone()));
        return Ok(Some(GenericSkip { why, grant: None }));
    }
    let d = decide_grant(paths, &query(cfg, recipe, None)).map_err(RunError::GrantCheck)?;
    let Some(id) = d.grant_id.filter(|_| d.allowed) else {
        emit(decision(cfg, recipe, false, d.reason.clone()));
        let reason = match purpose {
            Purpose::Run { .. } => d.reason,
            Purpose::List => format!("a run would refuse to start ({})", d.reason),
        };
        return Err(RunError::SkipGenericDenied {
            recipe: recipe.to_string(),
            reason,
            pr: cfg.pr,
        });
    };
    let mut would = decision(
        cfg,
        recipe,
        true,
        format!(
            "{} — not spent yet: the use is taken when the run goes ahead",
            d.reason
        ),
    );
    would.grant = Some(id.clone());
    would.provisional = true;
    emit(would);
    Ok(Some(GenericSkip {
        why: format!("skip-generic grant {id}"),
        grant: Some(id),
    }))
}

/// Spends the use of the skip-generic grant when the run goes ahead (nothing is deployed yet). A grant
/// used up or revoked since it was asked refuses the run.
pub fn spend_generic_skip(
    cfg: &RunConfig,
    ledger: &crate::coord::Ledger,
    bus: &EventBus,
    recipe: &str,
    run_id: &str,
) -> Result<(), RunError> {
    let paths = CoordPaths::resolve(cfg.coord_dir.as_deref()).map_err(RunError::CoordResolve)?;
    let d = check_grant(&paths, ledger, &query(cfg, recipe, Some(run_id)))
        .map_err(RunError::GrantCheck)?;
    let reason = match d.allowed {
        true => format!("{} — spent as the run goes ahead", d.reason),
        false => d.reason.clone(),
    };
    let mut ev = decision(cfg, recipe, d.allowed, reason);
    ev.grant = d.grant_id.clone();
    bus.emit(EventKind::GateDecided(ev));
    if d.allowed {
        Ok(())
    } else {
        Err(RunError::SkipGenericDenied {
            recipe: recipe.to_string(),
            reason: d.reason,
            pr: cfg.pr,
        })
    }
}
