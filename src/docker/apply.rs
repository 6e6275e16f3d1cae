//! Creating and updating a stack's objects on the engine, for the stack deployer: networks, secrets,
//! configs and services. Each call is idempotent in the way a redeploy needs (existing networks,
//! secrets and configs are reused by name; services are updated in place). It never removes anything.

use std::collections::HashMap;

use base64::Engine as _;
use bollard::network::{CreateNetworkOptions, InspectNetworkOptions};
use bollard::secret::ListSecretsOptions;
use bollard::service::{InspectServiceOptions, ServiceSpec, UpdateServiceOptions};

use super::error::{is_conflict, is_not_found};
use super::raw::filters_query;
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
                .inspect_network(name, None::<InspectNetworkOptions<String>>)
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
            let opts = CreateNetworkOptions {
                name: req.name.clone(),
                check_duplicate: true,
                driver: req.driver.clone().unwrap_or_else(|| "overlay".into()),
                internal: req.internal,
                attachable: req.attachable,
                options: req.options.clone(),
                labels: req.labels.clone(),
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
                .list_secrets(Some(ListSecretsOptions { filters: f }))
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
        let spec = bollard::secret::SecretSpec {
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
            let q = filters_query(&serde_json::json!({ "name": [name] }));
            let v: Vec<bollard::models::Config> = self
                .raw
                .get_json(&format!("/configs?{q}"))
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
        let mut body = serde_json::json!({
            "Name": name,
            "Labels": labels,
            "Data": base64::engine::general_purpose::STANDARD.encode(data),
        });
        if let Some(t) = templating {
            body["Templating"] = serde_json::json!({ "Name": t });
        }
        let resp = self
            .block(self.raw.request("POST", "/configs/create", Some(&body)))
            .map_err(|e| DockerError::api(format!("create config {name}"), e))?;
        if resp.status == 409 {
            return Ok((self.config_id(name)?.unwrap_or_default(), false));
        }
        resp.ok()
            .map_err(|e| DockerError::api(format!("create config {name}"), e))?;
        let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
        let id = v
            .get("ID")
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string();
        Ok((id, true))
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
                    let version = existing.version.and_then(|v| v.index).unwrap_or(0);
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
