//! The abra deployer: drives the `abra` CLI for one app, with a private abra state dir per run
//! (`ABRA_DIR=<run_dir>/abra`) whose `recipes/<name>` is the run's own checkout and whose only server
//! is the local host, registered with `abra server add --local`. It keeps abra's documented contract
//! (docs/abra.md): `--no-domain-checks` on deploys, a terminal for backup and restore, `--machine`
//! secrets registered with the run's redactor before any output is kept, the checkout pinned across
//! every call, the `proxy` network present. Every call has a timeout that kills abra's process group.
//! It never evaluates assertions, never touches another run's state and never falls back to `~/.abra`.

mod artifact;
mod checkout;
mod command;
mod pty;
mod secrets;
mod state;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub(crate) use command::run as run_bounded;
pub use command::{AbraCall, Io};
pub use secrets::generated_values;

use super::{AppRef, BackupArtifact, DeployError, DeployNote, DeployRequest, Deployer};
use crate::docker::{Engine, NetworkRequest};
use checkout::{release_at_head, Pin};
use state::AbraState;

/// The server name `abra server add --local` registers the local host under.
pub const LOCAL_SERVER: &str = "default";

/// abra's words when no backup-bot-two runs on the server (abra's `app backup`/`app restore` need it).
const NO_BACKUPBOT: &str = "no backupbot discovered";

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
    state: AbraState,
    extra_env: Vec<(String, String)>,
    proxy: Option<Arc<Engine>>,
    proxy_name: String,
    calls: Vec<AbraCall>,
    notes: Vec<DeployNote>,
    fresh: u32,
    created: bool,
    deployed: bool,
}

impl AbraDeployer {
    /// A deployer for `app`, whose recipe checkout is `checkout` (the run's private one).
    pub fn new(opts: AbraOptions, app: AppRef, checkout: PathBuf) -> AbraDeployer {
        let state = AbraState {
            dir: app.run_dir.join("abra"),
            server: opts.server.clone(),
            recipe: app.recipe.clone(),
            domain: app.domain.clone(),
        };
        AbraDeployer {
            opts,
            app,
            checkout,
            state,
            extra_env: Vec::new(),
            proxy: None,
            proxy_name: super::PROXY_NETWORK.to_string(),
            calls: Vec::new(),
            notes: Vec::new(),
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

    /// Creates the external overlay network `name` (the host proxy's, `proxy`) through `engine`
    /// before the install when it is missing (it is never removed), as the CI host's set-up does.
    pub fn with_proxy_network(mut self, engine: Arc<Engine>, name: &str) -> AbraDeployer {
        self.proxy = Some(engine);
        self.proxy_name = name.to_string();
        self
    }

    /// The run's abra state dir (`ABRA_DIR`).
    pub fn abra_dir(&self) -> &Path {
        &self.state.dir
    }

    /// Every abra call made so far, redacted, in order.
    pub fn calls(&self) -> &[AbraCall] {
        &self.calls
    }

    /// The app's env file in the run's abra state.
    pub fn env_file(&self) -> PathBuf {
        self.state.env_file()
    }

    fn note(&mut self, kind: &'static str, subject: &str, outcome: &str, data: serde_json::Value) {
        self.notes.push(DeployNote {
            kind,
            subject: subject.to_string(),
            outcome: outcome.to_string(),
            data,
            notice: None,
        });
    }

    /// Runs one abra call. The checkout is pinned across it: when abra moved it (to the version in
    /// the app's env file), it is put back and the move is noted for the ledger.
    fn abra(&mut self, args: &[&str], io: Io) -> Result<String, DeployError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut env = vec![(
            "ABRA_DIR".to_string(),
            self.state.dir.to_string_lossy().into_owned(),
        )];
        env.extend(self.extra_env.iter().cloned());
        let display = command::display(&self.opts.abra, &args);
        let pin = Pin::take(&self.checkout).ok();
        let result = command::run(
            &self.opts.abra,
            &args,
            &env,
            self.opts.timeout,
            &self.app.redactor,
            io,
        );
        if let Some(pin) = &pin {
            if let Some(moved) = pin.restore(&self.checkout)? {
                let command = self.app.redactor.redact(&display);
                let data = serde_json::json!({ "command": command, "moved_to": moved, "pinned": pin.commit() });
                self.note("abra_checkout", &self.app.recipe.clone(), "restored", data);
            }
        }
        let raw = result?;
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

    /// Registers the local host as abra's server `default` in the run's abra state (a fresh state
    /// has no servers, and `abra app new --server S` refuses an unknown server). Noted for the ledger.
    fn register_server(&mut self) -> Result<(), DeployError> {
        if self.state.server_dir().is_dir() {
            return Ok(());
        }
        if self.opts.server != LOCAL_SERVER {
            return Err(DeployError::Other(format!(
                "abra server `{}` is not registered in the run's abra state, and cc-ci registers only \
                 the local host (`abra server add --local`, server `{LOCAL_SERVER}`) (hint: drop \
                 --server / CCCI_ABRA_SERVER)",
                self.opts.server
            )));
        }
        self.abra(&["server", "add", "--local", "--no-input"], Io::Pipes)?;
        let dir = self.state.server_dir();
        if !dir.is_dir() {
            return Err(DeployError::Other(format!(
                "`abra server add --local` succeeded but {} does not exist",
                dir.display()
            )));
        }
        let data =
            serde_json::json!({ "abra_dir": self.state.dir, "command": "abra server add --local" });
        self.note("abra_server", LOCAL_SERVER, "registered", data);
        Ok(())
    }

    /// The external `proxy` network recipes join (created when missing, when asked to).
    fn ensure_proxy_network(&mut self) -> Result<(), DeployError> {
        let Some(engine) = self.proxy.clone() else {
            return Ok(());
        };
        let req = NetworkRequest {
            name: self.proxy_name.clone(),
            attachable: true,
            ..Default::default()
        };
        let created = engine
            .ensure_network(&req)
            .map_err(|e| DeployError::Engine(e.to_string()))?;
        if created {
            self.notes.push(super::proxy_created_note(&req.name));
        }
        Ok(())
    }

    fn timeout_for(&mut self, req: &DeployRequest) {
        if let Some(t) = req.timeout {
            // abra waits for the recipe's own timeout; leave it a margin to report its own error.
            self.opts.timeout = self.opts.timeout.max(t + Duration::from_secs(60));
        }
    }

    /// Turns abra's "no backup bot" error into [`DeployError::Unsupported`].
    fn unsupported_without_backupbot(op: &'static str, e: DeployError) -> DeployError {
        match &e {
            DeployError::Command { tail, .. } if tail.to_lowercase().contains(NO_BACKUPBOT) => {
                DeployError::Unsupported {
                    op,
                    reason: "abra found no backup bot on the server: backups through abra need \
                             backup-bot-two deployed there (see docs/operations.md); abra said:\n"
                        .to_string()
                        + tail,
                }
            }
            _ => e,
        }
    }
}

impl Deployer for AbraDeployer {
    fn kind(&self) -> &'static str {
        "abra"
    }

    fn install(&mut self, req: &DeployRequest) -> Result<(), DeployError> {
        self.timeout_for(req);
        self.checkout = req.checkout.clone();
        self.state.link_recipe(&req.checkout)?;
        let version = if req.chaos {
            None
        } else {
            Some(release_at_head(&req.checkout)?)
        };
        self.ensure_proxy_network()?;
        self.register_server()?;
        let (recipe, domain, server) = (
            self.app.recipe.clone(),
            self.app.domain.clone(),
            self.opts.server.clone(),
        );
        let mut new = vec!["app", "new", recipe.as_str()];
        match &version {
            Some(v) => new.push(v),
            None => new.push("--chaos"),
        }
        new.extend([
            "--server",
            &server,
            "--domain",
            &domain,
            "--no-input",
            "--offline",
        ]);
        self.abra(&new, Io::Pipes)?;
        self.created = true;
        self.state.apply_env(req)?;
        let generate = [
            "app",
            "secret",
            "generate",
            &domain,
            "--all",
            "--machine",
            "--no-input",
        ];
        self.abra(&generate, Io::Pipes)?;
        let mut deploy = vec!["app", "deploy", domain.as_str()];
        match &version {
            Some(v) => deploy.push(v),
            None => deploy.push("--chaos"),
        }
        deploy.extend(["--no-domain-checks", "--no-input", "--offline"]);
        self.fresh += 1;
        self.deployed = true;
        self.abra(&deploy, Io::Pipes)?;
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
        self.state.link_recipe(&req.checkout)?;
        self.state.apply_env(req)?;
        let domain = self.app.domain.clone();
        let args = [
            "app",
            "deploy",
            &domain,
            "--chaos",
            "--force",
            "--no-domain-checks",
            "--no-input",
            "--offline",
        ];
        self.abra(&args, Io::Pipes)?;
        Ok(())
    }

    fn backup(&mut self, dest_dir: &Path) -> Result<BackupArtifact, DeployError> {
        let backups = self.state.dir.join("backups");
        let before = artifact::listing(&backups);
        let domain = self.app.domain.clone();
        let output = self
            .abra(
                &["app", "backup", "create", &domain, "--no-input"],
                Io::Terminal,
            )
            .map_err(|e| Self::unsupported_without_backupbot("backup", e))?;
        artifact::collect(&backups, &before, dest_dir, &self.app.stack, &output)
    }

    fn restore(&mut self, _artifact: &BackupArtifact) -> Result<(), DeployError> {
        let domain = self.app.domain.clone();
        self.abra(&["app", "restore", &domain, "--no-input"], Io::Terminal)
            .map_err(|e| Self::unsupported_without_backupbot("restore", e))?;
        Ok(())
    }

    fn teardown(&mut self) -> Result<(), DeployError> {
        let domain = self.app.domain.clone();
        let mut first_err = None;
        if self.deployed {
            match self.abra(&["app", "undeploy", &domain, "--no-input"], Io::Pipes) {
                Ok(_) => self.deployed = false,
                Err(e) => first_err = Some(e),
            }
        }
        if self.created || self.env_file().exists() {
            let remove = ["app", "remove", &domain, "--force", "--no-input"];
            match self.abra(&remove, Io::Pipes) {
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

    fn take_notes(&mut self) -> Vec<DeployNote> {
        std::mem::take(&mut self.notes)
    }
}
