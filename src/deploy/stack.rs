//! The built-in `stack` deployer: deploys a recipe checkout through the engine API with the labels
//! abra sets (`coop-cloud.<stack>.version` from the compose file; on a chaos deploy `…chaos=true` and
//! `…chaos-version=<8 hex>[+U]` on the main service), plus `cc-ci.run-id`, `cc-ci.run-lock` and the
//! stack namespace on everything it creates. External secrets are generated like
//! `abra app secret generate` (values only in memory, registered in the redactor). A redeploy updates
//! services in place and is not a fresh deploy. It never evaluates assertions.

mod checks;
mod specs;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::deploy::compose::{self, StackSpec};
use crate::deploy::{AppRef, BackupArtifact, DeployError, DeployNote, DeployRequest, Deployer};
use crate::docker::{
    DockerError, Engine, NetworkRequest, LABEL_NAMESPACE, LABEL_RUN_ID, LABEL_RUN_LOCK,
};

pub use specs::{network_name, service_spec, volume_name, Refs};

/// Deploy timeout when neither the recipe's label nor the request gives one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Length of generated secrets without a `# length=N` hint.
const SECRET_LENGTH: usize = 32;

/// Options of the stack deployer.
#[derive(Debug, Clone, Default)]
pub struct StackOptions {
    /// Create the external overlay network of the host's proxy (`proxy`, see
    /// [`StackDeployer::set_proxy_network`]) when it is missing (it is never removed).
    pub create_proxy_network: bool,
}

/// Deploys one app as a swarm stack.
pub struct StackDeployer {
    engine: Arc<Engine>,
    app: AppRef,
    opts: StackOptions,
    fresh: u32,
    timeout: Duration,
    progress: Box<dyn FnMut(&str) + Send>,
    proxy_network: String,
    notes: Vec<DeployNote>,
}

impl StackDeployer {
    pub fn new(engine: Arc<Engine>, app: AppRef, opts: StackOptions) -> StackDeployer {
        StackDeployer {
            engine,
            app,
            opts,
            fresh: 0,
            timeout: DEFAULT_TIMEOUT,
            progress: Box::new(|_| {}),
            proxy_network: crate::deploy::PROXY_NETWORK.to_string(),
            notes: Vec::new(),
        }
    }

    /// The name of the host proxy's external network (default `proxy`).
    pub fn set_proxy_network(&mut self, name: &str) {
        self.proxy_network = name.to_string();
    }

    /// Where convergence progress lines go (default: nowhere).
    pub fn set_progress(&mut self, progress: Box<dyn FnMut(&str) + Send>) {
        self.progress = progress;
    }

    /// The labels every object of this run carries.
    fn base_labels(&self) -> HashMap<String, String> {
        HashMap::from([
            (LABEL_NAMESPACE.to_string(), self.app.stack.clone()),
            (LABEL_RUN_ID.to_string(), self.app.run_id.clone()),
            (
                LABEL_RUN_LOCK.to_string(),
                self.app.lock_path.display().to_string(),
            ),
        ])
    }

    fn engine_err(&self, e: DockerError) -> DeployError {
        DeployError::Engine(self.app.redactor.redact(&e.to_string()))
    }

    /// Runs a deploy; when an engine call of it failed because the engine stopped answering (a
    /// restart) and the engine came back within its wait, runs it once more: creating or updating
    /// every service converges the same stack, and a service the first try created counts once.
    fn riding_out(
        &mut self,
        mut op: impl FnMut(&mut StackDeployer) -> Result<(), DeployError>,
    ) -> Result<(), DeployError> {
        match op(self) {
            Err(DeployError::Engine(m)) => match self.engine.ride_out_blocking() {
                Ok(Some(_)) => op(self),
                Ok(None) => Err(DeployError::Engine(m)),
                Err(gone) => Err(self.engine_err(gone)),
            },
            other => other,
        }
    }

    /// Loads the compose files, checks images and ports, creates what is missing, creates or updates
    /// every service, then waits for convergence. On an install, the first service created counts the
    /// fresh deploy at once (guarantee 1 counts what was created, whatever happens next).
    fn deploy(&mut self, req: &DeployRequest, op: &'static str) -> Result<(), DeployError> {
        let spec = compose::load(&req.checkout, &self.app.stack, &self.app.domain, &req.env)
            .map_err(|e| DeployError::Recipe {
                path: req.checkout.clone(),
                message: e.to_string(),
            })?;
        checks::images(&self.engine, &spec)?;
        let warnings = checks::ports(&self.engine, &spec)?;
        self.notes.extend(warnings);
        let base = self.base_labels();
        self.ensure_networks(&spec, &base)?;
        let refs = self.ensure_secrets_and_configs(&spec, &base)?;
        let chaos_labels = if req.chaos {
            let v =
                crate::recipe::chaos_version(&req.checkout).map_err(|e| DeployError::Recipe {
                    path: req.checkout.clone(),
                    message: e.to_string(),
                })?;
            let stack = &self.app.stack;
            BTreeMap::from([
                (format!("coop-cloud.{stack}.chaos"), "true".to_string()),
                (format!("coop-cloud.{stack}.chaos-version"), v),
            ])
        } else {
            BTreeMap::new()
        };
        let main = main_service(&spec);
        let mut counted = false;
        for (key, svc) in &spec.services {
            let mut labels = svc.deploy.labels.clone();
            labels.extend(base.clone());
            if main.as_deref() == Some(key.as_str()) {
                labels.extend(chaos_labels.clone());
            }
            let s = service_spec(&spec, key, svc, &labels, &base, &refs).map_err(|m| {
                DeployError::Recipe {
                    path: req.checkout.clone(),
                    message: m,
                }
            })?;
            let change = self
                .engine
                .deploy_service(s)
                .map_err(|e| self.engine_err(e))?;
            if change == crate::docker::ServiceChange::Created && op == "install" && !counted {
                self.fresh += 1;
                counted = true;
            }
        }
        self.timeout = recipe_timeout(&spec)
            .or(req.timeout)
            .unwrap_or(DEFAULT_TIMEOUT);
        let stack = self.app.stack.clone();
        let progress = &mut self.progress;
        self.engine
            .wait_converged(&stack, self.timeout, &mut |l| progress(l))
            .map_err(|e| DeployError::Op {
                op,
                message: self.app.redactor.redact(&e.to_string()),
            })?;
        Ok(())
    }

    fn ensure_networks(
        &mut self,
        spec: &StackSpec,
        base: &HashMap<String, String>,
    ) -> Result<(), DeployError> {
        let mut used: Vec<String> = spec
            .services
            .values()
            .flat_map(|s| specs::service_networks(s).into_iter().map(|(n, _)| n))
            .collect();
        used.sort();
        used.dedup();
        for key in used {
            let def = spec.networks.get(&key).cloned().unwrap_or_default();
            let name = network_name(spec, &key);
            if def.external {
                let is_proxy = name == self.proxy_network && self.opts.create_proxy_network;
                if is_proxy {
                    let req = NetworkRequest {
                        name: name.clone(),
                        attachable: true,
                        ..Default::default()
                    };
                    let created = self
                        .engine
                        .ensure_network(&req)
                        .map_err(|e| self.engine_err(e))?;
                    if created {
                        self.notes.push(crate::deploy::proxy_created_note(&name));
                    }
                } else if !self
                    .engine
                    .network_exists(&name)
                    .map_err(|e| self.engine_err(e))?
                {
                    return Err(DeployError::Op {
                        op: "deploy",
                        message: format!("external network {name} does not exist (hint: create it with `docker network create -d overlay --attachable {name}`)"),
                    });
                }
                continue;
            }
            let mut labels: HashMap<String, String> = def.labels.clone().into_iter().collect();
            labels.extend(base.clone());
            let req = NetworkRequest {
                name,
                driver: def.driver.clone(),
                attachable: def.attachable,
                internal: def.internal,
                options: def.driver_opts.clone().into_iter().collect(),
                labels,
            };
            self.engine
                .ensure_network(&req)
                .map_err(|e| self.engine_err(e))?;
        }
        Ok(())
    }

    fn ensure_secrets_and_configs(
        &self,
        spec: &StackSpec,
        base: &HashMap<String, String>,
    ) -> Result<Refs, DeployError> {
        let mut refs = Refs::default();
        for (key, def) in &spec.secrets {
            let name = if def.external {
                def.name.clone().unwrap_or_else(|| key.clone())
            } else {
                spec.scoped(key, &def.name)
            };
            let length = spec
                .secret_lengths
                .get(key)
                .copied()
                .unwrap_or(SECRET_LENGTH);
            let file = def.file.clone();
            let redactor = self.app.redactor.clone();
            let mut read_err = None;
            let mut data = || match &file {
                Some(f) => std::fs::read(f).unwrap_or_else(|e| {
                    read_err = Some(format!("{}: {e}", f.display()));
                    Vec::new()
                }),
                None => {
                    let v = random_secret(length);
                    redactor.add(v.clone());
                    v.into_bytes()
                }
            };
            let (id, _) = self
                .engine
                .ensure_secret(&name, base, &mut data)
                .map_err(|e| self.engine_err(e))?;
            if let Some(e) = read_err {
                return Err(DeployError::Recipe {
                    path: spec.files.first().cloned().unwrap_or_default(),
                    message: format!("secret {key}: {e}"),
                });
            }
            refs.secrets.insert(key.clone(), (name, id));
        }
        for (key, def) in &spec.configs {
            let name = if def.external {
                def.name.clone().unwrap_or_else(|| key.clone())
            } else {
                spec.scoped(key, &def.name)
            };
            let id = if def.external {
                self.engine
                    .config_id(&name)
                    .map_err(|e| self.engine_err(e))?
                    .ok_or_else(|| DeployError::Op {
                        op: "deploy",
                        message: format!("external config {name} does not exist"),
                    })?
            } else {
                let file = def.file.clone().ok_or_else(|| DeployError::Recipe {
                    path: spec.files.first().cloned().unwrap_or_default(),
                    message: format!("config {key} has no `file:`"),
                })?;
                let data = std::fs::read(&file).map_err(|e| DeployError::Recipe {
                    path: file.clone(),
                    message: e.to_string(),
                })?;
                self.engine
                    .ensure_config(&name, base, &data, def.template_driver.as_deref())
                    .map_err(|e| self.engine_err(e))?
                    .0
            };
            refs.configs.insert(key.clone(), (name, id));
        }
        Ok(refs)
    }
}

/// abra's main service: `app`, else the one carrying the version label.
pub fn main_service(spec: &StackSpec) -> Option<String> {
    if spec.services.contains_key("app") {
        return Some("app".into());
    }
    let label = format!("coop-cloud.{}.version", spec.stack);
    spec.services
        .iter()
        .find(|(_, s)| s.deploy.labels.contains_key(&label))
        .map(|(k, _)| k.clone())
}

/// `coop-cloud.<stack>.timeout` (seconds) from any service.
pub fn recipe_timeout(spec: &StackSpec) -> Option<Duration> {
    let label = format!("coop-cloud.{}.timeout", spec.stack);
    spec.services
        .values()
        .find_map(|s| s.deploy.labels.get(&label))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// A random alphanumeric secret of `len` characters.
fn random_secret(len: usize) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::getrandom(&mut buf).expect("the OS random source works");
        for b in buf {
            // 248 = 4 * 62: reject the tail so every character is equally likely.
            if b < 248 && out.len() < len {
                out.push(ABC[(b % 62) as usize] as char);
            }
        }
    }
    out
}

impl Deployer for StackDeployer {
    fn kind(&self) -> &'static str {
        "stack"
    }

    fn install(&mut self, req: &DeployRequest) -> Result<(), DeployError> {
        self.riding_out(|d| {
            d.engine.require_swarm().map_err(|e| d.engine_err(e))?;
            d.deploy(req, "install")
        })
    }

    fn upgrade(&mut self, req: &DeployRequest) -> Result<(), DeployError> {
        self.riding_out(|d| d.deploy(req, "upgrade"))
    }

    fn backup(&mut self, dest_dir: &std::path::Path) -> Result<BackupArtifact, DeployError> {
        self.engine
            .backup(&self.app.stack, dest_dir)
            .map_err(|e| self.engine_err(e))
    }

    fn restore(&mut self, artifact: &BackupArtifact) -> Result<(), DeployError> {
        self.engine
            .restore(&self.app.stack, artifact, self.timeout)
            .map_err(|e| self.engine_err(e))
    }

    fn teardown(&mut self) -> Result<(), DeployError> {
        self.engine
            .remove_run_stack(&self.app.stack, &self.app.run_id)
            .map_err(|e| self.engine_err(e))?;
        let left = self
            .engine
            .leftovers(Some(&self.app.run_id), &self.app.stack)
            .map_err(|e| self.engine_err(e))?;
        if !left.is_empty() {
            return Err(self.engine_err(DockerError::Teardown {
                stack: self.app.stack.clone(),
                leftovers: left,
            }));
        }
        Ok(())
    }

    fn fresh_deploys(&self) -> u32 {
        self.fresh
    }

    fn take_notes(&mut self) -> Vec<DeployNote> {
        std::mem::take(&mut self.notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_secrets_are_alphanumeric_and_distinct() {
        let a = random_secret(40);
        assert_eq!(a.len(), 40);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, random_secret(40));
    }
}
