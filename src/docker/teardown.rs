//! Removing a stack and proving it is gone. Order matters: services, then wait until no task of the
//! stack can still create a container and no container is left, then volumes (retried while the engine
//! still calls them in use), secrets, configs, networks. Every wait follows the stack's events (no
//! fixed sleeps). Idempotent. It only ever touches resources carrying the stack's namespace label, or
//! secrets/configs named `<stack>_…` (abra makes those without labels); a run's teardown
//! ([`Engine::remove_run_stack`]) never touches one carrying another run's id (the stack lock makes
//! the unlabelled rest the run's own).

use std::time::{Duration, Instant};

use bollard::query_parameters::{ListTasksOptions, RemoveVolumeOptions};

use super::error::{is_conflict, is_not_found};
use super::resources::owns;
use super::resources::Res;
use super::watch::StackWatch;
use super::{DockerError, Engine, LABEL_NAMESPACE, LABEL_RUN_ID};

/// How long teardown waits for task containers to go and volumes to come free.
const SETTLE: Duration = Duration::from_secs(120);
/// The safety tick of teardown's waits: task removal and network release announce no event.
const TEARDOWN_TICK: Duration = Duration::from_secs(1);

impl Engine {
    /// Removes everything of `stack`, waiting and retrying where the engine needs time.
    pub fn remove_stack(&self, stack: &str) -> Result<(), DockerError> {
        self.block(self.remove_stack_async(stack, None, &mut |_| {}))
    }

    /// Removes what of `stack` belongs to run `run_id`: resources carrying its run id, and those
    /// carrying no run id at all (abra's; the run holds the stack's lock). A resource carrying another
    /// run's id is never touched.
    pub fn remove_run_stack(&self, stack: &str, run_id: &str) -> Result<(), DockerError> {
        self.block(self.remove_stack_async(stack, Some(run_id), &mut |_| {}))
    }

    /// Removes the stack, then checks: should something of it have come back in the meantime (a task
    /// another client left starting), passes repeat until nothing is left or the settle deadline.
    pub(crate) async fn remove_stack_async(
        &self,
        stack: &str,
        owner: Option<&str>,
        on_remove: &mut dyn FnMut(&Res),
    ) -> Result<(), DockerError> {
        let mut deadline = Instant::now() + SETTLE;
        // An engine that is restarting is waited for (bounded) before anything, and after any failed
        // pass: the stack comes back with the engine, so it is removed then.
        if let Some(waited) = self.ride_out_teardown().await? {
            deadline += waited;
        }
        let mut watch = StackWatch::new(self, stack, TEARDOWN_TICK);
        loop {
            let pass = match self
                .remove_pass(stack, owner, deadline, &mut watch, on_remove)
                .await
            {
                Ok(()) => self.leftovers_async(owner, stack).await,
                Err(e) => Err(e),
            };
            match pass {
                Ok(left) if left.is_empty() => return Ok(()),
                Ok(_) => {}
                Err(e) => {
                    let waited = self.ride_out_teardown().await?.ok_or(e)?;
                    deadline += waited;
                    watch = StackWatch::new(self, stack, TEARDOWN_TICK);
                    continue;
                }
            }
            if Instant::now() >= deadline {
                return Err(self.teardown_error(stack, owner).await);
            }
            watch.wait(deadline).await;
        }
    }

    async fn remove_pass(
        &self,
        stack: &str,
        owner: Option<&str>,
        deadline: Instant,
        watch: &mut StackWatch,
        on_remove: &mut dyn FnMut(&Res),
    ) -> Result<(), DockerError> {
        for r in self.find(stack, owner, &["service"]).await? {
            match self.docker.delete_service(&r.id).await {
                Ok(()) => on_remove(&r),
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(DockerError::api(format!("remove service {}", r.name), e)),
            }
        }
        // A task still starting when its service went can create its container (and a volume with it)
        // a moment later: wait until no task of the stack can, and no container is left.
        while self.live_tasks(stack, owner).await? > 0
            || !self.find(stack, owner, &["container"]).await?.is_empty()
        {
            if Instant::now() >= deadline {
                return Err(self.teardown_error(stack, owner).await);
            }
            watch.wait(deadline).await;
        }
        for kind in ["volume", "secret", "config", "network"] {
            for r in self.find(stack, owner, &[kind]).await? {
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
    async fn live_tasks(&self, stack: &str, owner: Option<&str>) -> Result<usize, DockerError> {
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
                let get = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
                get(LABEL_NAMESPACE) == Some(stack) && owns(owner, get(LABEL_RUN_ID))
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

    async fn teardown_error(&self, stack: &str, owner: Option<&str>) -> DockerError {
        let leftovers = self.leftovers_async(owner, stack).await.unwrap_or_default();
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
}
