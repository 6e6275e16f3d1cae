//! Teardown is sacred: whatever happened, the app is removed with its volumes, secrets, configs and
//! networks, and the engine is asked whether anything of the run is left. A leftover is a failure,
//! reported by name.

use std::time::Instant;

use super::engine::AppEngine;
use crate::deploy::{AppRef, Deployer};
use crate::report::TeardownResult;

/// Removes the app: the deployer's own teardown first (abra: undeploy + rm), then the engine removes
/// whatever of the stack is still there, and verifies. Never panics, never skips a step.
pub fn teardown(
    deployer: Option<&mut (dyn Deployer + '_)>,
    engine: &dyn AppEngine,
    app: &AppRef,
) -> TeardownResult {
    let start = Instant::now();
    let mut errors = Vec::new();
    if let Some(d) = deployer {
        if let Err(e) = d.teardown() {
            errors.push(format!(
                "{} teardown: {}",
                d.kind(),
                app.redactor.redact(&e.to_string())
            ));
        }
    }
    // `remove_stack` repeats its passes until nothing of the stack is left (or its settle deadline);
    // the check after it is the independent verdict, listing any leftover by name.
    if let Err(e) = engine.remove_stack(&app.stack, &app.run_id) {
        errors.push(format!("removing stack {}: {e}", app.stack));
    }
    let leftovers = match engine.leftovers(Some(&app.run_id), &app.stack) {
        Ok(l) => l,
        Err(e) => vec![format!("(could not list resources: {e})")],
    };
    TeardownResult {
        clean: leftovers.is_empty(),
        leftovers,
        error: if errors.is_empty() {
            None
        } else {
            Some(errors.join("; "))
        },
        duration_ms: start.elapsed().as_millis() as u64,
    }
}
