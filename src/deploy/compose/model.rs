//! The typed stack a recipe's compose files describe, after interpolation and overlay merging. Plain
//! data: the stack deployer turns it into engine specs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// A whole stack.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackSpec {
    pub stack: String,
    /// The compose `version` (of the first file that sets it).
    pub version: Option<String>,
    /// The compose files read, in order.
    pub files: Vec<PathBuf>,
    /// The app env the files were interpolated with.
    pub env: BTreeMap<String, String>,
    /// Secret name → wanted generated length (`# length=N` in `.env.sample`).
    pub secret_lengths: BTreeMap<String, usize>,
    pub services: BTreeMap<String, ServiceDef>,
    pub volumes: BTreeMap<String, VolumeDef>,
    pub networks: BTreeMap<String, NetworkDef>,
    pub secrets: BTreeMap<String, SecretDef>,
    pub configs: BTreeMap<String, ConfigDef>,
    /// Keys swarm ignores (as `docker stack deploy` does), by path, e.g. `services.app.depends_on`.
    pub ignored: Vec<String>,
}

impl StackSpec {
    /// One warning line per ignored key, as a maintainer should read them.
    pub fn warnings(&self) -> Vec<String> {
        self.ignored
            .iter()
            .map(|k| {
                format!("{k}: ignored, as `docker stack deploy` ignores it for a swarm service")
            })
            .collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceDef {
    pub image: String,
    /// compose `command` (the container's args).
    pub command: Option<Vec<String>>,
    /// compose `entrypoint` (the container's command).
    pub entrypoint: Option<Vec<String>>,
    /// Resolved environment; bare names take their value from the app env.
    pub environment: BTreeMap<String, String>,
    /// Bare names with no value in the app env (Docker keeps them as `NAME` without `=`: unset).
    pub environment_unset: Vec<String>,
    /// The `env_file`s as written (already read into `environment`).
    pub env_file: Vec<String>,
    /// Container labels.
    pub labels: BTreeMap<String, String>,
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub tty: bool,
    pub stdin_open: bool,
    pub read_only: bool,
    pub init: Option<bool>,
    pub stop_grace_period: Option<Duration>,
    pub stop_signal: Option<String>,
    pub mounts: Vec<MountDef>,
    pub secrets: Vec<FileRef>,
    pub configs: Vec<FileRef>,
    pub networks: Vec<NetworkRef>,
    pub healthcheck: Option<HealthcheckDef>,
    pub deploy: DeployDef,
    pub ports: Vec<PortDef>,
    pub extra_hosts: Vec<String>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub sysctls: BTreeMap<String, String>,
    pub logging: Option<LoggingDef>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    /// `nofile: {soft, hard}` or `nproc: N` (soft = hard).
    pub ulimits: BTreeMap<String, UlimitDef>,
    /// The service-level `restart:`; swarm uses it only when `deploy.restart_policy` is absent.
    pub restart: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UlimitDef {
    Single(i64),
    Range { soft: i64, hard: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MountKind {
    #[default]
    Volume,
    Bind,
    Tmpfs,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MountDef {
    pub kind: MountKind,
    /// Volume key (as in the top-level `volumes:`) or absolute host path; `None` for an anonymous
    /// volume or a tmpfs.
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    /// `tmpfs: {size: …}` in bytes.
    pub tmpfs_size: Option<i64>,
    /// `volume: {nocopy: true}`.
    pub volume_nocopy: bool,
    /// `bind: {propagation: …}`.
    pub bind_propagation: Option<String>,
}

/// A secret or config reference of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// Key in the top-level `secrets:`/`configs:`.
    pub source: String,
    /// Path in the container (secrets: a name under `/run/secrets/` or an absolute path).
    pub target: Option<String>,
    pub uid: Option<String>,
    pub gid: Option<String>,
    pub mode: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRef {
    pub name: String,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthcheckDef {
    /// As written (a string became `[CMD-SHELL, …]`); empty when only `disable` is set.
    pub test: Vec<String>,
    /// `disable: true`: the engine gets `[NONE]`.
    pub disable: bool,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    pub retries: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeployDef {
    /// `replicated` (the default when absent) or `global`, as written.
    pub mode: Option<String>,
    pub replicas: Option<u64>,
    /// Service labels (where the version label lives).
    pub labels: BTreeMap<String, String>,
    pub restart_policy: Option<RestartPolicyDef>,
    pub update_config: Option<UpdateConfigDef>,
    pub rollback_config: Option<UpdateConfigDef>,
    pub limits: ResourcesDef,
    pub reservations: ResourcesDef,
    pub constraints: Vec<String>,
    /// `placement.preferences`: the `spread` descriptor of each, in order.
    pub preferences: Vec<String>,
    pub max_replicas_per_node: Option<u64>,
    pub endpoint_mode: Option<String>,
}

impl DeployDef {
    pub fn global(&self) -> bool {
        self.mode.as_deref() == Some("global")
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RestartPolicyDef {
    pub condition: Option<String>,
    pub delay: Option<Duration>,
    pub max_attempts: Option<i64>,
    pub window: Option<Duration>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateConfigDef {
    pub parallelism: Option<i64>,
    pub delay: Option<Duration>,
    /// `continue`, `rollback` or `pause`.
    pub failure_action: Option<String>,
    pub monitor: Option<Duration>,
    pub max_failure_ratio: Option<f64>,
    /// `stop-first` or `start-first`.
    pub order: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourcesDef {
    /// `cpus` as written (`"0.5"`).
    pub cpus: Option<String>,
    pub nano_cpus: Option<i64>,
    pub memory: Option<i64>,
    /// `limits.pids` (compose file version 3.9 or later, as Docker's schema allows it).
    pub pids: Option<i64>,
    /// `reservations.generic_resources`, in order.
    pub generic: Vec<GenericResourceDef>,
}

/// One `generic_resources` entry: a `discrete_resource_spec` (Docker's schema has no other kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericResourceDef {
    pub kind: String,
    pub value: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortDef {
    pub target: u16,
    pub published: Option<u16>,
    /// `tcp` (the default when absent), `udp` or `sctp`.
    pub protocol: Option<String>,
    /// `ingress` (the default when absent) or `host`.
    pub mode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggingDef {
    pub driver: Option<String>,
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeDef {
    pub external: bool,
    pub name: Option<String>,
    pub driver: Option<String>,
    pub driver_opts: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkDef {
    pub external: bool,
    pub name: Option<String>,
    pub driver: Option<String>,
    pub attachable: bool,
    pub internal: bool,
    pub driver_opts: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretDef {
    pub external: bool,
    /// Swarm name (after interpolation), e.g. `hello_x_api_key_v1`.
    pub name: Option<String>,
    pub file: Option<PathBuf>,
    pub labels: BTreeMap<String, String>,
    pub template_driver: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigDef {
    pub external: bool,
    pub name: Option<String>,
    pub file: Option<PathBuf>,
    /// `golang` makes the engine render the config per task.
    pub template_driver: Option<String>,
    pub labels: BTreeMap<String, String>,
}

impl StackSpec {
    /// The swarm name of a stack-scoped object: its explicit `name:` or `<stack>_<key>`.
    pub fn scoped(&self, key: &str, name: &Option<String>) -> String {
        name.clone()
            .unwrap_or_else(|| format!("{}_{key}", self.stack))
    }
}
