//! Trust decisions made while preparing a run: whether the generic tests may be skipped (in CI only
//! under a `skip-generic` grant), and, for a read-only listing, whether a `repo-local` grant would
//! allow — peeked at, never consumed.

use crate::coord::{check_grant, CoordPaths, GrantQuery};
use crate::report::GateRecord;

use super::config::RunConfig;
use super::ledger::Recorder;
use super::prepare::Refusal;

/// Decides whether generic tests are skipped. In CI a skip needs a `skip-generic` grant.
pub fn generic_skip(
    cfg: &RunConfig,
    paths: &CoordPaths,
    recipe: &str,
    run_id: &str,
    rec: Option<&Recorder>,
    gate: &mut Vec<GateRecord>,
) -> Result<Option<String>, Refusal> {
    if !cfg.skip_generic {
        return Ok(None);
    }
    let Some(rec) = rec else {
        // A listing shows what a run would skip, without checking (or consuming) a grant.
        return Ok(Some("--skip-generic / CCCI_SKIP_GENERIC=1".to_string()));
    };
    if !cfg.ci {
        let why = "--skip-generic / CCCI_SKIP_GENERIC=1 (local development)".to_string();
        rec.event(
            "gate_decision",
            &format!("skip-generic:{recipe}"),
            "allow",
            serde_json::json!({ "reason": why }),
        );
        gate.push(GateRecord {
            subject: "skip-generic".into(),
            allowed: true,
            reason: why.clone(),
        });
        return Ok(Some(why));
    }
    let d = check_grant(
        paths,
        rec.ledger(),
        &GrantQuery {
            gate: "skip-generic".into(),
            recipe: recipe.to_string(),
            pr: cfg.pr,
            run_id: Some(run_id.to_string()),
        },
    )
    .map_err(|e| Refusal::internal(e.to_string()))?;
    rec.event(
        "gate_decision",
        &format!("skip-generic:{recipe}"),
        if d.allowed { "allow" } else { "deny" },
        serde_json::json!({ "reason": d.reason, "grant": d.grant_id }),
    );
    gate.push(GateRecord {
        subject: "skip-generic".into(),
        allowed: d.allowed,
        reason: d.reason.clone(),
    });
    if d.allowed {
        Ok(Some(format!(
            "skip-generic grant {}",
            d.grant_id.unwrap_or_default()
        )))
    } else {
        Err(Refusal::usage(format!(
            "skipping the generic tests in CI needs a skip-generic grant for {recipe}: {} \
             (hint: cc-ci grant mint --gate skip-generic --recipe {recipe}{} --ttl 2h --reason \"...\")",
            d.reason,
            cfg.pr.map(|p| format!(" --pr {p}")).unwrap_or_default()
        )))
    }
}

/// Whether a valid `repo-local` grant covers the recipe, without consuming a use or recording a check.
pub fn peek_grant(
    paths: &CoordPaths,
    recipe: &str,
    pr: Option<u64>,
) -> (bool, String, Option<String>) {
    crate::preflight::peek_repo_local_grant(paths, recipe, pr)
}
