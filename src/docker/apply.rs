//! Creating and updating a stack's objects on the engine, for the stack deployer: networks, secrets,
//! configs and services. Each call is idempotent in the way a redeploy needs (existing networks,
//! secrets and configs are reused by name; services are updated in place). It never removes anything.

use std::collections::HashMap;

use base64::Engine as _;
use bollard::models::{ConfigSpec, Driver, NetworkCreateRequest, SecretSpec, ServiceSpec};
use bollard::query_parameters::{
    InspectNetworkOptions, InspectServiceOptions, ListConfigsOptions, ListSecretsOptions,
    UpdateServiceOptions,
};

use super::error::{is_conflict, is_not_found};
use super::{DockerError, Engine};

/// What to create a network with.
#[derive(Debug, Clone, Default)]
pub struct NetworkRequest {
    pub name: String,
    pub driver: Option<String>,
    pub attachable: bool,
    pub internal: bool,
    pub options: HashMap<String, String>,
    pub labels: HashMap<String, String>,
}

/// Whether a service was created or updated in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceChange {
    Created,
    Updated,
}

impl Engine {
    /// True when a network with this exact name exists.
    pub fn network_exists(&self, name: &str) -> Result<bool, DockerError> {
        self.block(async {
            match self
                .docker
                .inspect_network(name, None::<InspectNetworkOptions>)
                .await
            {
                Ok(n) => Ok(n.name.as_deref() == Some(name)),
                Err(e) if is_not_found(&e) => Ok(false),
                Err(e) => Err(DockerError::api(format!("inspect network {name}"), e)),
            }
        })
    }

    /// Creates an overlay network unless one with the name exists. Returns true when it created it.
    pub fn ensure_network(&self, req: &NetworkRequest) -> Result<bool, DockerError> {
        if self.network_exists(&req.name)? {
            return Ok(false);
        }
        self.block(async {
            // No `CheckDuplicate` (bollard's model no longer has it): swarm's store refuses a second
            // overlay network of the same name itself, which is the conflict handled below.
            let opts = NetworkCreateRequest {
                name: req.name.clone(),
                driver: Some(req.driver.clone().unwrap_or_else(|| "overlay".into())),
                internal: Some(req.internal),
                attachable: Some(req.attachable),
                options: Some(req.options.clone()),
                labels: Some(req.labels.clone()),
                ..Default::default()
            };
            match self.docker.create_network(opts).await {
                Ok(_) => Ok(true),
                Err(e) if is_conflict(&e) => Ok(false),
                Err(e) => Err(DockerError::api(format!("create network {}", req.name), e)),
            }
        })
    }

    /// The id of the secret named exactly `name`, if it exists.
    pub fn secret_id(&self, name: &str) -> Result<Option<String>, DockerError> {
        self.block(async {
            let mut f = HashMap::new();
            f.insert("name".to_string(), vec![name.to_string()]);
            let v = self
                .docker
                .list_secrets(Some(ListSecretsOptions { filters: Some(f) }))
                .await
                .map_err(|e| DockerError::api("list secrets", e))?;
            Ok(v.into_iter()
                .find(|s| s.spec.as_ref().and_then(|sp| sp.name.as_deref()) == Some(name))
                .and_then(|s| s.id))
        })
    }

    /// Creates a secret with `data` unless one with the name exists (swarm never overwrites a secret;
    /// a new value needs a new version in the name). Returns (id, created).
    pub fn ensure_secret(
        &self,
        name: &str,
        labels: &HashMap<String, String>,
        data: &mut dyn FnMut() -> Vec<u8>,
    ) -> Result<(String, bool), DockerError> {
        if let Some(id) = self.secret_id(name)? {
            return Ok((id, false));
        }
        let spec = SecretSpec {
            name: Some(name.into()),
            labels: Some(labels.clone()),
            data: Some(base64::engine::general_purpose::STANDARD.encode(data())),
            ..Default::default()
        };
        match self.block(self.docker.create_secret(spec)) {
            Ok(r) => Ok((r.id, true)),
            Err(e) if is_conflict(&e) => Ok((self.secret_id(name)?.unwrap_or_default(), false)),
            Err(e) => Err(DockerError::api(format!("create secret {name}"), e)),
        }
    }

    /// The id of the config named exactly `name`, if it exists.
    pub fn config_id(&self, name: &str) -> Result<Option<String>, DockerError> {
        self.block(async {
            let filters = HashMap::from([("name".to_string(), vec![name.to_string()])]);
            let v = self
                .docker
                .list_configs(Some(ListConfigsOptions {
                    filters: Some(filters),
                }))
                .await
                .map_err(|e| DockerError::api("list configs", e))?;
            Ok(v.into_iter()
                .find(|c| c.spec.as_ref().and_then(|sp| sp.name.as_deref()) == Some(name))
                .and_then(|c| c.id))
        })
    }

    /// Creates a config unless one with the name exists. `templating: Some("golang")` has the engine
    /// render it per task, as `docker stack deploy` does for `template_driver: golang`.
    pub fn ensure_config(
        &self,
        name: &str,
        labels: &HashMap<String, String>,
        data: &[u8],
        templating: Option<&str>,
    ) -> Result<(String, bool), DockerError> {
        if let Some(id) = self.config_id(name)? {
            return Ok((id, false));
        }
        let spec = ConfigSpec {
            name: Some(name.into()),
            labels: Some(labels.clone()),
            data: Some(base64::engine::general_purpose::STANDARD.encode(data)),
            templating: templating.map(|t| Driver {
                name: t.into(),
                options: None,
            }),
        };
        match self.block(self.docker.create_config(spec)) {
            Ok(r) => Ok((r.id, true)),
            Err(e) if is_conflict(&e) => Ok((self.config_id(name)?.unwrap_or_default(), false)),
            Err(e) => Err(DockerError::api(format!("create config {name}"), e)),
        }
    }

    /// Creates the service, or updates it in place (same name) with the new spec.
    pub fn deploy_service(&self, spec: ServiceSpec) -> Result<ServiceChange, DockerError> {
        let name = spec.name.clone().unwrap_or_default();
        self.block(async {
            match self
                .docker
                .inspect_service(
                    &name,
                    Some(InspectServiceOptions {
                        insert_defaults: false,
                    }),
                )
                .await
            {
                Ok(existing) => {
                    let version = existing.version.and_then(|v| v.index).unwrap_or(0) as i32;
                    self.docker
                        .update_service(
                            &name,
                            spec,
                            UpdateServiceOptions {
                                version,
                                ..Default::default()
                            },
                            None,
                        )
                        .await
                        .map_err(|e| DockerError::api(format!("update service {name}"), e))?;
                    Ok(ServiceChange::Updated)
                }
                Err(e) if is_not_found(&e) => {
                    self.docker
                        .create_service(spec, None)
                        .await
                        .map_err(|e| DockerError::api(format!("create service {name}"), e))?;
                    Ok(ServiceChange::Created)
                }
                Err(e) => Err(DockerError::api(format!("inspect service {name}"), e)),
            }
        })
    }
}
