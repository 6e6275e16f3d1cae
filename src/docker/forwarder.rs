//! The screenshot forwarder: a short-lived swarm service (`ccci/forwarder:1`, Debian's socat) attached
//! to a network the app's service is already on, relaying one TCP port to that service by its swarm
//! name, so a browser on the host can look at an app that publishes no port. The host reaches the
//! forwarder's task through its `docker_gwbridge` address, read from the engine at run time: nothing
//! listens on a host address and the recipe's stack is never changed (no network made attachable, no
//! service of the stack updated; a service may join any swarm network). The forwarder carries the run's
//! labels (`cc-ci.run-id`, `cc-ci.run-lock`) but not the stack namespace, so the stack's own service
//! list never shows it while teardown and the janitor still reap it; its command ends on its own at its
//! deadline (`timeout`), and swarm never restarts it.

use std::collections::HashMap;
use std::io::{ErrorKind, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use bollard::models::{
    NetworkAttachmentConfig, ServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated, TaskSpec,
    TaskSpecContainerSpec, TaskSpecRestartPolicy, TaskSpecRestartPolicyConditionEnum,
};
use bollard::query_parameters::{
    InspectNetworkOptions, InspectServiceOptions, KillContainerOptions, ListTasksOptions,
};

use super::error::is_not_found;
use super::watch::StackWatch;
use super::{DockerError, Engine, LABEL_RUN_ID, LABEL_RUN_LOCK};

/// The forwarder's image, built locally by `scripts/setup-images.sh` (no registry is reachable).
pub const FORWARDER_IMAGE: &str = "ccci/forwarder:1";
/// Label naming what a forwarder relays to (`<service>:<port>`): it marks the service as a forwarder.
pub const LABEL_FORWARDER: &str = "cc-ci.forwarder";
/// Label on a forwarder's containers naming its service (what close and the start wait find them by).
const LABEL_FORWARDER_SERVICE: &str = "cc-ci.forwarder-service";
/// The bridge swarm gives every task on an overlay network for traffic leaving the node; the host has
/// an address on it, so it routes to the tasks' addresses there.
const GWBRIDGE: &str = "docker_gwbridge";
/// The port socat listens on inside the forwarder's own network namespace (not the host's).
pub const LISTEN_PORT: u16 = 80;
/// How often the first-connection wait tries again (no event says a relay works), and the safety tick of
/// the start wait (which otherwise follows the forwarder's events).
const POLL: Duration = Duration::from_millis(150);
const START_TICK: Duration = Duration::from_secs(1);

/// What to forward to and for how long.
#[derive(Debug, Clone)]
pub struct ForwardRequest<'a> {
    pub stack: &'a str,
    /// The service's short name (`app`).
    pub service: &'a str,
    pub port: u16,
    pub run_id: &'a str,
    pub run_lock: &'a Path,
    /// How long it may take until the forwarder relays.
    pub deadline: Duration,
    /// When it ends on its own (its command's `timeout`), counted from its start: the time it is
    /// needed for, so a forwarder nobody removes still goes.
    pub lifetime: Duration,
}

/// A running forwarder: remove it with [`Engine::close_forward`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub service_id: String,
    pub name: String,
    /// The app network the forwarder joined.
    pub network: String,
    /// Where the host reaches it: its task's address on `docker_gwbridge`, port [`LISTEN_PORT`].
    pub addr: SocketAddr,
}

fn fail(req: &ForwardRequest, reason: impl Into<String>) -> DockerError {
    DockerError::Forward {
        stack: req.stack.to_string(),
        service: req.service.to_string(),
        reason: reason.into(),
    }
}

/// The forwarder's service name: `ccci-fwd-<run id>-<random>`, cut to swarm's 63 characters.
fn forwarder_name(run_id: &str) -> String {
    let rand = uuid::Uuid::new_v4().simple().to_string();
    let id: String = run_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(63 - "ccci-fwd--".len() - 6)
        .collect();
    format!("ccci-fwd-{id}-{}", &rand[..6])
}

/// The address in an endpoint's `IPv4Address` (`<address>/<prefix length>`, e.g. a docker_gwbridge address).
pub(crate) fn parse_endpoint_ip(s: &str) -> Option<Ipv4Addr> {
    s.split('/').next()?.parse().ok()
}

/// The socat command: listen in the forwarder's namespace, relay to a task of the service `target` on
/// `port`, end at `deadline`. `tasks.<service>` (swarm's DNS name for the service's task addresses) is
/// what a proxy such as traefik connects to; the service's virtual IP needs the kernel's IPVS, which a
/// host may lack (this one answers "no route to host" on it).
pub(crate) fn socat_command(target: &str, port: u16, deadline: Duration) -> Vec<String> {
    vec![
        "timeout".into(),
        deadline.as_secs().max(1).to_string(),
        "socat".into(),
        format!("TCP-LISTEN:{LISTEN_PORT},fork,reuseaddr"),
        format!("TCP:tasks.{target}:{port}"),
    ]
}

impl Engine {
    /// Starts a forwarder to `req.service`'s port and waits (within `req.deadline`) until the host can
    /// connect to it. A forwarder that was created is removed again when it cannot be used.
    pub fn open_forward(&self, req: &ForwardRequest) -> Result<Forward, DockerError> {
        let until = Instant::now() + req.deadline;
        let (network_id, network) = self.block(self.forward_network(req))?;
        let name = forwarder_name(req.run_id);
        let spec = self.forward_spec(req, &name, &network_id);
        // Following its events from before it exists: the start wait looks again when something happens.
        let mut watch = StackWatch::forwarder(self, LABEL_FORWARDER_SERVICE, &name, START_TICK);
        let created = self.block(self.docker.create_service(spec, None));
        let service_id = created
            .map_err(|e| DockerError::api(format!("create service {name}"), e))?
            .id
            .unwrap_or_default();
        let mut fwd = Forward {
            service_id,
            name,
            network,
            addr: SocketAddr::from((Ipv4Addr::UNSPECIFIED, LISTEN_PORT)),
        };
        let ready = self
            .block(self.forward_address(req, &fwd.service_id, until, &mut watch))
            .and_then(|ip| {
                fwd.addr = SocketAddr::from((ip, LISTEN_PORT));
                connectable(req, fwd.addr, until)
            });
        match ready {
            Ok(()) => Ok(fwd),
            Err(e) => {
                let _ = self.close_forward(&fwd);
                Err(e)
            }
        }
    }

    /// Removes the forwarder: its service, and its task's container is killed at once (swarm's agent
    /// stops and destroys a removed service's container only seconds later). The dead container's
    /// removal is swarm's; the run's teardown waits for it like for any container of the run.
    /// Idempotent.
    pub fn close_forward(&self, fwd: &Forward) -> Result<(), DockerError> {
        self.block(async {
            match self.docker.delete_service(&fwd.service_id).await {
                Ok(()) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(DockerError::api(format!("remove service {}", fwd.name), e)),
            }
            let label = format!("{LABEL_FORWARDER_SERVICE}={}", fwd.name);
            for c in self.list_kind("container", Some(&label), None).await? {
                let opts = Some(KillContainerOptions {
                    signal: "SIGKILL".into(),
                });
                // Gone or no longer running: either way it relays nothing.
                let _ = self.docker.kill_container(&c.id, opts).await;
            }
            Ok(())
        })
    }

    /// The first network of the service that can carry the forwarder: not the ingress, not internal
    /// (an internal network has no bridge to the host). Returns its id and name.
    async fn forward_network(
        &self,
        req: &ForwardRequest<'_>,
    ) -> Result<(String, String), DockerError> {
        let full = format!("{}_{}", req.stack, req.service);
        let opts = Some(InspectServiceOptions {
            insert_defaults: false,
        });
        let svc = self
            .docker
            .inspect_service(&full, opts)
            .await
            .map_err(|e| {
                if is_not_found(&e) {
                    fail(req, format!("service {full} not found"))
                } else {
                    DockerError::api(format!("inspect service {full}"), e)
                }
            })?;
        let spec = svc.spec.unwrap_or_default();
        let attached = spec
            .task_template
            .and_then(|t| t.networks)
            .or(spec.networks)
            .unwrap_or_default();
        let mut seen = Vec::new();
        for target in attached.into_iter().filter_map(|n| n.target) {
            let opts = None::<InspectNetworkOptions>;
            let net = match self.docker.inspect_network(&target, opts).await {
                Ok(n) => n,
                Err(e) => return Err(DockerError::api(format!("inspect network {target}"), e)),
            };
            let name = net.name.clone().unwrap_or_else(|| target.clone());
            if net.ingress == Some(true) || net.internal == Some(true) {
                seen.push(format!("{name} (internal)"));
                continue;
            }
            return Ok((net.id.unwrap_or(target), name));
        }
        Err(fail(
            req,
            match seen.is_empty() {
                true => "the service is on no network".to_string(),
                false => format!(
                    "every network of the service is internal ({}): the host cannot reach a task on it",
                    seen.join(", ")
                ),
            },
        ))
    }

    fn forward_spec(&self, req: &ForwardRequest, name: &str, network_id: &str) -> ServiceSpec {
        let target = format!("{}_{}", req.stack, req.service);
        let labels = HashMap::from([
            (LABEL_RUN_ID.to_string(), req.run_id.to_string()),
            (
                LABEL_RUN_LOCK.to_string(),
                req.run_lock.display().to_string(),
            ),
            (
                LABEL_FORWARDER.to_string(),
                format!("{target}:{}", req.port),
            ),
        ]);
        let mut container_labels = labels.clone();
        container_labels.insert(LABEL_FORWARDER_SERVICE.to_string(), name.to_string());
        ServiceSpec {
            name: Some(name.to_string()),
            labels: Some(labels),
            task_template: Some(TaskSpec {
                container_spec: Some(TaskSpecContainerSpec {
                    image: Some(FORWARDER_IMAGE.to_string()),
                    command: Some(socat_command(&target, req.port, req.lifetime)),
                    labels: Some(container_labels),
                    // Nothing to flush: removal takes no grace period (`timeout` as PID 1 would let a
                    // SIGTERM wait out swarm's 10 s).
                    stop_signal: Some("SIGKILL".into()),
                    ..Default::default()
                }),
                networks: Some(vec![NetworkAttachmentConfig {
                    target: Some(network_id.to_string()),
                    ..Default::default()
                }]),
                restart_policy: Some(TaskSpecRestartPolicy {
                    condition: Some(TaskSpecRestartPolicyConditionEnum::NONE),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            mode: Some(ServiceSpecMode {
                replicated: Some(ServiceSpecModeReplicated { replicas: Some(1) }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Waits until the forwarder's task runs, then reads its container's `docker_gwbridge` address.
    async fn forward_address(
        &self,
        req: &ForwardRequest<'_>,
        service_id: &str,
        until: Instant,
        watch: &mut StackWatch,
    ) -> Result<Ipv4Addr, DockerError> {
        let filters = HashMap::from([("service".to_string(), vec![service_id.to_string()])]);
        let mut last = "no task yet".to_string();
        while Instant::now() < until {
            let opts = Some(ListTasksOptions {
                filters: Some(filters.clone()),
            });
            let tasks = self
                .docker
                .list_tasks(opts)
                .await
                .map_err(|e| DockerError::api("list tasks", e))?;
            for t in tasks {
                let status = t.status.unwrap_or_default();
                let state = status.state.map(|s| s.to_string()).unwrap_or_default();
                let container = status.container_status.and_then(|c| c.container_id);
                last = format!(
                    "task {state}{}",
                    status.err.map(|e| format!(": {e}")).unwrap_or_default()
                );
                match (state.as_str(), container) {
                    ("running", Some(id)) => {
                        if let Some(ip) = self.gwbridge_ip(&id).await? {
                            return Ok(ip);
                        }
                        last = format!(
                            "container {} has no {GWBRIDGE} address yet",
                            &id[..12.min(id.len())]
                        );
                    }
                    ("failed" | "rejected" | "complete" | "shutdown" | "orphaned", _) => {
                        return Err(fail(req, format!("the forwarder's {last} (image {FORWARDER_IMAGE}; hint: scripts/setup-images.sh builds it)")));
                    }
                    _ => {}
                }
            }
            watch.wait(until).await;
        }
        Err(fail(
            req,
            format!(
                "the forwarder did not start within {:?} ({last})",
                req.deadline
            ),
        ))
    }

    /// The container's address on `docker_gwbridge`, once the engine lists it.
    async fn gwbridge_ip(&self, container_id: &str) -> Result<Option<Ipv4Addr>, DockerError> {
        let net = self
            .docker
            .inspect_network(GWBRIDGE, None::<InspectNetworkOptions>)
            .await
            .map_err(|e| DockerError::api(format!("inspect network {GWBRIDGE}"), e))?;
        Ok(net
            .containers
            .unwrap_or_default()
            .get(container_id)
            .and_then(|c| c.ipv4_address.as_deref())
            .and_then(parse_endpoint_ip))
    }
}

/// Waits until the forwarder relays: a connection to it that stays open (or brings data) for a
/// second. socat closes a connection at once when it cannot reach the service (its name not yet known
/// on the network, no task listening), so an open one means the app's end took it. Nothing is sent:
/// this knows no protocol.
fn connectable(req: &ForwardRequest, addr: SocketAddr, until: Instant) -> Result<(), DockerError> {
    let mut last = String::new();
    while Instant::now() < until {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(mut s) => {
                let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
                let mut b = [0u8; 1];
                match s.read(&mut b) {
                    Ok(0) => {
                        last = "the forwarder closed the connection: the service did not take it"
                            .into()
                    }
                    Ok(_) => return Ok(()),
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                        return Ok(())
                    }
                    Err(e) => last = e.to_string(),
                }
            }
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(POLL);
    }
    Err(fail(
        req,
        format!(
            "the forwarder at {addr} relayed no connection within {:?} ({last})",
            req.deadline
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bridge_address_is_read_without_its_prefix_length() {
        let ip = parse_endpoint_ip("127.0.3.4/16").unwrap();
        assert_eq!(ip, Ipv4Addr::new(127, 0, 3, 4));
        assert_eq!(parse_endpoint_ip(""), None);
        assert_eq!(parse_endpoint_ip("fe80::1/64"), None);
    }

    #[test]
    fn socat_listens_in_its_own_namespace_relays_to_the_service_and_ends_at_the_deadline() {
        let c = socat_command("s_app", 8080, Duration::from_secs(30));
        assert_eq!(
            c,
            [
                "timeout",
                "30",
                "socat",
                "TCP-LISTEN:80,fork,reuseaddr",
                "TCP:tasks.s_app:8080"
            ]
        );
        assert_eq!(socat_command("s", 1, Duration::from_millis(10))[1], "1");
    }

    #[test]
    fn forwarder_names_fit_swarm_and_carry_the_run_id() {
        let n = forwarder_name("20261130t190000-abcdef");
        assert!(n.starts_with("ccci-fwd-20261130t190000-abcdef-"), "{n}");
        let long = forwarder_name(&"x/y".repeat(40));
        assert!(long.len() <= 63, "{long}");
        assert!(
            long.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{long}"
        );
    }
}
