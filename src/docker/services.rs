//! Reading a stack's state: its services, their tasks and their containers, folded into
//! [`ServiceState`]. Read-only: nothing here changes the engine.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{ContainerSummary, Service, Task};
use bollard::query_parameters::{ListContainersOptions, ListTasksOptions};
use http::Method;

use super::transport::filters_query;
use super::{short_name, DockerError, Engine, ServiceState, LABEL_NAMESPACE, LABEL_SERVICE_NAME};

/// A snapshot of a stack: its services with their tasks.
#[derive(Debug, Default)]
pub(crate) struct StackSnapshot {
    pub services: Vec<Service>,
    pub tasks: Vec<Task>,
    /// Container id → the engine's status text (`Up 3 seconds (healthy)`).
    pub container_status: HashMap<String, String>,
}

impl Engine {
    /// The services of `stack` (found by the stack namespace label), sorted by name.
    pub fn services(&self, stack: &str) -> Result<Vec<ServiceState>, DockerError> {
        let snap = self.block(self.snapshot(stack))?;
        Ok(snap.states(stack))
    }

    /// The stack's services, read raw: the engine spells the container spec's healthcheck key
    /// `Healthcheck` while bollard's model expects `HealthCheck` and silently drops it (shown on the
    /// engine by the test `restart_keeps_the_healthcheck_bollard_drops_and_convergence_follows_events`),
    /// so the key is copied across here.
    pub(crate) async fn list_stack_services(
        &self,
        stack: &str,
    ) -> Result<Vec<Service>, DockerError> {
        let api = |e: String| DockerError::api("list services", e);
        let q =
            filters_query(&serde_json::json!({ "label": [format!("{LABEL_NAMESPACE}={stack}")] }));
        let raw: Vec<serde_json::Value> = self
            .raw(Method::GET, &format!("/services?status=true&{q}"), None)
            .await
            .and_then(|a| a.json())
            .map_err(api)?;
        let mut v = Vec::with_capacity(raw.len());
        for item in raw {
            v.push(service_from_engine_json(item).map_err(|e| api(e.to_string()))?);
        }
        v.sort_by_key(spec_name);
        Ok(v)
    }

    pub(crate) async fn list_tasks(
        &self,
        service_ids: &[String],
    ) -> Result<Vec<Task>, DockerError> {
        if service_ids.is_empty() {
            return Ok(Vec::new());
        }
        let filters = HashMap::from([("service".to_string(), service_ids.to_vec())]);
        self.docker
            .list_tasks(Some(ListTasksOptions {
                filters: Some(filters),
            }))
            .await
            .map_err(|e| DockerError::api("list tasks", e))
    }

    /// Containers of one service (by swarm's service-name label); `all` includes stopped ones.
    pub(crate) async fn service_containers(
        &self,
        full_name: &str,
        all: bool,
    ) -> Result<Vec<ContainerSummary>, DockerError> {
        let mut filters: HashMap<String, Vec<String>> = HashMap::new();
        filters.insert(
            "label".into(),
            vec![format!("{LABEL_SERVICE_NAME}={full_name}")],
        );
        if !all {
            filters.insert("status".into(), vec!["running".to_string()]);
        }
        let mut v = self
            .docker
            .list_containers(Some(ListContainersOptions {
                all,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .map_err(|e| DockerError::api("list containers", e))?;
        v.sort_by_key(|c| std::cmp::Reverse(c.created.unwrap_or(0)));
        Ok(v)
    }

    pub(crate) async fn snapshot(&self, stack: &str) -> Result<StackSnapshot, DockerError> {
        let services = self.list_stack_services(stack).await?;
        let ids: Vec<String> = services.iter().filter_map(|s| s.id.clone()).collect();
        let tasks = self.list_tasks(&ids).await?;
        let mut filters: HashMap<String, Vec<String>> = HashMap::new();
        filters.insert("label".into(), vec![format!("{LABEL_NAMESPACE}={stack}")]);
        filters.insert("status".into(), vec!["running".to_string()]);
        let containers = self
            .docker
            .list_containers(Some(ListContainersOptions {
                all: false,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .map_err(|e| DockerError::api("list containers", e))?;
        let container_status = containers
            .into_iter()
            .filter_map(|c| Some((c.id?, c.status.unwrap_or_default())))
            .collect();
        Ok(StackSnapshot {
            services,
            tasks,
            container_status,
        })
    }
}

/// A service as the engine's JSON spells it, into bollard's model without losing the healthcheck:
/// `Healthcheck` (the engine's key) is copied to `HealthCheck` (the model's).
pub(crate) fn service_from_engine_json(
    mut item: serde_json::Value,
) -> Result<Service, serde_json::Error> {
    if let Some(cs) = item.pointer_mut("/Spec/TaskTemplate/ContainerSpec") {
        if let Some(h) = cs.get("Healthcheck").cloned() {
            cs["HealthCheck"] = h;
        }
    }
    serde_json::from_value(item)
}

pub(crate) fn spec_name(s: &Service) -> String {
    s.spec
        .as_ref()
        .and_then(|sp| sp.name.clone())
        .unwrap_or_default()
}

impl StackSnapshot {
    /// Tasks of one service that run its current spec and want to keep running.
    pub fn current_running_tasks<'a>(&'a self, svc: &'a Service) -> impl Iterator<Item = &'a Task> {
        let id = svc.id.clone();
        let tmpl = svc.spec.as_ref().and_then(|s| s.task_template.as_ref());
        let want_cs = tmpl.map(|t| comparable(&t.container_spec));
        let want_force = tmpl.and_then(|t| t.force_update);
        self.tasks.iter().filter(move |t| {
            let state = t
                .status
                .as_ref()
                .and_then(|s| s.state)
                .map(|s| s.to_string());
            let desired = t.desired_state.map(|s| s.to_string());
            let same_spec = t.spec.as_ref().is_some_and(|sp| {
                Some(comparable(&sp.container_spec)) == want_cs && sp.force_update == want_force
            });
            t.service_id == id
                && state.as_deref() == Some("running")
                && desired.as_deref() == Some("running")
                && same_spec
        })
    }

    pub fn states(&self, stack: &str) -> Vec<ServiceState> {
        self.services
            .iter()
            .map(|s| self.state_of(stack, s))
            .collect()
    }

    fn state_of(&self, stack: &str, svc: &Service) -> ServiceState {
        let spec = svc.spec.clone().unwrap_or_default();
        let full_name = spec.name.clone().unwrap_or_default();
        let labels: BTreeMap<String, String> = spec
            .labels
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let tmpl = spec.task_template.clone().unwrap_or_default();
        let cs = tmpl.container_spec.clone().unwrap_or_default();
        let image = cs.image.clone().unwrap_or_default();
        let image = image
            .split("@sha256:")
            .next()
            .unwrap_or_default()
            .to_string();
        // Replicated: the spec is authoritative (the status lags right after a create and would
        // read 0/0). Global: the status, never less than one node.
        let replicas = spec
            .mode
            .as_ref()
            .and_then(|m| m.replicated.as_ref())
            .and_then(|r| r.replicas);
        let desired = match replicas {
            Some(r) => r.max(0) as u64,
            None => svc
                .service_status
                .as_ref()
                .and_then(|s| s.desired_tasks)
                .unwrap_or(0)
                .max(1),
        };
        let running_tasks: Vec<&Task> = self.current_running_tasks(svc).collect();
        let mut health: Option<bool> = None;
        let mut starting = false;
        for t in &running_tasks {
            let cid = t
                .status
                .as_ref()
                .and_then(|s| s.container_status.as_ref())
                .and_then(|c| c.container_id.clone())
                .unwrap_or_default();
            let status = self
                .container_status
                .get(&cid)
                .map(String::as_str)
                .unwrap_or("");
            starting |= status.contains("(health: starting)");
            match health_of(status) {
                Some(h) => health = Some(health.unwrap_or(true) && h),
                None if has_healthcheck(&cs) => health = Some(false),
                None => {}
            }
        }
        if running_tasks.is_empty() && has_healthcheck(&cs) {
            health = Some(false);
        }
        let update_state = svc
            .update_status
            .as_ref()
            .and_then(|u| u.state)
            .map(|s| s.to_string())
            .filter(|s| !s.is_empty());
        ServiceState {
            name: short_name(stack, &full_name),
            full_name,
            labels,
            image,
            desired,
            running: running_tasks.len() as u64,
            healthy: health,
            health_starting: starting
                && health == Some(false)
                && !any_unhealthy(&running_tasks, self),
            update_state,
        }
    }
}

/// A container spec as JSON without the healthcheck (which only the service listing carries, see
/// `list_stack_services`), for comparing a task's spec with its service's.
fn comparable(cs: &Option<bollard::models::TaskSpecContainerSpec>) -> serde_json::Value {
    let mut cs = cs.clone();
    if let Some(c) = cs.as_mut() {
        c.health_check = None;
    }
    serde_json::to_value(&cs).unwrap_or_default()
}

fn has_healthcheck(cs: &bollard::models::TaskSpecContainerSpec) -> bool {
    cs.health_check
        .as_ref()
        .and_then(|h| h.test.as_ref())
        .is_some_and(|t| !t.is_empty() && t[0] != "NONE")
}

/// True when a running task's container is unhealthy (not merely starting).
fn any_unhealthy(tasks: &[&Task], snap: &StackSnapshot) -> bool {
    tasks.iter().any(|t| {
        let cid = t
            .status
            .as_ref()
            .and_then(|s| s.container_status.as_ref())
            .and_then(|c| c.container_id.clone())
            .unwrap_or_default();
        snap.container_status
            .get(&cid)
            .is_some_and(|s| s.contains("(unhealthy)"))
    })
}

/// Health from the engine's container status text; `None` when the container has no healthcheck.
pub(crate) fn health_of(status: &str) -> Option<bool> {
    if status.contains("(healthy)") {
        Some(true)
    } else if status.contains("(unhealthy)") || status.contains("(health: starting)") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine's own spelling (Go's field name `Healthcheck`), as `docker service inspect` prints it.
    fn engine_json() -> serde_json::Value {
        serde_json::json!({
            "ID": "x",
            "Spec": {"Name": "s_app", "TaskTemplate": {"ContainerSpec": {
                "Image": "i",
                "Healthcheck": {"Test": ["CMD", "true"], "Interval": 2000000000}
            }}}
        })
    }

    #[test]
    fn bollards_model_drops_the_engines_healthcheck_key() {
        let svc: Service = serde_json::from_value(engine_json()).unwrap();
        let cs = svc
            .spec
            .unwrap()
            .task_template
            .unwrap()
            .container_spec
            .unwrap();
        assert_eq!(cs.health_check, None);
    }

    #[test]
    fn a_service_read_from_the_engine_keeps_its_healthcheck() {
        let svc = service_from_engine_json(engine_json()).unwrap();
        let cs = svc
            .spec
            .unwrap()
            .task_template
            .unwrap()
            .container_spec
            .unwrap();
        assert!(has_healthcheck(&cs));
        assert_eq!(cs.health_check.unwrap().interval, Some(2_000_000_000));
    }

    #[test]
    fn health_is_read_from_the_status_text() {
        assert_eq!(health_of("Up 3 seconds (healthy)"), Some(true));
        assert_eq!(health_of("Up 3 seconds (health: starting)"), Some(false));
        assert_eq!(health_of("Up 3 seconds (unhealthy)"), Some(false));
        assert_eq!(health_of("Up 3 seconds"), None);
    }
}
