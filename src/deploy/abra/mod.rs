//! The abra deployer: drives the `abra` CLI for one app, with a private abra state dir per run
//! (`ABRA_DIR=<run_dir>/abra`) whose `recipes/<name>` is the run's own checkout. Every call has a null
//! stdin, captured output, a timeout, and redaction (generated secrets are registered with the run's
//! redactor before any output is kept). It never evaluates assertions and never touches another
//! run's state; it never falls back to `~/.abra`.

mod artifact;
mod command;
mod secrets;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use command::AbraCall;
pub use secrets::generated_values;

use super::{AppRef, BackupArtifact, DeployError, DeployRequest, Deployer};

/// How cc-ci runs abra.
#[derive(Debug, Clone)]
pub struct AbraOptions {
    /// The abra binary (from `--abra` or a PATH lookup, see [`find_abra`]).
    pub abra: PathBuf,
    /// The abra server name apps are created on (default `default`).
    pub server: String,
    /// Upper bound for one abra call.
    pub timeout: Duration,
}

impl AbraOptions {
    /// Options with the default server (`default`) and a 15 minute call timeout.
    pub fn new(abra: PathBuf) -> AbraOptions {
        AbraOptions {
            abra,
            server: "default".into(),
            timeout: Duration::from_secs(900),
        }
    }
}

/// The abra binary: `explicit` when given (it must be an executable file), else `abra` on PATH.
pub fn find_abra(explicit: Option<&Path>) -> Result<PathBuf, DeployError> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if let Some(p) = explicit {
        if executable(p) {
            return Ok(std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
        }
        return Err(DeployError::Other(format!(
            "abra binary {} does not exist or is not executable (hint: check --abra)",
            p.display()
        )));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("abra"))
        .find(|p| executable(p))
        .ok_or_else(|| {
            DeployError::Other(
                "abra was not found on PATH (hint: install abra, pass --abra <path>, or use the \
                 built-in stack deployer)"
                    .into(),
            )
        })
}

/// Deploys one app through abra.
pub struct AbraDeployer {
    opts: AbraOptions,
    app: AppRef,
    checkout: PathBuf,
    abra_dir: PathBuf,
    extra_env: Vec<(String, String)>,
    calls: Vec<AbraCall>,
    fresh: u32,
    created: bool,
    deployed: bool,
}

impl AbraDeployer {
    /// A deployer for `app`, whose recipe checkout is `checkout` (the run's private one).
    pub fn new(opts: AbraOptions, app: AppRef, checkout: PathBuf) -> AbraDeployer {
        let abra_dir = app.run_dir.join("abra");
        AbraDeployer {
            opts,
            app,
            checkout,
            abra_dir,
            extra_env: Vec::new(),
            calls: Vec::new(),
            fresh: 0,
            created: false,
            deployed: false,
        }
    }

    /// Adds an environment variable to every abra call (e.g. for a test double).
    pub fn with_env(mut self, key: impl Into<String>, value: impl Into<String>) -> AbraDeployer {
        self.extra_env.push((key.into(), value.into()));
        self
    }

    /// The run's abra state dir (`ABRA_DIR`).
    pub fn abra_dir(&self) -> &Path {
        &self.abra_dir
    }

    /// Every abra call made so far, redacted, in order.
    pub fn calls(&self) -> &[AbraCall] {
        &self.calls
    }

    /// The app's env file in the run's abra state.
    pub fn env_file(&self) -> PathBuf {
        self.abra_dir
            .join("servers")
            .join(&self.opts.server)
            .join(format!("{}.env", self.app.domain))
    }

    fn abra(&mut self, args: &[&str]) -> Result<String, DeployError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut env = vec![(
            "ABRA_DIR".to_string(),
            self.abra_dir.to_string_lossy().into_owned(),
        )];
        env.extend(self.extra_env.iter().cloned());
        let display = command::display(&self.opts.abra, &args);
        let raw = command::run(
            &self.opts.abra,
            &args,
            &env,
            self.opts.timeout,
            &self.app.redactor,
        )?;
        // Secrets first: nothing of the output is kept before its secrets are registered.
        if args.iter().any(|a| a == "secret") {
            for v in generated_values(&raw.stdout) {
                self.app.redactor.add(v);
            }
        }
        let r = &self.app.redactor;
        let output = r.redact(&format!("{}{}", raw.stdout, raw.stderr));
        let command = r.redact(&display);
        self.calls.push(AbraCall {
            command: command.clone(),
            code: raw.code,
            duration: raw.duration,
        });
        self.transcript(&command, raw.code, &output);
        if raw.code != Some(0) {
            return Err(DeployError::Command {
                command,
                code: raw.code,
                tail: command::tail(&output, command::TAIL_LINES),
            });
        }
        Ok(output)
    }

    /// Appends a redacted record of a call to `<run_dir>/abra-transcript.log` (best effort).
    fn transcript(&self, command: &str, code: Option<i32>, output: &str) {
        use std::io::Write;
        let path = self.app.run_dir.join("abra-transcript.log");
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "$ {command}\n{output}\n[exit {code:?}]");
        }
    }

    /// Points `$ABRA_DIR/recipes/<recipe>` at the checkout to deploy from.
    fn link_recipe(&self, checkout: &Path) -> Result<(), DeployError> {
        let io = |e: std::io::Error, p: &Path| {
            DeployError::Other(format!("preparing abra state at {}: {e}", p.display()))
        };
        let recipes = self.abra_dir.join("recipes");
        std::fs::create_dir_all(&recipes).map_err(|e| io(e, &recipes))?;
        let link = recipes.join(&self.app.recipe);
        let target = std::fs::canonicalize(checkout).map_err(|e| io(e, checkout))?;
        if std::fs::read_link(&link).ok().as_deref() == Some(target.as_path()) {
            return Ok(());
        }
        if link.symlink_metadata().is_ok() {
            std::fs::remove_file(&link).map_err(|e| io(e, &link))?;
        }
        std::os::unix::fs::symlink(&target, &link).map_err(|e| io(e, &link))
    }

    /// Writes `req.env` into the app's env file (replacing keys that are there, appending the rest).
    fn apply_env(&self, req: &DeployRequest) -> Result<(), DeployError> {
        if req.env.is_empty() {
            return Ok(());
        }
        let path = self.env_file();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| DeployError::Other(format!("reading app env {}: {e}", path.display())))?;
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        for (k, v) in &req.env {
            if v.contains('\n') || k.contains('=') || k.contains('\n') {
                return Err(DeployError::Other(format!(
                    "env override {k} holds a newline or `=` in its name"
                )));
            }
            let line = format!("{k}={v}");
            match lines
                .iter_mut()
                .find(|l| l.split_once('=').map(|(lk, _)| lk.trim()) == Some(k.as_str()))
            {
                Some(existing) => *existing = line,
                None => lines.push(line),
            }
        }
        std::fs::write(&path, lines.join("\n") + "\n")
            .map_err(|e| DeployError::Other(format!("writing app env {}: {e}", path.display())))
    }

    fn timeout_for(&mut self, req: &DeployRequest) {
        if let Some(t) = req.timeout {
            // abra waits for the recipe's own timeout; leave it a margin to report its own error.
            self.opts.timeout = self.opts.timeout.max(t + Duration::from_secs(60));
        }
    }
}

fn git_in(checkout: &Path, args: &[&str]) -> Result<String, DeployError> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(checkout)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| DeployError::Other(format!("running git: {e}")))?;
    if !out.status.success() {
        return Err(DeployError::Recipe {
            path: checkout.to_path_buf(),
            message: format!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn head_of(checkout: &Path) -> Result<String, DeployError> {
    git_in(checkout, &["rev-parse", "--verify", "HEAD^{commit}"])
}

/// The newest release tag at HEAD of `checkout`.
fn release_at_head(checkout: &Path) -> Result<String, DeployError> {
    let text = git_in(checkout, &["tag", "--points-at", "HEAD"])?;
    text.lines()
        .filter_map(|t| crate::recipe::parse_tag(t).map(|v| (v, t.to_string())))
        .max_by(|a, b| a.0.cmp_precedence(&b.0).then_with(|| a.0.cmp(&b.0)))
        .map(|(_, t)| t)
        .ok_or_else(|| DeployError::Recipe {
            path: checkout.to_path_buf(),
            message: "a non-chaos install needs a release tag at HEAD (hint: check out the \
                      previous release first, or install with chaos)"
                .into(),
        })
}

impl Deployer for AbraDeployer {
    fn kind(&self) -> &'static str {
        "abra"
    }

    fn install(&mut self, req: &DeployRequest) -> Result<(), DeployError> {
        self.timeout_for(req);
        self.checkout = req.checkout.clone();
        self.link_recipe(&req.checkout)?;
        let version = if req.chaos {
            None
        } else {
            Some(release_at_head(&req.checkout)?)
        };
        let (recipe, domain, server) = (
            self.app.recipe.clone(),
            self.app.domain.clone(),
            self.opts.server.clone(),
        );
        // abra may move the recipe checkout while it prepares an app (e.g. to the latest release);
        // a chaos install must deploy exactly the commit the runner checked out.
        let pinned = head_of(&req.checkout)?;
        let mut new = vec!["app", "new", recipe.as_str()];
        match &version {
            Some(v) => new.push(v),
            None => new.push("--chaos"),
        }
        new.extend(["--server", &server, "--domain", &domain, "--no-input"]);
        self.abra(&new)?;
        self.created = true;
        self.apply_env(req)?;
        self.abra(&["app", "secret", "generate", &domain, "--all", "--no-input"])?;
        if version.is_none() && head_of(&req.checkout)? != pinned {
            git_in(&req.checkout, &["checkout", "--quiet", "--detach", &pinned])?;
        }
        let mut deploy = vec!["app", "deploy", domain.as_str()];
        match &version {
            Some(v) => deploy.push(v),
            None => deploy.push("--chaos"),
        }
        deploy.push("--no-input");
        self.fresh += 1;
        self.deployed = true;
        self.abra(&deploy)?;
        Ok(())
    }

    fn upgrade(&mut self, req: &DeployRequest) -> Result<(), DeployError> {
        if !self.deployed {
            return Err(DeployError::Op {
                op: "upgrade",
                message: "the app is not deployed (hint: install must succeed first)".into(),
            });
        }
        self.timeout_for(req);
        self.checkout = req.checkout.clone();
        self.link_recipe(&req.checkout)?;
        self.apply_env(req)?;
        let domain = self.app.domain.clone();
        self.abra(&["app", "deploy", &domain, "--chaos", "--no-input", "--force"])?;
        Ok(())
    }

    fn backup(&mut self, dest_dir: &Path) -> Result<BackupArtifact, DeployError> {
        let backups = self.abra_dir.join("backups");
        let before = artifact::listing(&backups);
        let domain = self.app.domain.clone();
        let output = self.abra(&["app", "backup", "create", &domain, "--no-input"])?;
        artifact::collect(&backups, &before, dest_dir, &self.app.stack, &output)
    }

    fn restore(&mut self, _artifact: &BackupArtifact) -> Result<(), DeployError> {
        let domain = self.app.domain.clone();
        self.abra(&["app", "restore", &domain, "--no-input"])?;
        Ok(())
    }

    fn teardown(&mut self) -> Result<(), DeployError> {
        let domain = self.app.domain.clone();
        let mut first_err = None;
        if self.deployed {
            match self.abra(&["app", "undeploy", &domain, "--no-input"]) {
                Ok(_) => self.deployed = false,
                Err(e) => first_err = Some(e),
            }
        }
        if self.created || self.env_file().exists() {
            match self.abra(&["app", "remove", &domain, "--force", "--no-input"]) {
                Ok(_) => {
                    self.created = false;
                    // A failed undeploy of a deploy that never created the stack is not a leftover.
                    self.deployed = false;
                    return Ok(());
                }
                Err(e) => return Err(first_err.unwrap_or(e)),
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn fresh_deploys(&self) -> u32 {
        self.fresh
    }
}
