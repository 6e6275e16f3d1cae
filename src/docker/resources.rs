//! Finding a stack's resources on the engine: services, containers, volumes, secrets, configs and
//! networks carrying the stack's namespace label (or a run id), plus secrets/configs named `<stack>_…`
//! (abra makes those without labels); and `leftovers`, the independent verdict of a teardown.
//! Read-only: removal lives in `teardown.rs` and `janitor.rs`.

use std::collections::HashMap;

use bollard::query_parameters::{
    ListConfigsOptions, ListContainersOptions, ListNetworksOptions, ListSecretsOptions,
    ListServicesOptions, ListVolumesOptions,
};

use super::{DockerError, Engine, LABEL_NAMESPACE, LABEL_RUN_ID};

/// A resource of the engine: kind (`service`, `volume`, …), id, name and labels.
#[derive(Debug, Clone)]
pub(crate) struct Res {
    pub kind: &'static str,
    pub id: String,
    pub name: String,
    pub labels: HashMap<String, String>,
}

fn res(
    kind: &'static str,
    id: Option<String>,
    name: String,
    labels: Option<HashMap<String, String>>,
) -> Res {
    Res {
        kind,
        id: id.unwrap_or_default(),
        name,
        labels: labels.unwrap_or_default(),
    }
}

/// Whether a resource whose run id label is `label` belongs to `owner` (`None`: anyone's). One
/// without a run id label belongs to whoever holds the stack (abra makes resources without labels).
pub(crate) fn owns(owner: Option<&str>, label: Option<&str>) -> bool {
    match (owner, label) {
        (Some(o), Some(l)) => o == l,
        _ => true,
    }
}

impl Engine {
    /// What is left of a run: every resource labelled with `run_id` or with the stack namespace, and
    /// secrets/configs named `<stack>_…`, as `"<kind> <name>"`. Empty means clean.
    /// An engine that stopped answering is waited for (bounded, as a teardown does, see `outage.rs`)
    /// and asked again.
    pub fn leftovers(&self, run_id: Option<&str>, stack: &str) -> Result<Vec<String>, DockerError> {
        self.block(async {
            match self.leftovers_async(run_id, stack).await {
                Ok(v) => Ok(v),
                Err(e) => {
                    self.ride_out_teardown().await?.ok_or(e)?;
                    self.leftovers_async(run_id, stack).await
                }
            }
        })
    }

    pub(crate) async fn leftovers_async(
        &self,
        run_id: Option<&str>,
        stack: &str,
    ) -> Result<Vec<String>, DockerError> {
        let kinds = [
            "service",
            "container",
            "volume",
            "secret",
            "config",
            "network",
        ];
        let mut v: Vec<String> = self
            .find(stack, run_id, &kinds)
            .await?
            .into_iter()
            .map(|r| format!("{} {}", r.kind, r.name))
            .collect();
        v.sort();
        v.dedup();
        Ok(v)
    }

    /// Resources of `kinds` carrying the stack namespace (or the run id), plus `<stack>_…` secrets and
    /// configs. With a run id, one carrying another run's id is not listed (it is not this run's).
    pub(crate) async fn find(
        &self,
        stack: &str,
        run_id: Option<&str>,
        kinds: &[&str],
    ) -> Result<Vec<Res>, DockerError> {
        let mut labels = vec![format!("{LABEL_NAMESPACE}={stack}")];
        if let Some(r) = run_id {
            labels.push(format!("{LABEL_RUN_ID}={r}"));
        }
        let prefix = format!("{stack}_");
        let mut out: Vec<Res> = Vec::new();
        for kind in kinds {
            for label in &labels {
                out.extend(self.list_kind(kind, Some(label), None).await?);
            }
            if matches!(*kind, "secret" | "config") {
                let named = self.list_kind(kind, None, Some(&prefix)).await?;
                out.extend(named.into_iter().filter(|r| r.name.starts_with(&prefix)));
            }
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|r| {
            owns(run_id, r.labels.get(LABEL_RUN_ID).map(String::as_str))
                && seen.insert((r.kind, r.id.clone()))
        });
        Ok(out)
    }

    /// Lists one kind of resource by a label filter (`k=v` or a bare key) and/or a name filter.
    pub(crate) async fn list_kind(
        &self,
        kind: &str,
        label: Option<&str>,
        name: Option<&str>,
    ) -> Result<Vec<Res>, DockerError> {
        let mut f: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(l) = label {
            f.insert("label".into(), vec![l.to_string()]);
        }
        if let Some(n) = name {
            f.insert("name".into(), vec![n.to_string()]);
        }
        let listed = match kind {
            "service" | "secret" | "config" => self.list_swarm_kind(kind, f).await,
            _ => self.list_node_kind(kind, f).await,
        };
        listed.map_err(|e| DockerError::api(format!("list {kind}s"), e))
    }

    /// Services, secrets and configs: the swarm's objects.
    async fn list_swarm_kind(
        &self,
        kind: &str,
        f: HashMap<String, Vec<String>>,
    ) -> Result<Vec<Res>, bollard::errors::Error> {
        let filters = Some(f);
        Ok(match kind {
            "service" => {
                let o = ListServicesOptions {
                    filters,
                    status: None,
                };
                let s = self.docker.list_services(Some(o)).await?;
                s.into_iter()
                    .map(|s| {
                        let name = super::services::spec_name(&s);
                        res("service", s.id, name, s.spec.and_then(|sp| sp.labels))
                    })
                    .collect()
            }
            "secret" => {
                let s = self
                    .docker
                    .list_secrets(Some(ListSecretsOptions { filters }))
                    .await?;
                s.into_iter()
                    .map(|s| {
                        let spec = s.spec.unwrap_or_default();
                        res("secret", s.id, spec.name.unwrap_or_default(), spec.labels)
                    })
                    .collect()
            }
            _ => {
                let c = self
                    .docker
                    .list_configs(Some(ListConfigsOptions { filters }))
                    .await?;
                c.into_iter()
                    .map(|c| {
                        let spec = c.spec.unwrap_or_default();
                        res("config", c.id, spec.name.unwrap_or_default(), spec.labels)
                    })
                    .collect()
            }
        })
    }

    /// Containers, volumes and networks: the node's objects (networks include the swarm's overlays).
    async fn list_node_kind(
        &self,
        kind: &str,
        f: HashMap<String, Vec<String>>,
    ) -> Result<Vec<Res>, bollard::errors::Error> {
        let filters = Some(f);
        Ok(match kind {
            "container" => {
                let o = ListContainersOptions {
                    all: true,
                    filters,
                    ..Default::default()
                };
                let c = self.docker.list_containers(Some(o)).await?;
                c.into_iter()
                    .map(|c| {
                        let name = c.names.and_then(|n| n.first().cloned()).unwrap_or_default();
                        let name = name.trim_start_matches('/').to_string();
                        res("container", c.id, name, c.labels)
                    })
                    .collect()
            }
            "volume" => {
                let r = self
                    .docker
                    .list_volumes(Some(ListVolumesOptions { filters }))
                    .await?;
                r.volumes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| res("volume", Some(v.name.clone()), v.name, Some(v.labels)))
                    .collect()
            }
            "network" => {
                let n = self
                    .docker
                    .list_networks(Some(ListNetworksOptions { filters }))
                    .await?;
                n.into_iter()
                    .map(|n| res("network", n.id, n.name.unwrap_or_default(), n.labels))
                    .collect()
            }
            _ => Vec::new(),
        })
    }
}
