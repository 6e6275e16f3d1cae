//! Teardown is sacred: whatever happened, the app is removed with its volumes, secrets, configs and
//! networks, and the engine is asked whether anything of the run is left. A leftover is a failure,
//! reported by name.

use std::time::{Duration, Instant};

use crate::deploy::{AppRef, Deployer};
use crate::docker::Engine;
use crate::report::TeardownResult;

/// Removes the app: the deployer's own teardown first (abra: undeploy + rm), then the engine removes
/// whatever of the stack is still there, and verifies. Never panics, never skips a step.
pub fn teardown(
    deployer: Option<&mut (dyn Deployer + '_)>,
    engine: &Engine,
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
    let mut leftovers = Vec::new();
    for attempt in 0..4 {
        if let Err(e) = engine.remove_stack(&app.stack) {
            if attempt == 3 {
                errors.push(format!("removing stack {}: {e}", app.stack));
            }
        }
        match engine.leftovers(Some(&app.run_id), &app.stack) {
            Ok(l) if l.is_empty() => {
                leftovers.clear();
                break;
            }
            Ok(l) => leftovers = l,
            Err(e) => {
                leftovers = vec![format!("(could not list resources: {e})")];
            }
        }
        std::thread::sleep(Duration::from_secs(2));
    }
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
