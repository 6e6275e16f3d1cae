//! What a session gets from the engine side before and after its tiers: the deployer the
//! configuration asks for, the janitor pass over this coord tree's dead runs (their ends recorded as
//! abandoned) and the abra recipe lint. It decides no verdict.

use std::sync::Arc;
use std::time::Duration;

use crate::coord::{CoordPaths, Ledger};
use crate::deploy::{abra, stack, AppRef, Deployer};
use crate::docker::{Engine, JanitorScope};
use crate::report::event::{JanitorRemoval, Progress};
use crate::report::{EventBus, EventKind, LintResult};

use super::config::{DeployerKind, RunConfig};
use super::context::Live;
use super::error::RunError;
use super::prepare::Prepared;

pub(super) fn make_deployer(
    cfg: &RunConfig,
    engine: &Arc<Engine>,
    app: &AppRef,
    prepared: &Prepared,
    bus: &Arc<EventBus>,
) -> Result<Box<dyn Deployer>, RunError> {
    Ok(match &cfg.deployer {
        DeployerKind::Stack => {
            let mut d = stack::StackDeployer::new(
                Arc::clone(engine),
                app.clone(),
                stack::StackOptions {
                    create_proxy_network: cfg.create_proxy_network,
                },
            );
            d.set_proxy_network(&cfg.proxy_network);
            // Progress while the deployer waits: the progress line's subscriber shows it.
            let bus = Arc::clone(bus);
            d.set_progress(Box::new(move |line: &str| {
                bus.emit(EventKind::Progress(Progress {
                    label: "converging".into(),
                    state: line.to_string(),
                }))
            }));
            Box::new(d)
        }
        DeployerKind::Abra { abra: bin, server } => {
            let bin = abra::find_abra(bin.as_deref()).map_err(RunError::Deployer)?;
            let d = abra::AbraDeployer::new(
                abra::AbraOptions {
                    abra: bin,
                    server: server.clone(),
                    timeout: prepared
                        .discovery
                        .meta
                        .deploy_timeout
                        .unwrap_or(Duration::from_secs(600)),
                },
                app.clone(),
                prepared.checkout.path.clone(),
            );
            Box::new(match cfg.create_proxy_network {
                true => d.with_proxy_network(Arc::clone(engine), &cfg.proxy_network),
                false => d,
            })
        }
    })
}

/// `abra recipe lint` on head_ref, in the run's own abra state.
pub(super) fn abra_lint(cfg: &RunConfig, p: &Prepared, live: &Live) -> LintResult {
    const TOOL: &str = "abra recipe lint";
    let DeployerKind::Abra { abra: bin, .. } = &cfg.deployer else {
        return LintResult::could_not_run(TOOL, "not an abra run");
    };
    let bin = match abra::find_abra(bin.as_deref()) {
        Ok(b) => b,
        Err(e) => return LintResult::could_not_run(TOOL, e.to_string()),
    };
    if let Some(head) = &live.head_ref {
        if let Err(e) = p.checkout.checkout_at(head) {
            return LintResult::could_not_run(TOOL, format!("checkout of head_ref: {e}"));
        }
    }
    crate::lint::abra_lint(
        &bin,
        &p.run_dir.join("abra"),
        &p.recipe,
        Duration::from_secs(120),
    )
}

pub(super) fn janitor(
    engine: &Engine,
    paths: &CoordPaths,
    bus: &EventBus,
    ledger: &Ledger,
    run_id: &str,
) {
    // Dead runs whose leftovers are reaped (run id → stack): their run_end is recorded `abandoned`.
    let mut dead = std::collections::BTreeMap::new();
    let r = engine.janitor(&paths.runs, JanitorScope::Tree, false, &mut |removal| {
        if let Some(id) = &removal.run_id {
            dead.entry(id.clone())
                .or_insert_with(|| removal.stack.clone());
        }
        bus.emit(EventKind::JanitorRemoved(JanitorRemoval {
            kind: removal.kind.clone(),
            name: removal.name.clone(),
            stack: removal.stack.clone(),
            run_id: removal.run_id.clone(),
            reason: removal.reason.clone(),
        }));
    });
    if let Err(e) = r {
        bus.emit(EventKind::Warning {
            message: format!("janitor: {e} (continuing; leftovers of dead runs may remain)"),
        });
    }
    let (closed, problems) = crate::coord::abandoned::close_dead_runs(ledger, &dead, Some(run_id));
    for id in closed {
        bus.emit(EventKind::Warning {
            message: format!("janitor: run {id} died without ending; recorded it as abandoned"),
        });
    }
    for message in problems {
        bus.emit(EventKind::Warning { message });
    }
}
