//! Removing a stack and proving it is gone. Order matters: services, then wait until no task of the
//! stack can still create a container and no container is left, then volumes (retried while the engine
//! still calls them in use), secrets, configs, networks. Every wait follows the stack's events (no
//! fixed sleeps). Idempotent. It only ever touches resources carrying the stack's namespace label, or
//! secrets/configs named `<stack>_…` (abra makes those without labels).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::query_parameters::{
    ListConfigsOptions, ListContainersOptions, ListNetworksOptions, ListSecretsOptions,
    ListServicesOptions, ListTasksOptions, ListVolumesOptions, RemoveVolumeOptions,
};

use super::error::{is_conflict, is_not_found};
use super::watch::StackWatch;
use super::{DockerError, Engine, LABEL_NAMESPACE, LABEL_RUN_ID};

/// How long teardown waits for task containers to go and volumes to come free.
const SETTLE: Duration = Duration::from_secs(120);
/// The safety tick of teardown's waits: task removal and network release announce no event.
const TEARDOWN_TICK: Duration = Duration::from_secs(1);

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

impl Engine {
    /// Removes everything of `stack`, waiting and retrying where the engine needs time.
    pub fn remove_stack(&self, stack: &str) -> Result<(), DockerError> {
        self.block(self.remove_stack_async(stack, &mut |_| {}))
    }

    /// Removes the stack, then checks: should something of it have come back in the meantime (a task
    /// another client left starting), passes repeat until nothing is left or the settle deadline.
    pub(crate) async fn remove_stack_async(
        &self,
        stack: &str,
        on_remove: &mut dyn FnMut(&Res),
    ) -> Result<(), DockerError> {
        let deadline = Instant::now() + SETTLE;
        let mut watch = StackWatch::new(self, stack, TEARDOWN_TICK);
        loop {
            self.remove_pass(stack, deadline, &mut watch, on_remove)
                .await?;
            if self.leftovers_async(None, stack).await?.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(self.teardown_error(stack).await);
            }
            watch.wait(deadline).await;
        }
    }

    async fn remove_pass(
        &self,
        stack: &str,
        deadline: Instant,
        watch: &mut StackWatch,
        on_remove: &mut dyn FnMut(&Res),
    ) -> Result<(), DockerError> {
        for r in self.find(stack, None, &["service"]).await? {
            match self.docker.delete_service(&r.id).await {
                Ok(()) => on_remove(&r),
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(DockerError::api(format!("remove service {}", r.name), e)),
            }
        }
        // A task still starting when its service went can create its container (and a volume with it)
        // a moment later: wait until no task of the stack can, and no container is left.
        while self.live_tasks(stack).await? > 0
            || !self.find(stack, None, &["container"]).await?.is_empty()
        {
            if Instant::now() >= deadline {
                return Err(self.teardown_error(stack).await);
            }
            watch.wait(deadline).await;
        }
        for kind in ["volume", "secret", "config", "network"] {
            for r in self.find(stack, None, &[kind]).await? {
                self.remove_res(&r, deadline, watch).await?;
                on_remove(&r);
            }
        }
        Ok(())
    }

    /// Tasks of the stack (by their container labels) that a node holds and that may still create or
    /// hold a container: assigned up to running. Tasks of removed services stay listed until swarm
    /// reaps them; unscheduled ones (new, pending, allocated) are never handed to a node once their
    /// service is gone.
    async fn live_tasks(&self, stack: &str) -> Result<usize, DockerError> {
        let tasks = self
            .docker
            .list_tasks(None::<ListTasksOptions>)
            .await
            .map_err(|e| DockerError::api("list tasks", e))?;
        Ok(tasks
            .iter()
            .filter(|t| {
                let labels = t
                    .spec
                    .as_ref()
                    .and_then(|s| s.container_spec.as_ref())
                    .and_then(|c| c.labels.as_ref());
                labels
                    .and_then(|l| l.get(LABEL_NAMESPACE))
                    .map(String::as_str)
                    == Some(stack)
            })
            .filter(|t| {
                let state = t.status.as_ref().and_then(|s| s.state);
                matches!(
                    state.map(|s| s.to_string()).as_deref(),
                    Some("assigned" | "accepted" | "preparing" | "ready" | "starting" | "running")
                )
            })
            .count())
    }

    async fn teardown_error(&self, stack: &str) -> DockerError {
        let leftovers = self.leftovers_async(None, stack).await.unwrap_or_default();
        DockerError::Teardown {
            stack: stack.into(),
            leftovers,
        }
    }

    /// Removes one resource, retrying (at the stack's next event, or soon) while the engine refuses
    /// because it is still in use.
    pub(crate) async fn remove_res(
        &self,
        r: &Res,
        deadline: Instant,
        watch: &mut StackWatch,
    ) -> Result<(), DockerError> {
        let mut refused = false;
        loop {
            let result: Result<(), String> = match r.kind {
                "volume" => match self
                    .docker
                    .remove_volume(&r.id, Some(RemoveVolumeOptions { force: false }))
                    .await
                {
                    Ok(()) => Ok(()),
                    Err(e) if is_not_found(&e) => Ok(()),
                    Err(e) if is_conflict(&e) => Err(e.to_string()),
                    Err(e) => return Err(DockerError::api(format!("remove volume {}", r.name), e)),
                },
                "secret" => match self.docker.delete_secret(&r.id).await {
                    Ok(()) => Ok(()),
                    Err(e) if is_not_found(&e) => Ok(()),
                    Err(e) => Err(e.to_string()),
                },
                "network" => match self.docker.remove_network(&r.id).await {
                    Ok(()) => Ok(()),
                    Err(e) if is_not_found(&e) => Ok(()),
                    Err(e) => Err(e.to_string()),
                },
                "config" => match self.docker.delete_config(&r.id).await {
                    Ok(()) => Ok(()),
                    Err(e) if is_not_found(&e) => Ok(()),
                    Err(e) => Err(e.to_string()),
                },
                _ => Ok(()),
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() >= deadline => {
                    return Err(DockerError::api(format!("remove {} {}", r.kind, r.name), e))
                }
                Err(_) => {
                    // The first refusal starts quick retries (release announces no event); later
                    // ones ride on the stack's events and the tick.
                    if !refused {
                        watch.follow_up();
                        refused = true;
                    }
                    watch.wait(deadline).await;
                }
            }
        }
    }

    /// What is left of a run: every resource labelled with `run_id` or with the stack namespace, and
    /// secrets/configs named `<stack>_…`, as `"<kind> <name>"`. Empty means clean.
    pub fn leftovers(&self, run_id: Option<&str>, stack: &str) -> Result<Vec<String>, DockerError> {
        self.block(self.leftovers_async(run_id, stack))
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
    /// configs.
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
        out.retain(|r| seen.insert((r.kind, r.id.clone())));
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
        let api = |e: bollard::errors::Error| DockerError::api(format!("list {kind}s"), e);
        let v: Vec<Res> = match kind {
            "service" => {
                let s = self
                    .docker
                    .list_services(Some(ListServicesOptions {
                        filters: Some(f),
                        status: None,
                    }))
                    .await
                    .map_err(api)?;
                s.into_iter()
                    .map(|s| {
                        let name = super::services::spec_name(&s);
                        res("service", s.id, name, s.spec.and_then(|sp| sp.labels))
                    })
                    .collect()
            }
            "container" => {
                let c = self
                    .docker
                    .list_containers(Some(ListContainersOptions {
                        all: true,
                        filters: Some(f),
                        ..Default::default()
                    }))
                    .await
                    .map_err(api)?;
                c.into_iter()
                    .map(|c| {
                        let name = c.names.and_then(|n| n.first().cloned()).unwrap_or_default();
                        res(
                            "container",
                            c.id,
                            name.trim_start_matches('/').to_string(),
                            c.labels,
                        )
                    })
                    .collect()
            }
            "volume" => {
                let r = self
                    .docker
                    .list_volumes(Some(ListVolumesOptions { filters: Some(f) }))
                    .await
                    .map_err(api)?;
                r.volumes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| res("volume", Some(v.name.clone()), v.name, Some(v.labels)))
                    .collect()
            }
            "secret" => {
                let s = self
                    .docker
                    .list_secrets(Some(ListSecretsOptions { filters: Some(f) }))
                    .await
                    .map_err(api)?;
                s.into_iter()
                    .map(|s| {
                        let spec = s.spec.unwrap_or_default();
                        res("secret", s.id, spec.name.unwrap_or_default(), spec.labels)
                    })
                    .collect()
            }
            "network" => {
                let n = self
                    .docker
                    .list_networks(Some(ListNetworksOptions { filters: Some(f) }))
                    .await
                    .map_err(api)?;
                n.into_iter()
                    .map(|n| res("network", n.id, n.name.unwrap_or_default(), n.labels))
                    .collect()
            }
            "config" => {
                let c = self
                    .docker
                    .list_configs(Some(ListConfigsOptions { filters: Some(f) }))
                    .await
                    .map_err(api)?;
                c.into_iter()
                    .map(|c| {
                        let spec = c.spec.unwrap_or_default();
                        res("config", c.id, spec.name.unwrap_or_default(), spec.labels)
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        Ok(v)
    }
}
