//! `runner::run`: one run from start to exit code, told as events on one [`EventBus`]. The coord tree
//! is provisioned and reconciled, the run is prepared (nothing deployed yet), the tiers run on a worker
//! thread while this thread watches for SIGINT/SIGTERM, and teardown always follows — after the last
//! tier, after a panic, or at once on a signal. The last event, `RunFinished`, carries the exit class
//! and code; this thread returns it (the worker of an interrupted run is left behind and ends with the
//! process).

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::coord::{provision, reconcile, CoordPaths, Ledger, ProvisionOptions};
use crate::deploy::AppRef;
use crate::docker::Engine;
use crate::exit::{ExitClass, RunFacts};
use crate::redact::Redactor;
use crate::report::event::{RunEnd, RunHeader, RunStart, TeardownFinish};
use crate::report::{
    ArtifactPaths, ArtifactWriter, Artifacts, EventBus, EventKind, LedgerFailures, LedgerRecorder,
    Subscriber, TierStatus,
};

use super::config::{DeployerKind, RunConfig};
use super::context::Live;
use super::equip::{abra_lint, janitor, make_deployer};
use super::error::RunError;
use super::listing::will_not_run;
use super::prepare::{self, Prepared, Purpose};
use super::teardown;
use super::tiers::{self, Shared};

/// Where a run reports: its subscribers (the terminal, the progress line), and where a report file that
/// cannot be written is said (the ledger and the run's files are added by the run itself).
pub struct Outputs {
    pub subscribers: Vec<Box<dyn Subscriber>>,
    pub file_errors: Box<dyn std::io::Write + Send>,
    /// Shared with the terminal: the run's files that could not be written (never named as written).
    pub unwritten: crate::report::Unwritten,
}

/// Runs the whole session, reporting to `outputs` (and the ledger, and the run's files), and returns
/// the exit code.
pub fn run(cfg: RunConfig, outputs: Outputs) -> u8 {
    let Outputs {
        subscribers,
        file_errors,
        unwritten,
    } = outputs;
    watch_signals();
    let bus = Arc::new(EventBus::new(Redactor::new()));
    for s in subscribers {
        bus.subscribe(s);
    }
    let coord_dir = cfg.coord_dir.clone();
    let failures = LedgerFailures::default();
    let (mut end, run_dir) = match open(cfg, &bus, (file_errors, unwritten), &failures) {
        Err(e) => (RunEnd::stopped(e.class(), Some(e.to_string())), None),
        Ok(Opened::NoTests { run_dir }) => {
            let _ = std::fs::remove_dir_all(&run_dir);
            (RunEnd::stopped(ExitClass::NoTests, None), None)
        }
        Ok(Opened::Ready { shared }) => {
            let dir = shared.prepared.run_dir.clone();
            (go(shared, &failures), Some(dir))
        }
    };
    end.ledger_checkpoint = ledger_head(coord_dir.as_deref());
    let mut code = end.exit_code;
    bus.emit(EventKind::RunFinished(end));
    if let Some(u) = failures.closed() {
        // Even the run's end could not be recorded: the record is incomplete, whatever the verdict.
        if code == ExitClass::Passed.code() || code == ExitClass::Failed.code() {
            code = ExitClass::Infrastructure.code();
        }
        bus.emit(EventKind::RecordIncomplete(u));
    }
    if let Some(dir) = run_dir {
        for sub in ["checkout", "backups", "abra"] {
            let _ = std::fs::remove_dir_all(dir.join(sub));
        }
    }
    code
}

/// Until the session watches signals itself (`supervise`), SIGINT/SIGTERM raise the flag that stops
/// a running git (clone, fetch) with its process group; the run then ends interrupted (exit 2).
pub(super) fn watch_signals() {
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, crate::recipe::interrupt_flag()) {
            eprintln!("cc-ci: cannot watch signal {sig} ({e})");
        }
    }
}

/// The ledger's head as `SEQ:HASH`, for the end of the run (`None` when it cannot be read).
fn ledger_head(coord_dir: Option<&std::path::Path>) -> Option<String> {
    let paths = CoordPaths::resolve(coord_dir).ok()?;
    crate::coord::head(&paths)
        .ok()
        .flatten()
        .map(|c| c.to_string())
}

enum Opened {
    /// The filters left nothing: nothing is deployed.
    NoTests {
        run_dir: PathBuf,
    },
    Ready {
        shared: Arc<Shared>,
    },
}

/// Everything up to a session ready to deploy: coord, ledger, plan, engine, janitor, deployer.
fn open(
    cfg: RunConfig,
    bus: &Arc<EventBus>,
    (file_errors, unwritten): (Box<dyn std::io::Write + Send>, crate::report::Unwritten),
    failures: &LedgerFailures,
) -> Result<Opened, RunError> {
    let paths = CoordPaths::resolve(cfg.coord_dir.as_deref()).map_err(RunError::CoordResolve)?;
    let opts = ProvisionOptions {
        repair_perms: false,
    };
    provision(&paths, &opts).map_err(RunError::Provision)?;
    let reconciled = reconcile(&paths).map_err(RunError::Reconcile)?;
    let ledger = Arc::new(Ledger::open(&paths).map_err(RunError::Ledger)?);
    bus.subscribe(Box::new(LedgerRecorder::with_failures(
        Arc::clone(&ledger),
        failures.clone(),
    )));
    let run_id = prepare::new_run_id();
    bus.emit(EventKind::RunStarted(RunStart {
        run_id: run_id.clone(),
        source: cfg.recipe.clone(),
        git_ref: cfg.git_ref.clone(),
        pr: cfg.pr,
        stages: cfg.stages.clone(),
        deployer: cfg.deployer.name().to_string(),
    }));
    let purpose = Purpose::Run {
        ledger: &ledger,
        bus,
    };
    if reconciled.needs_attention() {
        // Quarantined spool files and id collisions are recorded; the operator must see them too.
        bus.emit(EventKind::Warning {
            message: format!("coord reconcile: {reconciled}"),
        });
    }
    let prepared = prepare::prepare(&cfg, &paths, &paths.runs, &run_id, purpose)
        .and_then(prepare::unless_interrupted)?;
    // Events the ledger cannot take end up beside the run's other files, if it comes to that.
    failures.set_fallback_dir(artifact_paths(&cfg, &prepared).dir);
    bus.subscribe_first(Box::new(
        ArtifactWriter::new(
            artifact_paths(&cfg, &prepared),
            bus.redactor().clone(),
            file_errors,
        )
        .with_unwritten(unwritten),
    ));
    bus.emit(EventKind::Planned(Box::new(header(&prepared))));
    // Before the engine is touched: what swarm will ignore, and the lint verdict.
    for w in &prepared.facts.warnings {
        bus.emit(EventKind::Warning {
            message: format!("compose: {w}"),
        });
    }
    if let Some(lint) = &prepared.lint {
        bus.emit(EventKind::Linted(lint.clone()));
    }
    if prepared.plan.tests().next().is_none() {
        for message in will_not_run(&prepared.plan) {
            bus.emit(EventKind::Warning { message });
        }
        return Ok(Opened::NoTests {
            run_dir: prepared.run_dir,
        });
    }
    let engine = Engine::connect()
        .and_then(|e| e.require_swarm().map(|_| e))
        .map_err(RunError::Engine)?;
    engine.set_engine_wait(cfg.engine_wait);
    let engine = Arc::new(engine);
    janitor(&engine, &paths, bus, &ledger, &run_id);
    // Another coord tree's live run (or a stack nobody live made) is only seen on the engine.
    engine
        .check_stack_free(&prepared.stack, &run_id)
        .map_err(|e| RunError::StackBusy(Box::new(e)))?;
    let app = AppRef {
        run_id,
        recipe: prepared.recipe.clone(),
        domain: prepared.domain.clone(),
        stack: prepared.stack.clone(),
        run_dir: prepared.run_dir.clone(),
        lock_path: prepared
            .lock
            .as_ref()
            .map(|l| l.path().to_path_buf())
            .unwrap_or_default(),
        redactor: bus.redactor().clone(),
    };
    let deployer = make_deployer(&cfg, &engine, &app, &prepared, bus)?;
    // The run goes ahead: the skip-generic grant's use is spent now, before the first deploy.
    if prepared.skip_grant.is_some() {
        let recipe = &prepared.recipe;
        super::grants::spend_generic_skip(&cfg, &ledger, bus, recipe, &app.run_id)?;
    }
    let mut live = Live::new(engine.clone(), &app, &prepared);
    if cfg.selection.show_output {
        live.echo = Some(Arc::clone(bus));
    }
    let live = Arc::new(live);
    Ok(Opened::Ready {
        shared: Arc::new(Shared {
            cfg,
            prepared,
            live,
            bus: Arc::clone(bus),
            deployer: Mutex::new(deployer),
            abort: Default::default(),
            infrastructure: Default::default(),
        }),
    })
}

/// The tiers on their worker, then the end of the run.
fn go(sh: Arc<Shared>, failures: &LedgerFailures) -> RunEnd {
    let signal = supervise(&sh);
    conclude(&sh, signal, failures)
}

/// After the tiers (or at once on a signal): teardown, whatever happened; the abra lint; and how the
/// run ended.
pub(super) fn conclude(sh: &Shared, signal: Option<&str>, failures: &LedgerFailures) -> RunEnd {
    // Teardown, whatever happened. On a signal the worker may still hold the deployer: then the engine
    // removes the stack on its own (it does so in every case, after the deployer's teardown).
    let td = match sh.deployer.try_lock() {
        Ok(mut d) => teardown::teardown(Some(d.as_mut()), sh.live.engine.as_ref(), &sh.live.app),
        Err(_) => teardown::teardown(None, sh.live.engine.as_ref(), &sh.live.app),
    };
    if !td.clean {
        sh.check_engine();
    }
    sh.bus.emit(EventKind::TeardownFinished(TeardownFinish {
        stack: sh.live.app.stack.clone(),
        result: td,
        signal: signal.map(str::to_string),
    }));
    if let (None, DeployerKind::Abra { .. }) = (signal, &sh.cfg.deployer) {
        // After the app is gone: the recipe lint needs only the run's abra state and checkout.
        sh.bus.emit(EventKind::Linted(abra_lint(
            &sh.cfg,
            &sh.prepared,
            &sh.live,
        )));
    }
    let r = sh.bus.result();
    let failed = r
        .tiers
        .iter()
        .any(|t| matches!(t.status, TierStatus::Failed))
        || !r.teardown.clean
        || r.deploy_count != 1;
    let held = failures.pending();
    if held > 0 {
        sh.bus.emit(EventKind::Warning {
            message: format!(
                "{held} ledger event(s) could not be recorded so far ({}); they are retried until the run ends, then kept in a file for `cc-ci coord reconcile --from`",
                failures.reasons().join("; ")
            ),
        });
    }
    let infrastructure = sh
        .infrastructure
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let class = ExitClass::of_run(RunFacts {
        failed,
        interrupted: signal.is_some() || r.interrupted,
        record_incomplete: held > 0,
        infrastructure: infrastructure.is_some(),
    });
    let artifacts = artifact_paths(&sh.cfg, &sh.prepared);
    RunEnd {
        class,
        exit_code: class.code(),
        reason: None,
        duration_ms: sh.bus.elapsed_ms(),
        artifacts: Artifacts {
            junit: artifacts.junit,
            markdown: artifacts.markdown,
            results: Some(artifacts.dir.join(crate::report::results::FILE_NAME)),
            ledger: CoordPaths::resolve(sh.cfg.coord_dir.as_deref())
                .ok()
                .map(|p| p.ledger_db),
        },
        secrets_printed: sh.bus.leaked(),
        ledger_checkpoint: None,
        infrastructure,
    }
}

/// Runs the tiers on a worker thread and waits for it or for SIGINT/SIGTERM. Returns the signal's
/// name when interrupted, without waiting for the worker.
fn supervise(sh: &Arc<Shared>) -> Option<&'static str> {
    enum Msg {
        Done,
        Signal(i32),
    }
    let (tx, rx) = mpsc::channel();
    let signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ]);
    let handle = match signals {
        Ok(mut sigs) => {
            let handle = sigs.handle();
            let tx = tx.clone();
            std::thread::spawn(move || {
                if let Some(sig) = sigs.forever().next() {
                    let _ = tx.send(Msg::Signal(sig));
                }
            });
            Some(handle)
        }
        Err(e) => {
            sh.bus.emit(EventKind::Warning {
                message: format!(
                    "cannot watch SIGINT/SIGTERM ({e}); teardown still follows the run"
                ),
            });
            None
        }
    };
    // A signal that came after preparing and before the watcher above only raised the flag.
    if crate::recipe::interrupt_flag().load(Ordering::SeqCst) {
        let _ = tx.send(Msg::Signal(signal_hook::consts::SIGTERM));
    }
    let worker = Arc::clone(sh);
    std::thread::spawn(move || {
        let r =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tiers::run_tiers(&worker)));
        if r.is_err() {
            worker.bus.emit(EventKind::SessionPanicked);
        }
        let _ = tx.send(Msg::Done);
    });
    let signal = match rx.recv() {
        Ok(Msg::Signal(sig)) => {
            let name = if sig == signal_hook::consts::SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            };
            sh.abort.store(true, Ordering::SeqCst);
            sh.bus.emit(EventKind::Interrupted {
                signal: name.to_string(),
            });
            Some(name)
        }
        _ => None,
    };
    if let Some(h) = &handle {
        h.close();
    }
    signal
}

fn header(p: &Prepared) -> RunHeader {
    RunHeader {
        recipe: p.recipe.clone(),
        host: hostname(),
        head_ref: p.checkout.head_ref.clone(),
        head_ref_source: p.head_ref_source.clone(),
        previous_release: p.previous_release.as_ref().map(|r| r.tag.clone()),
        domain: p.domain.clone(),
        stack: p.stack.clone(),
        customization: p.customization.clone(),
        upgrade_base: p.upgrade_base.clone(),
    }
}

/// Where the run's files go: `--artifacts` (absolute: the CLI resolves it), else the run's directory;
/// with `--artifacts`, a copy of results.json stays in the run's directory too.
pub(super) fn artifact_paths(cfg: &RunConfig, p: &Prepared) -> ArtifactPaths {
    ArtifactPaths {
        dir: cfg
            .artifacts
            .clone()
            .unwrap_or_else(|| p.run_dir.join("artifacts")),
        junit: cfg.junitxml.clone(),
        markdown: cfg.summary_md.clone(),
        copy_dir: cfg.artifacts.as_ref().map(|_| p.run_dir.clone()),
    }
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}
