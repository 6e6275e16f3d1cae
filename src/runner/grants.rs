//! Trust decisions made while preparing a run: whether the generic tests may be skipped (in CI only
//! under a `skip-generic` grant), and, for a read-only listing, whether a `repo-local` grant would
//! allow — peeked at, never consumed. Every decision of a run is emitted as an event.

use crate::coord::{check_grant, CoordPaths, GrantQuery};
use crate::discover::Granted;
use crate::report::event::{Gate, GateDecision};
use crate::report::EventKind;

use super::config::RunConfig;
use super::error::RunError;
use super::prepare::Purpose;

/// Decides whether generic tests are skipped (`Some(why)`). In CI a skip needs a `skip-generic` grant.
pub fn generic_skip(
    cfg: &RunConfig,
    paths: &CoordPaths,
    recipe: &str,
    run_id: &str,
    purpose: Purpose,
) -> Result<Option<String>, RunError> {
    if !cfg.skip_generic {
        return Ok(None);
    }
    let Purpose::Run { ledger, bus } = purpose else {
        // A listing shows what a run would skip, without checking (or consuming) a grant; in CI it
        // refuses as the run would when no valid skip-generic grant covers the recipe.
        if cfg.ci {
            let g = peek(paths, "skip-generic", recipe, cfg.pr);
            if !g.allowed {
                return Err(RunError::SkipGenericDenied {
                    recipe: recipe.to_string(),
                    reason: format!("a run would refuse to start ({})", g.reason),
                    pr: cfg.pr,
                });
            }
        }
        return Ok(Some("--skip-generic / CCCI_SKIP_GENERIC=1".to_string()));
    };
    let decision = |allowed: bool, reason: String, grant: Option<String>| {
        EventKind::GateDecided(GateDecision {
            gate: Gate::SkipGeneric,
            recipe: recipe.to_string(),
            allowed,
            reason,
            grant,
            pr: cfg.pr,
            files: Vec::new(),
        })
    };
    if !cfg.ci {
        let why = "--skip-generic / CCCI_SKIP_GENERIC=1 (local development)".to_string();
        bus.emit(decision(true, why.clone(), None));
        return Ok(Some(why));
    }
    let d = check_grant(
        paths,
        ledger,
        &GrantQuery {
            gate: "skip-generic".into(),
            recipe: recipe.to_string(),
            pr: cfg.pr,
            run_id: Some(run_id.to_string()),
        },
    )
    .map_err(RunError::GrantCheck)?;
    bus.emit(decision(d.allowed, d.reason.clone(), d.grant_id.clone()));
    if d.allowed {
        Ok(Some(format!(
            "skip-generic grant {}",
            d.grant_id.unwrap_or_default()
        )))
    } else {
        Err(RunError::SkipGenericDenied {
            recipe: recipe.to_string(),
            reason: d.reason,
            pr: cfg.pr,
        })
    }
}

/// Whether a valid `repo-local` grant covers the recipe, without consuming a use or recording a check.
pub fn peek_grant(paths: &CoordPaths, recipe: &str, pr: Option<u64>) -> Granted {
    peek(paths, "repo-local", recipe, pr)
}

/// Whether a valid grant for `gate` covers the recipe, without consuming a use or recording a check.
fn peek(paths: &CoordPaths, gate: &str, recipe: &str, pr: Option<u64>) -> Granted {
    crate::preflight::peek_grant(paths, gate, recipe, pr)
}
