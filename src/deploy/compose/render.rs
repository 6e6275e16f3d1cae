//! The resolved stack in the shape `docker stack config` prints it: every service with what swarm
//! gets (keys swarm ignores are left out — they are the stack's warnings), short syntaxes in long
//! form, durations as Go writes them (`1m30s`), sizes in bytes. `cc-ci check --stack-config` prints
//! it, and the tests compare it with Docker's own output field by field.

use std::time::Duration;

use serde_yaml::{Mapping, Value};

use super::model::*;
use super::values::go_duration;

/// The stack as a YAML value.
pub fn render(spec: &StackSpec) -> Value {
    let mut top = Obj::default();
    top.put(
        "version",
        Some(Value::from(super::schema::printed_version(
            spec.version.as_deref(),
        ))),
    );
    let mut services = Mapping::new();
    for (name, s) in &spec.services {
        services.insert(Value::from(name.clone()), service(s));
    }
    top.put("services", Some(Value::Mapping(services)));
    let defs = |pairs: Vec<(String, Value)>| {
        (!pairs.is_empty()).then(|| {
            Value::Mapping(
                pairs
                    .into_iter()
                    .map(|(k, v)| (Value::from(k), v))
                    .collect(),
            )
        })
    };
    top.put(
        "networks",
        defs(
            spec.networks
                .iter()
                .map(|(k, n)| (k.clone(), network(k, n)))
                .collect(),
        ),
    );
    top.put(
        "volumes",
        defs(
            spec.volumes
                .iter()
                .map(|(k, v)| (k.clone(), volume(k, v)))
                .collect(),
        ),
    );
    top.put(
        "secrets",
        defs(
            spec.secrets
                .iter()
                .map(|(k, s)| (k.clone(), secret(k, s)))
                .collect(),
        ),
    );
    top.put(
        "configs",
        defs(
            spec.configs
                .iter()
                .map(|(k, c)| (k.clone(), config(k, c)))
                .collect(),
        ),
    );
    top.0
}

/// The stack as YAML text.
pub fn render_yaml(spec: &StackSpec) -> String {
    serde_yaml::to_string(&render(spec)).unwrap_or_default()
}

/// A mapping that leaves out what is absent.
#[derive(Default)]
struct Obj(Value);

impl Obj {
    fn put(&mut self, k: &str, v: Option<Value>) {
        if !self.0.is_mapping() {
            self.0 = Value::Mapping(Mapping::new());
        }
        if let (Some(v), Value::Mapping(m)) = (v, &mut self.0) {
            m.insert(Value::from(k), v);
        }
    }
    fn done(self) -> Option<Value> {
        match self.0 {
            Value::Mapping(m) if m.is_empty() => None,
            Value::Null => None,
            v => Some(v),
        }
    }
}

fn s(x: &Option<String>) -> Option<Value> {
    x.clone().map(Value::from)
}
fn yes(b: bool) -> Option<Value> {
    b.then_some(Value::Bool(true))
}
fn strings(xs: &[String]) -> Option<Value> {
    (!xs.is_empty()).then(|| Value::Sequence(xs.iter().cloned().map(Value::from).collect()))
}
fn map(m: &std::collections::BTreeMap<String, String>) -> Option<Value> {
    (!m.is_empty()).then(|| {
        Value::Mapping(
            m.iter()
                .map(|(k, v)| (Value::from(k.clone()), Value::from(v.clone())))
                .collect(),
        )
    })
}
fn dur(d: Option<Duration>) -> Option<Value> {
    d.map(|d| Value::from(go_duration(d)))
}

fn service(x: &ServiceDef) -> Value {
    let mut o = Obj::default();
    o.put("cap_add", strings(&x.cap_add));
    o.put("cap_drop", strings(&x.cap_drop));
    o.put("command", x.command.as_deref().and_then(strings));
    o.put("configs", refs(&x.configs));
    o.put("deploy", deploy(&x.deploy));
    o.put("dns", strings(&x.dns));
    o.put("dns_search", strings(&x.dns_search));
    o.put("entrypoint", x.entrypoint.as_deref().and_then(strings));
    let mut env: Mapping = x
        .environment
        .iter()
        .map(|(k, v)| (Value::from(k.clone()), Value::from(v.clone())))
        .collect();
    for k in &x.environment_unset {
        env.insert(Value::from(k.clone()), Value::Null);
    }
    o.put(
        "environment",
        (!env.is_empty()).then_some(Value::Mapping(env)),
    );
    o.put("env_file", strings(&x.env_file));
    o.put("extra_hosts", strings(&x.extra_hosts));
    o.put("healthcheck", x.healthcheck.as_ref().and_then(healthcheck));
    o.put("hostname", s(&x.hostname));
    o.put("image", Some(Value::from(x.image.clone())));
    o.put("init", x.init.map(Value::Bool));
    o.put("labels", map(&x.labels));
    o.put(
        "logging",
        x.logging.as_ref().map(|l| {
            let mut lo = Obj::default();
            lo.put("driver", s(&l.driver));
            lo.put("options", map(&l.options));
            lo.done().unwrap_or(Value::Mapping(Mapping::new()))
        }),
    );
    o.put("networks", networks(&x.networks));
    o.put(
        "ports",
        (!x.ports.is_empty()).then(|| Value::Sequence(x.ports.iter().map(port).collect())),
    );
    o.put("read_only", yes(x.read_only));
    o.put("restart", s(&x.restart));
    o.put("secrets", refs(&x.secrets));
    o.put("stdin_open", yes(x.stdin_open));
    o.put("stop_grace_period", dur(x.stop_grace_period));
    o.put("stop_signal", s(&x.stop_signal));
    o.put("sysctls", map(&x.sysctls));
    o.put("tty", yes(x.tty));
    o.put("ulimits", ulimits(x));
    o.put("user", s(&x.user));
    o.put(
        "volumes",
        (!x.mounts.is_empty()).then(|| Value::Sequence(x.mounts.iter().map(mount).collect())),
    );
    o.put("working_dir", s(&x.working_dir));
    o.done().unwrap_or(Value::Mapping(Mapping::new()))
}

fn refs(xs: &[FileRef]) -> Option<Value> {
    (!xs.is_empty()).then(|| {
        Value::Sequence(
            xs.iter()
                .map(|r| {
                    let mut o = Obj::default();
                    o.put("source", Some(Value::from(r.source.clone())));
                    o.put("target", s(&r.target));
                    o.put("uid", s(&r.uid));
                    o.put("gid", s(&r.gid));
                    o.put("mode", r.mode.map(Value::from));
                    o.0
                })
                .collect(),
        )
    })
}

fn networks(xs: &[NetworkRef]) -> Option<Value> {
    (!xs.is_empty()).then(|| {
        Value::Mapping(
            xs.iter()
                .map(|n| {
                    let v = match strings(&n.aliases) {
                        Some(a) => {
                            let mut o = Obj::default();
                            o.put("aliases", Some(a));
                            o.0
                        }
                        None => Value::Null,
                    };
                    (Value::from(n.name.clone()), v)
                })
                .collect(),
        )
    })
}

fn healthcheck(h: &HealthcheckDef) -> Option<Value> {
    let mut o = Obj::default();
    o.put("test", strings(&h.test));
    o.put("timeout", dur(h.timeout));
    o.put("interval", dur(h.interval));
    o.put("retries", h.retries.map(Value::from));
    o.put("start_period", dur(h.start_period));
    o.put("disable", yes(h.disable));
    Some(o.done().unwrap_or(Value::Mapping(Mapping::new())))
}

fn deploy(d: &DeployDef) -> Option<Value> {
    let mut o = Obj::default();
    o.put("mode", s(&d.mode));
    o.put("replicas", d.replicas.map(Value::from));
    o.put("labels", map(&d.labels));
    o.put("update_config", d.update_config.as_ref().and_then(update));
    o.put(
        "rollback_config",
        d.rollback_config.as_ref().and_then(update),
    );
    let mut r = Obj::default();
    r.put("limits", resources(&d.limits));
    r.put("reservations", resources(&d.reservations));
    o.put("resources", r.done());
    o.put(
        "restart_policy",
        d.restart_policy.as_ref().map(|p| {
            let mut rp = Obj::default();
            rp.put("condition", s(&p.condition));
            rp.put("delay", dur(p.delay));
            rp.put("max_attempts", p.max_attempts.map(Value::from));
            rp.put("window", dur(p.window));
            rp.done().unwrap_or(Value::Mapping(Mapping::new()))
        }),
    );
    let mut p = Obj::default();
    p.put("constraints", strings(&d.constraints));
    p.put(
        "preferences",
        (!d.preferences.is_empty()).then(|| {
            Value::Sequence(
                d.preferences
                    .iter()
                    .map(|x| {
                        let mut m = Mapping::new();
                        m.insert("spread".into(), Value::from(x.as_str()));
                        Value::Mapping(m)
                    })
                    .collect(),
            )
        }),
    );
    p.put(
        "max_replicas_per_node",
        d.max_replicas_per_node.map(Value::from),
    );
    o.put("placement", p.done());
    o.put("endpoint_mode", s(&d.endpoint_mode));
    o.done()
}

fn update(u: &UpdateConfigDef) -> Option<Value> {
    let mut o = Obj::default();
    o.put("parallelism", u.parallelism.map(Value::from));
    o.put(
        "delay",
        dur(u.delay).filter(|_| u.delay != Some(Duration::ZERO)),
    );
    o.put("failure_action", s(&u.failure_action));
    o.put(
        "monitor",
        dur(u.monitor).filter(|_| u.monitor != Some(Duration::ZERO)),
    );
    o.put(
        "max_failure_ratio",
        u.max_failure_ratio.filter(|r| *r != 0.0).map(Value::from),
    );
    o.put("order", s(&u.order));
    Some(o.done().unwrap_or(Value::Mapping(Mapping::new())))
}

fn resources(r: &ResourcesDef) -> Option<Value> {
    let mut o = Obj::default();
    o.put("cpus", s(&r.cpus));
    o.put("memory", r.memory.map(|m| Value::from(m.to_string())));
    o.put("pids", r.pids.map(Value::from));
    o.put(
        "generic_resources",
        (!r.generic.is_empty()).then(|| Value::Sequence(r.generic.iter().map(generic).collect())),
    );
    o.done()
}

fn generic(g: &GenericResourceDef) -> Value {
    let mut inner = Mapping::new();
    inner.insert("kind".into(), Value::from(g.kind.as_str()));
    inner.insert("value".into(), Value::from(g.value));
    let mut m = Mapping::new();
    m.insert("discrete_resource_spec".into(), Value::Mapping(inner));
    Value::Mapping(m)
}

fn port(p: &PortDef) -> Value {
    let mut o = Obj::default();
    o.put("mode", s(&p.mode));
    o.put("target", Some(Value::from(p.target)));
    o.put("published", p.published.map(Value::from));
    o.put("protocol", s(&p.protocol));
    o.0
}

fn mount(m: &MountDef) -> Value {
    let mut o = Obj::default();
    let typ = match m.kind {
        MountKind::Volume => "volume",
        MountKind::Bind => "bind",
        MountKind::Tmpfs => "tmpfs",
    };
    o.put("type", Some(Value::from(typ)));
    o.put("source", s(&m.source));
    o.put("target", Some(Value::from(m.target.clone())));
    o.put("read_only", yes(m.read_only));
    let mut b = Obj::default();
    b.put("propagation", s(&m.bind_propagation));
    o.put("bind", b.done());
    let mut v = Obj::default();
    v.put("nocopy", yes(m.volume_nocopy));
    o.put("volume", v.done());
    let mut t = Obj::default();
    t.put("size", m.tmpfs_size.map(Value::from));
    o.put("tmpfs", t.done());
    o.0
}

fn ulimits(x: &ServiceDef) -> Option<Value> {
    (!x.ulimits.is_empty()).then(|| {
        Value::Mapping(
            x.ulimits
                .iter()
                .map(|(k, u)| {
                    let v = match u {
                        UlimitDef::Single(n) => Value::from(*n),
                        UlimitDef::Range { soft, hard } => {
                            let mut o = Obj::default();
                            o.put("soft", Some(Value::from(*soft)));
                            o.put("hard", Some(Value::from(*hard)));
                            o.0
                        }
                    };
                    (Value::from(k.clone()), v)
                })
                .collect(),
        )
    })
}

/// An external definition without a name is named by its key, as Docker names it.
fn named(key: &str, external: bool, name: &Option<String>) -> Option<Value> {
    match name {
        Some(n) => Some(Value::from(n.clone())),
        None if external => Some(Value::from(key)),
        None => None,
    }
}

fn network(key: &str, n: &NetworkDef) -> Value {
    let mut o = Obj::default();
    o.put("name", named(key, n.external, &n.name));
    o.put("driver", s(&n.driver));
    o.put("driver_opts", map(&n.driver_opts));
    o.put("external", yes(n.external));
    o.put("internal", yes(n.internal));
    o.put("attachable", yes(n.attachable));
    o.put("labels", map(&n.labels));
    o.done().unwrap_or(Value::Mapping(Mapping::new()))
}

fn volume(key: &str, v: &VolumeDef) -> Value {
    let mut o = Obj::default();
    o.put("name", named(key, v.external, &v.name));
    o.put("driver", s(&v.driver));
    o.put("driver_opts", map(&v.driver_opts));
    o.put("external", yes(v.external));
    o.put("labels", map(&v.labels));
    o.done().unwrap_or(Value::Mapping(Mapping::new()))
}

fn secret(key: &str, x: &SecretDef) -> Value {
    file_object(
        key,
        x.external,
        &x.name,
        &x.file,
        &x.labels,
        &x.template_driver,
    )
}

fn config(key: &str, x: &ConfigDef) -> Value {
    file_object(
        key,
        x.external,
        &x.name,
        &x.file,
        &x.labels,
        &x.template_driver,
    )
}

/// A top-level secret or config: the two have the same keys in `docker stack config`'s output.
fn file_object(
    key: &str,
    external: bool,
    name: &Option<String>,
    file: &Option<std::path::PathBuf>,
    labels: &std::collections::BTreeMap<String, String>,
    template_driver: &Option<String>,
) -> Value {
    let mut o = Obj::default();
    o.put("name", named(key, external, name));
    o.put(
        "file",
        file.as_ref().map(|f| Value::from(f.display().to_string())),
    );
    o.put("external", yes(external));
    o.put("labels", map(labels));
    o.put("template_driver", s(template_driver));
    o.done().unwrap_or(Value::Mapping(Mapping::new()))
}
