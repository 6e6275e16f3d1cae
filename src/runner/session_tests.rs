//! The session without Docker: a scripted app behind the engine seam ([`AppEngine`]) and a deployer
//! that records its calls drive the real tier loop and the real end of a run, on a real git checkout.
//! Ops run once and in order, filters never drop an op, an op failure fails its tier and blocks the
//! later ones, a panicking op is a failure, `-x` stops the rest, and teardown happens whatever happened.
//! The Docker end-to-end tests (tests/e2e) prove the same on the engine.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::deploy::{AppRef, BackupArtifact, DeployError, DeployRequest, Deployer};
use crate::discover::{Discovery, GateDecision, GateVia, RepoLocal};
use crate::docker::{ConvergeReport, DockerError, ExecOptions, ExecOutput, ServiceState};
use crate::exit::ExitClass;
use crate::recipe::{Checkout, HeadRefSource};
use crate::redact::Redactor;
use crate::report::event::{Collector, OpOutcome, RunEvent, SkipReason};
use crate::report::{EventBus, EventKind, LedgerFailures, Outcome, Subscriber};
use crate::spec::{parse_spec, RecipeMeta, SpecFile, Tier};

use super::config::{parse_stages, DeployerKind, RunConfig, Selection};
use super::context::Live;
use super::engine::AppEngine;
use super::plan::{self, PlanInput};
use super::prepare::Prepared;
use super::session::conclude;
use super::tiers::{run_tiers, Shared};

const STACK: &str = "hello_test";

/// The app as the fake engine and the fake deployer share it.
struct App {
    calls: Vec<String>,
    fail: Option<&'static str>,
    panic: Option<&'static str>,
    version: Option<String>,
    chaos_version: Option<String>,
    fresh: u32,
    /// Fresh deploys one install counts (a broken deployer may deploy twice).
    deploys_per_install: u32,
    removed: bool,
}

impl Default for App {
    fn default() -> Self {
        App {
            calls: Vec::new(),
            fail: None,
            panic: None,
            version: None,
            chaos_version: None,
            fresh: 0,
            deploys_per_install: 1,
            removed: false,
        }
    }
}

type SharedApp = Arc<Mutex<App>>;

fn call(app: &SharedApp, what: &'static str) -> Result<(), DeployError> {
    let mut a = app.lock().unwrap();
    a.calls.push(what.to_string());
    if a.panic == Some(what) {
        drop(a);
        panic!("{what} panicked on purpose");
    }
    if a.fail == Some(what) {
        return Err(DeployError::Other(format!("{what} failed on purpose")));
    }
    Ok(())
}

struct FakeEngine(SharedApp);

impl AppEngine for FakeEngine {
    fn services(&self, stack: &str) -> Result<Vec<ServiceState>, DockerError> {
        let a = self.0.lock().unwrap();
        if a.removed {
            return Ok(Vec::new());
        }
        let mut labels = BTreeMap::new();
        let key = |k: &str| format!("coop-cloud.{stack}.{k}");
        if let Some(v) = &a.version {
            labels.insert(key("version"), v.clone());
        }
        if let Some(c) = &a.chaos_version {
            labels.insert(key("chaos"), "true".into());
            labels.insert(key("chaos-version"), c.clone());
        }
        labels.insert("backupbot.backup".into(), "true".into());
        Ok(vec![ServiceState {
            name: "app".into(),
            full_name: format!("{stack}_app"),
            labels,
            image: "ccci/busybox:1".into(),
            desired: 1,
            running: 1,
            healthy: Some(true),
            health_starting: false,
            update_state: None,
        }])
    }

    fn exec(
        &self,
        _: &str,
        _: &str,
        _: &[String],
        _: &ExecOptions,
    ) -> Result<ExecOutput, DockerError> {
        Ok(ExecOutput {
            stdout: String::new(),
            stderr: String::new(),
            exit_code: 0,
            attempts: 1,
        })
    }

    fn logs(&self, _: &str, _: &str, _: usize) -> Result<String, DockerError> {
        Ok(String::new())
    }

    fn wait_converged(
        &self,
        stack: &str,
        _: Duration,
        progress: &mut dyn FnMut(&str),
    ) -> Result<ConvergeReport, DockerError> {
        progress("app 1/1 healthy");
        Ok(ConvergeReport {
            services: self.services(stack)?,
            waited: Duration::ZERO,
            event_checks: 1,
            tick_checks: 0,
        })
    }

    fn remove_stack(&self, _: &str, _: &str) -> Result<(), DockerError> {
        let mut a = self.0.lock().unwrap();
        a.calls.push("remove_stack".into());
        a.removed = true;
        Ok(())
    }

    fn leftovers(&self, _: Option<&str>, _: &str) -> Result<Vec<String>, DockerError> {
        let a = self.0.lock().unwrap();
        Ok(if a.removed {
            Vec::new()
        } else {
            vec!["service hello_test_app".into()]
        })
    }

    fn engine_gone(&self) -> Option<String> {
        None
    }
}

struct FakeDeployer {
    app: SharedApp,
    head: String,
}

impl Deployer for FakeDeployer {
    fn kind(&self) -> &'static str {
        "fake"
    }
    fn install(&mut self, _: &DeployRequest) -> Result<(), DeployError> {
        call(&self.app, "install")?;
        let mut a = self.app.lock().unwrap();
        a.fresh += a.deploys_per_install;
        a.version = Some("1.0.0".into());
        Ok(())
    }
    fn upgrade(&mut self, _: &DeployRequest) -> Result<(), DeployError> {
        call(&self.app, "upgrade")?;
        let mut a = self.app.lock().unwrap();
        a.version = Some("1.1.0".into());
        a.chaos_version = Some(self.head[..8].to_string());
        Ok(())
    }
    fn backup(&mut self, dest: &Path) -> Result<BackupArtifact, DeployError> {
        call(&self.app, "backup")?;
        let path = dest.join("backup.tar.gz");
        std::fs::write(&path, "volumes").map_err(|e| DeployError::Other(e.to_string()))?;
        Ok(BackupArtifact {
            path,
            sha256: String::new(),
            entries: Vec::new(),
        })
    }
    fn restore(&mut self, _: &BackupArtifact) -> Result<(), DeployError> {
        call(&self.app, "restore")
    }
    fn teardown(&mut self) -> Result<(), DeployError> {
        call(&self.app, "teardown")
    }
    fn fresh_deploys(&self) -> u32 {
        self.app.lock().unwrap().fresh
    }
}

struct Events(Arc<Mutex<Collector>>);

impl Subscriber for Events {
    fn event(&mut self, ev: &RunEvent) {
        self.0.lock().unwrap().event(ev);
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A recipe checkout with release `1.0.0` and a head commit after it.
fn recipe(dir: &Path) -> Checkout {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q"]);
    std::fs::write(dir.join("compose.yml"), "version: '3.8'\n").unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "release"]);
    git(dir, &["tag", "1.0.0"]);
    std::fs::write(dir.join("compose.yml"), "version: '3.8'\n# head\n").unwrap();
    git(dir, &["commit", "-qam", "head"]);
    Checkout {
        path: dir.to_path_buf(),
        name: "hello".into(),
        head_ref: Some(git(dir, &["rev-parse", "HEAD"])),
        head_ref_source: HeadRefSource::Head,
    }
}

fn generic() -> Vec<SpecFile> {
    let spec = |p: &str, y: &str| parse_spec(Path::new(p), y).unwrap();
    vec![
        spec("generic-tests/install.yaml", "tier: install\ntests:\n  - name: converged\n    converged: {}\n  - name: healthy\n    healthy: {}\n"),
        spec("generic-tests/upgrade.yaml", "tier: upgrade\ntests:\n  - name: deployed_head\n    deployed_head: {}\n"),
        spec("generic-tests/backup.yaml", "tier: backup\ntests:\n  - name: backup_exists\n    backup_exists: {}\n"),
        spec("generic-tests/restore.yaml", "tier: restore\ntests:\n  - name: converged\n    converged: {}\n"),
    ]
}

/// A prepared run of `hello` with the generic specs, release `1.0.0` before the head.
fn prepared(dir: &Path, stages: &[Tier], selection: &Selection) -> Prepared {
    let checkout = recipe(&dir.join("recipe"));
    let specs = generic();
    let meta = RecipeMeta::default();
    let plan = plan::build(&PlanInput {
        stages,
        meta: &meta,
        generic: &specs,
        overlays: &[],
        pytest: &[],
        skip_generic: None,
        upgrade_base: Ok(super::plan::InstallBase {
            rev: "1.0.0".into(),
            chaos: false,
        }),
        selection,
        install_steps: None,
        backup_capable: true,
    })
    .unwrap();
    let run_dir = dir.join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    Prepared {
        recipe: "hello".into(),
        run_dir: run_dir.clone(),
        lock: None,
        stack_lock: None,
        head_ref_source: "checkout HEAD".into(),
        previous_release: None,
        upgrade_base: None,
        discovery: Discovery {
            meta,
            meta_path: None,
            generic: specs,
            overlays: Vec::new(),
            pytest: Vec::new(),
            repo_local: RepoLocal::default(),
            gate: GateDecision {
                allowed: false,
                via: GateVia::NotNeeded,
                reason: "no repo-local files".into(),
                files: Vec::new(),
            },
            errors: Vec::new(),
            warnings: Vec::new(),
        },
        plan,
        domain: "hello.ci.local".into(),
        stack: STACK.into(),
        customization: Vec::new(),
        notes: Vec::new(),
        lint: None,
        facts: Default::default(),
        checkout,
    }
}

/// The configuration such a run was given.
fn config(dir: &Path, stages: Vec<Tier>, selection: Selection) -> RunConfig {
    RunConfig {
        recipe: "hello".into(),
        recipe_name: None,
        git_ref: None,
        pr: None,
        stages,
        deployer: DeployerKind::Stack,
        domain: None,
        skip_generic: false,
        coord_dir: Some(dir.join("coord")),
        data_dir: None,
        allowlist: None,
        recipe_base_url: String::new(),
        junitxml: None,
        summary_md: None,
        artifacts: None,
        pause_after: None,
        upgrade_from: None,
        create_proxy_network: false,
        proxy_network: "proxy".into(),
        engine_wait: std::time::Duration::from_secs(60),
        git_timeout: crate::recipe::DEFAULT_GIT_TIMEOUT,
        ci: false,
        trust_gate_off: false,
        selection,
    }
}

struct Harness {
    sh: Arc<Shared>,
    app: SharedApp,
    events: Arc<Mutex<Collector>>,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// A session of `hello` on the fake app; `args` are `cc-ci run` libtest arguments.
    fn new(args: &[&str], maxfail: Option<usize>, app: App) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut argv = vec!["cc-ci"];
        argv.extend_from_slice(args);
        let selection = Selection {
            maxfail,
            libtest: libtest_mimic::Arguments::from_iter(argv),
            ..Selection::default()
        };
        let stages = parse_stages(None).unwrap();
        let prepared = prepared(dir.path(), &stages, &selection);
        let cfg = config(dir.path(), stages, selection);
        let app = Arc::new(Mutex::new(app));
        let head = prepared.checkout.head_ref.clone().unwrap();
        let redactor = Redactor::new();
        let bus = Arc::new(EventBus::new(redactor.clone()));
        let events = Arc::new(Mutex::new(Collector::default()));
        bus.subscribe(Box::new(Events(Arc::clone(&events))));
        let app_ref = AppRef {
            run_id: "run-1".into(),
            recipe: "hello".into(),
            domain: "hello.ci.local".into(),
            stack: STACK.into(),
            run_dir: prepared.run_dir.clone(),
            lock_path: Default::default(),
            redactor,
        };
        let live = Live::new(Arc::new(FakeEngine(Arc::clone(&app))), &app_ref, &prepared);
        let deployer = FakeDeployer {
            app: Arc::clone(&app),
            head,
        };
        let sh = Arc::new(Shared {
            cfg,
            prepared,
            live: Arc::new(live),
            bus,
            deployer: Mutex::new(Box::new(deployer)),
            abort: AtomicBool::new(false),
            infrastructure: Default::default(),
        });
        Harness {
            sh,
            app,
            events,
            _dir: dir,
        }
    }

    /// The tier loop, then the end of the run (teardown included).
    fn run(&self) -> ExitClass {
        run_tiers(&self.sh);
        conclude(&self.sh, None, &LedgerFailures::default()).class
    }

    fn calls(&self) -> Vec<String> {
        self.app.lock().unwrap().calls.clone()
    }

    fn events(&self) -> Vec<RunEvent> {
        self.events.lock().unwrap().events.clone()
    }

    /// Each trial's verdict word, by test id.
    fn verdicts(&self) -> BTreeMap<String, &'static str> {
        let mut v = BTreeMap::new();
        for ev in self.events() {
            let tests = match ev.kind {
                EventKind::TrialFinished(t) => vec![t.test],
                EventKind::TierSkipped(s) => s.tests,
                _ => continue,
            };
            for t in tests {
                v.insert(t.id, crate::report::event::outcome_word(&t.outcome));
            }
        }
        v
    }
}

#[test]
fn every_op_runs_once_in_tier_order_and_teardown_follows() {
    let h = Harness::new(&[], None, App::default());
    assert_eq!(h.run(), ExitClass::Passed);
    assert_eq!(
        h.calls(),
        [
            "install",
            "upgrade",
            "backup",
            "restore",
            "teardown",
            "remove_stack"
        ]
    );
    let ops: Vec<String> = h
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::OpStarted { tier, op } => Some(format!("{tier}:{op}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        ops,
        [
            "install:deploy",
            "upgrade:upgrade",
            "backup:backup",
            "restore:restore"
        ]
    );
    assert!(
        h.verdicts().values().all(|w| *w == "passed"),
        "{:?}",
        h.verdicts()
    );
    let r = h.sh.bus.result();
    assert_eq!(r.deploy_count, 1);
    assert!(r.teardown.clean);
    let proof = r.upgrade_proof.expect("the upgrade is proved");
    assert_eq!(proof.verdict, "chaos-version matches head_ref");
}

#[test]
fn a_filter_selects_assertions_and_never_drops_an_op() {
    let h = Harness::new(&["restore::"], None, App::default());
    assert_eq!(h.run(), ExitClass::Passed);
    assert_eq!(
        h.calls(),
        [
            "install",
            "upgrade",
            "backup",
            "restore",
            "teardown",
            "remove_stack"
        ]
    );
    let ids: Vec<String> = h.verdicts().into_keys().collect();
    assert_eq!(ids, ["restore::generic-tests/restore.yaml::converged"]);
}

#[test]
fn a_failed_op_fails_its_tier_blocks_the_later_ones_and_teardown_still_runs() {
    let app = App {
        fail: Some("upgrade"),
        ..App::default()
    };
    let h = Harness::new(&[], None, app);
    assert_eq!(h.run(), ExitClass::Failed);
    assert_eq!(
        h.calls(),
        ["install", "upgrade", "teardown", "remove_stack"]
    );
    let v = h.verdicts();
    assert_eq!(
        v["install::generic-tests/install.yaml::converged"],
        "passed"
    );
    assert_eq!(
        v["upgrade::generic-tests/upgrade.yaml::deployed_head"],
        "failed"
    );
    assert_eq!(
        v["backup::generic-tests/backup.yaml::backup_exists"],
        "not_run"
    );
    assert_eq!(
        v["restore::generic-tests/restore.yaml::converged"],
        "not_run"
    );
    let skipped: Vec<(Tier, SkipReason)> = h
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::TierSkipped(s) => Some((s.tier, s.why)),
            _ => None,
        })
        .collect();
    let blocked = SkipReason::NotRun {
        reason: "upgrade op failed".into(),
    };
    assert_eq!(
        skipped,
        [(Tier::Backup, blocked.clone()), (Tier::Restore, blocked)]
    );
    let failure = h.events().into_iter().find_map(|e| match e.kind {
        EventKind::OpFinished(o) => match o.outcome {
            OpOutcome::Failed { error } => Some(error),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(failure.as_deref(), Some("upgrade failed on purpose"));
    assert!(h.sh.bus.result().teardown.clean);
}

#[test]
fn a_panicking_op_is_a_failed_op_and_the_app_is_still_removed() {
    let app = App {
        panic: Some("backup"),
        ..App::default()
    };
    let h = Harness::new(&[], None, app);
    assert_eq!(h.run(), ExitClass::Failed);
    assert_eq!(
        h.calls(),
        ["install", "upgrade", "backup", "teardown", "remove_stack"]
    );
    let v = h.verdicts();
    assert_eq!(
        v["backup::generic-tests/backup.yaml::backup_exists"],
        "failed"
    );
    let r = h.sh.bus.result();
    let op = r.tier("backup").unwrap().op.clone().unwrap();
    assert_eq!(op.error.as_deref(), Some("the op panicked"));
}

#[test]
fn exitfirst_stops_after_the_first_failure_and_reports_the_rest_as_not_run() {
    let app = App {
        fail: Some("install"),
        ..App::default()
    };
    let h = Harness::new(&[], Some(1), app);
    assert_eq!(h.run(), ExitClass::Failed);
    let v = h.verdicts();
    assert_eq!(
        v["install::generic-tests/install.yaml::converged"],
        "failed"
    );
    assert_eq!(v["install::generic-tests/install.yaml::healthy"], "not_run");
    assert_eq!(
        v["upgrade::generic-tests/upgrade.yaml::deployed_head"],
        "not_run"
    );
    let r = h.sh.bus.result();
    let healthy = r.tests().find(|t| t.name == "healthy").unwrap();
    assert_eq!(
        healthy.outcome,
        Outcome::NotRun {
            reason: "not run: stopped after the first failure (-x)".into()
        }
    );
    // The failed install never counted as a deploy: the run fails on deploy-count too.
    assert_eq!(r.deploy_count, 0);
}

#[test]
fn maxfail_stops_after_its_nth_failure_not_before() {
    let app = App {
        fail: Some("install"),
        ..App::default()
    };
    let h = Harness::new(&[], Some(2), app);
    assert_eq!(h.run(), ExitClass::Failed);
    let v = h.verdicts();
    assert_eq!(
        v["install::generic-tests/install.yaml::converged"],
        "failed"
    );
    assert_eq!(
        v["install::generic-tests/install.yaml::healthy"], "failed",
        "the 2nd failure still runs"
    );
    assert_eq!(
        v["upgrade::generic-tests/upgrade.yaml::deployed_head"],
        "not_run"
    );
    let app = App {
        fail: Some("backup"),
        ..App::default()
    };
    let h = Harness::new(&[], Some(1), app);
    h.run();
    let r = h.sh.bus.result();
    let restore = r.tests().find(|t| t.id.starts_with("restore::")).unwrap();
    assert_eq!(
        restore.outcome,
        Outcome::NotRun {
            reason: "not run: backup op failed".into()
        },
        "an op failure still blocks the later tiers first"
    );
    assert_eq!(
        h.app
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| *c == "install")
            .count(),
        1,
        "ops are never repeated"
    );
}

#[test]
fn a_deploy_count_other_than_one_fails_a_run_whose_assertions_all_passed() {
    let app = App {
        deploys_per_install: 2,
        ..App::default()
    };
    let h = Harness::new(&[], None, app);
    assert_eq!(h.run(), ExitClass::Failed);
    assert!(h.verdicts().values().all(|w| *w == "passed"));
    assert_eq!(h.sh.bus.result().deploy_count, 2);
}
