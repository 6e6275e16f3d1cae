//! `--list` / `--collect-only`: the tests a run would run, from the same preparation as a run, read
//! only. It never deploys, provisions, records or spends anything.

use crate::coord::CoordPaths;

use super::config::RunConfig;
use super::error::RunError;
use super::prepare::{self, Purpose};

/// What `--list` / `--collect-only` show: the ids of the tests a run would run, how many the filters
/// deselected, what the selection had to say, every tier that will not run with its reason, where the
/// tests came from, and what the trust gate decided (always said, also when nothing is collected).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The ids of the tests a run would run, in run order.
    pub ids: Vec<String>,
    /// Tests the filters deselected.
    pub deselected: usize,
    /// What the selection had to say (`--lf`).
    pub notes: Vec<String>,
    /// `tier upgrade will not run: unsupported: no previous release: …`, one line per tier.
    pub will_not_run: Vec<String>,
    /// The data dir the generic tests and overlays came from.
    pub data_dir: String,
    /// The trust gate's decision about repo-local files: `deny  repo-local — why`.
    pub gate: String,
    /// Repo-local files that are not listed, each with why.
    pub held_back: Vec<String>,
}

/// `--list` / `--collect-only`: the tests a run would run, read-only. Nothing is deployed,
/// provisioned, recorded or consumed, and no repo-local file runs unless the allowlist allows it. A
/// source that is not a recipe is refused here, as a run would refuse it.
pub fn list(cfg: &RunConfig) -> Result<Listing, RunError> {
    super::session::watch_signals();
    let paths = CoordPaths::resolve(cfg.coord_dir.as_deref()).map_err(RunError::CoordResolve)?;
    let tmp = tempfile::tempdir().map_err(RunError::TempDir)?;
    let run_id = prepare::new_run_id();
    let p = prepare::prepare(cfg, &paths, tmp.path(), &run_id, Purpose::List)
        .and_then(prepare::unless_interrupted)?;
    let g = prepare::gate_event(&p.discovery.gate, &p.recipe, cfg.pr);
    let mut held_back = p.held_back.clone();
    if !g.allowed {
        let checkout = &p.checkout.path;
        held_back.extend(p.discovery.gate.files.iter().map(|f| {
            let shown = f.strip_prefix(checkout).unwrap_or(f);
            format!("{}: not read (the trust gate denies)", shown.display())
        }));
    }
    Ok(Listing {
        ids: p.plan.tests().map(|t| t.id.clone()).collect(),
        deselected: p.plan.tiers.iter().map(|t| t.deselected).sum(),
        notes: p.notes,
        will_not_run: will_not_run(&p.plan),
        data_dir: p.data_dir.to_string(),
        gate: format!("{}  {} — {}", g.word(), g.gate.as_str(), g.reason),
        held_back,
    })
}

/// One line per tier that will not run, with its reason.
pub(super) fn will_not_run(plan: &super::Plan) -> Vec<String> {
    plan.will_not_run()
        .into_iter()
        .map(|(t, why)| format!("tier {t} will not run: {why}"))
        .collect()
}
