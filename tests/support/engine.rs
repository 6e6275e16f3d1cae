//! The real Docker engine for integration tests: one shared connection, unique names, and a deployed
//! example app that removes itself (stack and all) when dropped. Tests on this engine run beside other
//! people's: every name carries a random id and nothing here touches resources it did not create.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use cc_ci::deploy::stack::{StackDeployer, StackOptions};
use cc_ci::deploy::{stack_name, AppRef, DeployRequest, Deployer};
use cc_ci::docker::{Engine, RunLock};
use cc_ci::redact::Redactor;

use super::recipe_repo::{self, RecipeRepo};

/// The shared engine connection (swarm required).
pub fn engine() -> Arc<Engine> {
    static E: OnceLock<Arc<Engine>> = OnceLock::new();
    E.get_or_init(|| {
        let e = Engine::connect().expect("a docker engine (run scripts/setup-engine.sh)");
        e.require_swarm().expect("swarm mode");
        Arc::new(e)
    })
    .clone()
}

/// A short random id for names: 8 hex characters.
pub fn unique() -> String {
    let mut b = [0u8; 4];
    getrandom::getrandom(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One app of the example recipe, with its own run dir, lock and recipe repository.
pub struct TestApp {
    pub domain: String,
    pub stack: String,
    pub app: AppRef,
    pub repo: RecipeRepo,
    pub deployer: StackDeployer,
    /// Held while the app lives (the janitor leaves a locked run alone).
    _lock: RunLock,
    pub dir: tempfile::TempDir,
}

impl TestApp {
    /// A new app of the example recipe `hello` (nothing deployed yet) named `<prefix>-<random>.ci.test`.
    pub fn new(prefix: &str) -> TestApp {
        Self::for_recipe(prefix, "hello")
    }

    /// Like [`TestApp::new`] for any recipe folder of `examples/recipes/`.
    pub fn for_recipe(prefix: &str, recipe: &str) -> TestApp {
        let id = unique();
        let dir = tempfile::tempdir().unwrap();
        let repo = recipe_repo::build(recipe, &dir.path().join(recipe));
        let domain = format!("{prefix}-{id}.ci.test");
        let stack = stack_name(&domain);
        let run_dir = dir.path().join("runs").join(&id);
        let lock = RunLock::acquire(&run_dir, &id, &stack).unwrap();
        let app = AppRef {
            run_id: format!("run-{id}"),
            recipe: recipe.into(),
            domain: domain.clone(),
            stack: stack.clone(),
            run_dir: run_dir.clone(),
            lock_path: lock.path().to_path_buf(),
            redactor: Redactor::new(),
        };
        let deployer = StackDeployer::new(
            engine(),
            app.clone(),
            StackOptions {
                create_proxy_network: true,
            },
        );
        TestApp {
            domain,
            stack,
            app,
            repo,
            deployer,
            _lock: lock,
            dir,
        }
    }

    /// Checks the recipe repository out at `rev` (a tag, `main`, a commit).
    pub fn checkout(&self, rev: &str) {
        git(&self.repo.path, &["checkout", "-q", rev]);
    }

    pub fn request(&self, chaos: bool) -> DeployRequest {
        DeployRequest {
            checkout: self.repo.path.clone(),
            chaos,
            env: Default::default(),
            timeout: Some(Duration::from_secs(120)),
        }
    }

    /// Installs the current checkout (chaos when asked).
    pub fn install(&mut self, chaos: bool) {
        let req = self.request(chaos);
        self.deployer.install(&req).expect("install");
    }

    /// Runs a shell command in the app container and returns stdout (exit 0 required).
    pub fn sh(&self, script: &str) -> String {
        self.sh_in("app", script)
    }

    /// Runs a shell command in a container of `service` and returns stdout (exit 0 required).
    pub fn sh_in(&self, service: &str, script: &str) -> String {
        let cmd = vec!["sh".to_string(), "-c".to_string(), script.to_string()];
        engine()
            .exec(&self.stack, service, &cmd, &Default::default())
            .unwrap_or_else(|e| panic!("exec {script:?} in {service}: {e}"))
            .stdout
    }

    /// Adds (or replaces) labels of a service's spec with the docker CLI (spec labels only: the
    /// service's tasks are not restarted).
    pub fn set_service_labels(&self, service: &str, labels: &[(&str, &str)]) {
        let full = format!("{}_{service}", self.stack);
        let mut args = vec!["service".to_string(), "update".into(), "--detach".into()];
        for (k, v) in labels {
            args.push("--label-add".into());
            args.push(format!("{k}={v}"));
        }
        args.push(full);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        super::containers::docker_ok(&args);
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = engine().remove_stack(&self.stack);
    }
}

pub fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(repo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
