//! `runner::run`: one run from start to exit code. The coord tree is provisioned and reconciled, the
//! run is prepared (nothing deployed yet), the tiers run on a worker thread while this thread watches
//! for SIGINT/SIGTERM, and teardown always follows — after the last tier, after a panic, or at once on
//! a signal (exit 2). Reports and the run_end event close the run.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::coord::{provision, reconcile, CoordPaths, Ledger, ProvisionOptions};
use crate::deploy::{abra, stack, AppRef, Deployer};
use crate::docker::Engine;
use crate::exit;
use crate::redact::Redactor;
use crate::report::RunResult;

use super::config::{DeployerKind, RunConfig};
use super::context::Live;
use super::ledger::Recorder;
use super::prepare::{self, Prepared};
use super::tiers::{self, Shared};
use super::{finish, teardown};

/// Runs the whole session and returns the exit code.
pub fn run(cfg: RunConfig) -> u8 {
    let paths = match CoordPaths::resolve(cfg.coord_dir.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail(exit::INTERRUPTED, &format!("coord: {e}")),
    };
    if cfg.selection.libtest.list || cfg.selection.collect_only {
        return list_only(&cfg, &paths);
    }
    if let Err(e) = provision(
        &paths,
        &ProvisionOptions {
            repair_perms: false,
        },
    ) {
        return fail(exit::INTERRUPTED, &format!("coord provision: {e}"));
    }
    if let Err(e) = reconcile(&paths) {
        return fail(exit::INTERRUPTED, &format!("coord reconcile: {e}"));
    }
    let ledger = match Ledger::open(&paths) {
        Ok(l) => l,
        Err(e) => return fail(exit::INTERRUPTED, &format!("ledger: {e}")),
    };
    let run_id = prepare::new_run_id();
    let redactor = Redactor::new();
    let rec = Arc::new(Recorder::new(ledger, &run_id, redactor.clone()));
    rec.event(
        "run_start",
        &cfg.recipe,
        "started",
        serde_json::json!({ "ref": cfg.git_ref, "pr": cfg.pr, "stages": cfg.stages.iter().map(|t| t.to_string()).collect::<Vec<_>>(), "deployer": cfg.deployer.name() }),
    );
    let started = Instant::now();
    let prepared = match prepare::prepare(&cfg, &paths, &paths.runs, &run_id, Some(&rec)) {
        Ok(p) => p,
        Err(r) => {
            rec.event(
                "run_end",
                &cfg.recipe,
                "refused",
                serde_json::json!({ "exit_code": r.code, "reason": r.message }),
            );
            return fail(r.code, &r.message);
        }
    };
    let mut result = finish::initial_result(&cfg, &prepared, &run_id);
    // Printed before the engine is touched: a broken engine still shows what the recipe is.
    println!("recipe: {}", prepared.identity.describe());
    for line in crate::preflight::run_summary(&prepared.facts, prepared.lint.as_ref()) {
        println!("{line}");
    }
    if prepared.plan.tests().next().is_none() {
        println!("no tests collected (after filters): nothing to verify, nothing deployed");
        for line in finish::will_not_run(&prepared.plan) {
            println!("{line}");
        }
        rec.event(
            "run_end",
            &prepared.recipe,
            "no_tests",
            serde_json::json!({ "exit_code": exit::NO_TESTS }),
        );
        let _ = std::fs::remove_dir_all(&prepared.run_dir);
        return exit::NO_TESTS;
    }
    let engine = match Engine::connect().and_then(|e| e.require_swarm().map(|_| e)) {
        Ok(e) => Arc::new(e),
        Err(e) => {
            rec.event(
                "run_end",
                &prepared.recipe,
                "error",
                serde_json::json!({ "exit_code": exit::INTERNAL, "reason": e.to_string() }),
            );
            return fail(exit::INTERNAL, &format!("engine: {e}"));
        }
    };
    janitor(&engine, &paths, &rec);
    let app = AppRef {
        run_id: run_id.clone(),
        recipe: prepared.recipe.clone(),
        domain: prepared.domain.clone(),
        stack: prepared.stack.clone(),
        run_dir: prepared.run_dir.clone(),
        lock_path: prepared
            .lock
            .as_ref()
            .map(|l| l.path().to_path_buf())
            .unwrap_or_default(),
        redactor: redactor.clone(),
    };
    let deployer: Box<dyn Deployer> = match make_deployer(&cfg, &engine, &app, &prepared) {
        Ok(d) => d,
        Err(e) => {
            rec.event(
                "run_end",
                &prepared.recipe,
                "error",
                serde_json::json!({ "exit_code": exit::USAGE, "reason": e }),
            );
            return fail(exit::USAGE, &e);
        }
    };
    finish::header(&result);
    let live = Arc::new(finish::live(&engine, &app, &prepared));
    let shared = Arc::new(Shared {
        result: Mutex::new(std::mem::replace(&mut result, finish::empty_result())),
        deployer: Mutex::new(deployer),
        abort: Default::default(),
    });
    let interrupted = supervise(&shared, &prepared, &live, &cfg, &rec);
    // Teardown, whatever happened. On a signal the worker may still hold the deployer: then the engine
    // removes the stack on its own (it does so in every case, after the deployer's teardown).
    let td = {
        let guard = shared.deployer.try_lock();
        match guard {
            Ok(mut d) => teardown::teardown(Some(d.as_mut()), &engine, &app),
            Err(_) => teardown::teardown(None, &engine, &app),
        }
    };
    rec.event(
        "teardown",
        &app.stack,
        if td.clean { "clean" } else { "leftovers" },
        serde_json::json!({ "leftovers": td.leftovers, "error": td.error, "duration_ms": td.duration_ms }),
    );
    let mut result = take_result(&shared);
    result.teardown = td;
    if let DeployerKind::Abra { .. } = &cfg.deployer {
        // After the app is gone: the recipe lint needs only the run's abra state and checkout.
        result.lint = Some(abra_lint(&cfg, &prepared, &live));
    }
    result.interrupted = interrupted.is_some();
    result.duration_ms = started.elapsed().as_millis() as u64;
    finish::complete(&cfg, &prepared, &mut result, interrupted, &rec, &paths)
}

/// Runs the tiers on a worker thread and waits for it or for SIGINT/SIGTERM. Returns the signal's
/// name when interrupted.
fn supervise(
    shared: &Arc<Shared>,
    prepared: &Prepared,
    live: &Arc<Live>,
    cfg: &RunConfig,
    rec: &Arc<Recorder>,
) -> Option<&'static str> {
    enum Msg {
        Done,
        Signal(i32),
    }
    let (tx, rx) = mpsc::channel();
    let mut signals = match signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ]) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("cc-ci: cannot watch SIGINT/SIGTERM ({e}); teardown still follows the run");
            None
        }
    };
    let handle = signals.as_ref().map(|s| s.handle());
    if let Some(mut sigs) = signals.take() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            if let Some(sig) = sigs.forever().next() {
                let _ = tx.send(Msg::Signal(sig));
            }
        });
    }
    std::thread::scope(|scope| {
        let worker_tx = tx.clone();
        let plan = &prepared.plan;
        let meta = &prepared.discovery.meta;
        let checkout = &prepared.checkout;
        scope.spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                tiers::run_tiers(shared, plan, live, cfg, meta, checkout, rec)
            }));
            if r.is_err() {
                eprintln!("cc-ci: the session panicked; tearing down");
                shared
                    .result
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .interrupted = true;
            }
            let _ = worker_tx.send(Msg::Done);
        });
        let outcome = match rx.recv() {
            Ok(Msg::Signal(sig)) => {
                let name = if sig == signal_hook::consts::SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                };
                eprintln!("\ncc-ci: {name} received: stopping the run and tearing down");
                shared.abort.store(true, Ordering::SeqCst);
                rec.event(
                    "run_end",
                    &prepared.recipe,
                    "interrupting",
                    serde_json::json!({ "signal": name }),
                );
                // Do not wait for the worker: tear down now and exit. The process ends after the report.
                let td = teardown::teardown(None, &live.engine, &live.app);
                finish_interrupted(shared, prepared, cfg, rec, td, name)
            }
            _ => None,
        };
        if let Some(h) = &handle {
            h.close();
        }
        outcome
    })
}

/// After a signal: report what ran, record the teardown, and exit 2 without waiting for the worker.
fn finish_interrupted(
    shared: &Shared,
    prepared: &Prepared,
    cfg: &RunConfig,
    rec: &Recorder,
    td: crate::report::TeardownResult,
    signal: &str,
) -> ! {
    rec.event(
        "teardown",
        &prepared.stack,
        if td.clean { "clean" } else { "leftovers" },
        serde_json::json!({ "leftovers": td.leftovers, "error": td.error, "signal": signal }),
    );
    let mut result = take_result(shared);
    result.teardown = td;
    result.interrupted = true;
    let paths = CoordPaths::resolve(cfg.coord_dir.as_deref());
    let code = match paths {
        Ok(p) => finish::complete(cfg, prepared, &mut result, Some("signal"), rec, &p),
        Err(_) => exit::INTERRUPTED,
    };
    std::process::exit(i32::from(code));
}

fn make_deployer(
    cfg: &RunConfig,
    engine: &Arc<Engine>,
    app: &AppRef,
    prepared: &Prepared,
) -> Result<Box<dyn Deployer>, String> {
    Ok(match &cfg.deployer {
        DeployerKind::Stack => {
            let mut d = stack::StackDeployer::new(
                Arc::clone(engine),
                app.clone(),
                stack::StackOptions {
                    create_proxy_network: cfg.create_proxy_network,
                },
            );
            // Progress while the deployer waits: a live line on a terminal, a line every 10 s in CI.
            let mut reporter = super::progress::Reporter::new("converging");
            d.set_progress(Box::new(move |line: &str| reporter.update(line)));
            Box::new(d)
        }
        DeployerKind::Abra { abra: bin, server } => {
            let bin = abra::find_abra(bin.as_deref()).map_err(|e| e.to_string())?;
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
                true => d.with_proxy_network(Arc::clone(engine)),
                false => d,
            })
        }
    })
}

/// `abra recipe lint` on head_ref, in the run's own abra state.
fn abra_lint(cfg: &RunConfig, p: &Prepared, live: &Live) -> crate::report::LintResult {
    const TOOL: &str = "abra recipe lint";
    let DeployerKind::Abra { abra: bin, .. } = &cfg.deployer else {
        return crate::report::LintResult::could_not_run(TOOL, "not an abra run");
    };
    let bin = match abra::find_abra(bin.as_deref()) {
        Ok(b) => b,
        Err(e) => return crate::report::LintResult::could_not_run(TOOL, e.to_string()),
    };
    if let Some(head) = &live.head_ref {
        if let Err(e) = p.checkout.checkout_at(head) {
            return crate::report::LintResult::could_not_run(
                TOOL,
                format!("checkout of head_ref: {e}"),
            );
        }
    }
    crate::lint::abra_lint(
        &bin,
        &p.run_dir.join("abra"),
        &p.recipe,
        Duration::from_secs(120),
    )
}

fn janitor(engine: &Engine, paths: &CoordPaths, rec: &Recorder) {
    let r = engine.janitor(&paths.runs, false, &mut |removal| {
        rec.event(
            "janitor",
            &format!("{} {}", removal.kind, removal.name),
            "removed",
            serde_json::json!({ "stack": removal.stack, "run_id": removal.run_id, "reason": removal.reason }),
        );
    });
    if let Err(e) = r {
        eprintln!("cc-ci: janitor: {e} (continuing; leftovers of dead runs may remain)");
    }
}

/// `--list` / `--collect-only`: read-only. Nothing is deployed, provisioned, recorded or consumed.
fn list_only(cfg: &RunConfig, paths: &CoordPaths) -> u8 {
    let tmp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => {
            return fail(
                exit::INTERNAL,
                &format!("cannot create a temporary directory: {e}"),
            )
        }
    };
    let run_id = prepare::new_run_id();
    match prepare::prepare(cfg, paths, tmp.path(), &run_id, None) {
        Ok(p) => finish::list(&p.plan, cfg.selection.collect_only, cfg.selection.verbose),
        Err(r) => fail(r.code, &r.message),
    }
}

fn fail(code: u8, message: &str) -> u8 {
    eprintln!("cc-ci run: {message}");
    code
}

fn take_result(shared: &Shared) -> RunResult {
    let mut guard = shared.result.lock().unwrap_or_else(|e| e.into_inner());
    std::mem::replace(&mut *guard, finish::empty_result())
}
