//! The session without Docker, for unit tests: a scripted app behind the engine seam ([`AppEngine`])
//! and a deployer that records its calls drive the real tier loop and the real end of a run, on a real
//! git checkout. [`Harness`] builds one such session.

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
use crate::report::event::{Collector, RunEvent};
use crate::report::{EventBus, EventKind, LedgerFailures, Subscriber};
use crate::spec::{parse_spec, RecipeMeta, SpecFile, Tier};

use super::config::{parse_stages, DeployerKind, RunConfig, Selection};
use super::context::Live;
use super::engine::AppEngine;
use super::plan::{self, OverlaySpec, PlanInput};
use super::prepare::Prepared;
use super::session::conclude;
use super::tiers::{run_tiers, Shared};
use super::trust::Admission;

const STACK: &str = "hello_test";

/// The app as the fake engine and the fake deployer share it.
pub(super) struct App {
    pub(super) calls: Vec<String>,
    pub(super) fail: Option<&'static str>,
    pub(super) panic: Option<&'static str>,
    pub(super) version: Option<String>,
    pub(super) chaos_version: Option<String>,
    pub(super) fresh: u32,
    /// Fresh deploys one install counts (a broken deployer may deploy twice).
    pub(super) deploys_per_install: u32,
    pub(super) removed: bool,
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

    fn open_forward(
        &self,
        req: &crate::docker::ForwardRequest,
    ) -> Result<crate::docker::Forward, DockerError> {
        Err(DockerError::Forward {
            stack: req.stack.to_string(),
            service: req.service.to_string(),
            reason: "the scripted app has no network".into(),
        })
    }

    fn close_forward(&self, _fwd: &crate::docker::Forward) -> Result<(), DockerError> {
        Ok(())
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
        // What abra leaves: a .tar.gz of `<volume>/<path>`, its checksum taken when it was made.
        let path = dest.join("backup.tar.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        {
            let mut b = tar::Builder::new(&mut gz);
            let mut h = tar::Header::new_gnu();
            h.set_size(7);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, "content/index.html", &b"volumes"[..])
                .map_err(|e| DeployError::Other(e.to_string()))?;
            b.finish().map_err(|e| DeployError::Other(e.to_string()))?;
        }
        let data = gz.finish().map_err(|e| DeployError::Other(e.to_string()))?;
        std::fs::write(&path, &data).map_err(|e| DeployError::Other(e.to_string()))?;
        Ok(BackupArtifact {
            path,
            sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data)),
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
fn prepared(
    dir: &Path,
    stages: &[Tier],
    selection: &Selection,
    overlays: &[OverlaySpec],
) -> Prepared {
    let checkout = recipe(&dir.join("recipe"));
    let specs = generic();
    let meta = RecipeMeta::default();
    let plan = plan::build(&PlanInput {
        stages,
        meta: &meta,
        generic: &specs,
        overlays,
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
        admission: Admission::none(),
        held_back: Vec::new(),
        skip_grant: None,
        data_dir: super::prepare::DataDir {
            path: dir.to_path_buf(),
            from: "the session test",
        },
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
        screenshots: crate::runner::ScreenshotMode::Off,
        chromium: None,
        proxy_network: "proxy".into(),
        engine_wait: std::time::Duration::from_secs(60),
        git_timeout: crate::recipe::DEFAULT_GIT_TIMEOUT,
        ci: false,
        trust_gate_off: false,
        selection,
        python_path: None,
        debug_panic_in_check: None,
    }
}

pub(super) struct Harness {
    pub(super) sh: Arc<Shared>,
    pub(super) app: SharedApp,
    pub(super) events: Arc<Mutex<Collector>>,
    pub(super) _dir: tempfile::TempDir,
}

impl Harness {
    /// A session of `hello` on the fake app; `args` are `cc-ci run` libtest arguments.
    pub(super) fn new(args: &[&str], maxfail: Option<usize>, app: App) -> Self {
        Self::build(args, maxfail, app, &[], |_, _| Admission::none())
    }

    /// Like [`Harness::new`] with these overlays (repo-local ones among them) and the run's
    /// admission of repo-local files, made from the test's directory and the run's bus.
    pub(super) fn build(
        args: &[&str],
        maxfail: Option<usize>,
        app: App,
        overlays: &[OverlaySpec],
        admission: impl FnOnce(&Path, Arc<EventBus>) -> Admission,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut argv = vec!["cc-ci"];
        argv.extend_from_slice(args);
        let selection = Selection {
            maxfail,
            libtest: libtest_mimic::Arguments::from_iter(argv),
            ..Selection::default()
        };
        let stages = parse_stages(None).unwrap();
        let mut prepared = prepared(dir.path(), &stages, &selection, overlays);
        let cfg = config(dir.path(), stages, selection);
        let app = Arc::new(Mutex::new(app));
        let head = prepared.checkout.head_ref.clone().unwrap();
        let redactor = Redactor::new();
        let bus = Arc::new(EventBus::new(redactor.clone()));
        let events = Arc::new(Mutex::new(Collector::default()));
        bus.subscribe(Box::new(Events(Arc::clone(&events))));
        prepared.admission = admission(dir.path(), Arc::clone(&bus));
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
    pub(super) fn run(&self) -> ExitClass {
        run_tiers(&self.sh);
        conclude(&self.sh, None, &LedgerFailures::default()).class
    }

    pub(super) fn calls(&self) -> Vec<String> {
        self.app.lock().unwrap().calls.clone()
    }

    pub(super) fn events(&self) -> Vec<RunEvent> {
        self.events.lock().unwrap().events.clone()
    }

    /// Each trial's verdict word, by test id.
    pub(super) fn verdicts(&self) -> BTreeMap<String, &'static str> {
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
