//! An app deployed through the abra double, seen on the real engine: unique domains, its services'
//! labels, exec in its container, and whether its stack left anything behind.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A unique test domain: `<prefix>-<8 hex>.ci.local`.
pub fn unique_domain(prefix: &str) -> String {
    format!(
        "{prefix}-{}.ci.local",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

fn docker_lines(args: &[&str]) -> Vec<String> {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run docker");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Everything of `stack` still on the engine: services, containers, volumes and networks labelled
/// with its namespace, and secrets and configs named `<stack>_…`.
pub fn leftovers(stack: &str) -> Vec<String> {
    let label = format!("label=com.docker.stack.namespace={stack}");
    let prefix = format!("{stack}_");
    let mut out = Vec::new();
    for (kind, args) in [
        ("service", vec!["service", "ls", "-q", "--filter", &label]),
        ("container", vec!["ps", "-aq", "--filter", &label]),
        ("volume", vec!["volume", "ls", "-q", "--filter", &label]),
        ("network", vec!["network", "ls", "-q", "--filter", &label]),
    ] {
        out.extend(
            docker_lines(&args)
                .into_iter()
                .map(|id| format!("{kind} {id}")),
        );
    }
    for kind in ["secret", "config"] {
        out.extend(
            docker_lines(&[kind, "ls", "--format", "{{.Name}}"])
                .into_iter()
                .filter(|n| n.starts_with(&prefix))
                .map(|n| format!("{kind} {n}")),
        );
    }
    out
}

/// Removes whatever is left of `stack` when dropped (a test that panics still cleans up). Only ever
/// touches resources of this one stack.
pub struct StackGuard(pub String);

impl Drop for StackGuard {
    fn drop(&mut self) {
        let stack = &self.0;
        if leftovers(stack).is_empty() {
            return;
        }
        let _ = Command::new("docker").args(["stack", "rm", stack]).output();
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            let left = leftovers(stack);
            if left.is_empty() {
                return;
            }
            for item in left {
                let (kind, id) = item.split_once(' ').unwrap();
                let _ = match kind {
                    "container" => Command::new("docker").args(["rm", "-f", id]).output(),
                    "service" => Command::new("docker").args(["service", "rm", id]).output(),
                    k => Command::new("docker").args([k, "rm", id]).output(),
                };
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

/// A label of a swarm service (empty when absent).
pub fn service_label(service: &str, key: &str) -> String {
    let fmt = format!("{{{{index .Spec.Labels \"{key}\"}}}}");
    docker_lines(&["service", "inspect", "--format", &fmt, service])
        .join("")
        .trim()
        .to_string()
}

/// Runs `sh -c script` in the running container of `service` and returns its stdout.
pub fn exec_in(service: &str, script: &str) -> String {
    let ids = docker_lines(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.swarm.service.name={service}"),
        "--filter",
        "status=running",
    ]);
    let id = ids
        .first()
        .unwrap_or_else(|| panic!("no running container of {service}"));
    docker_lines(&["exec", id, "sh", "-c", script]).join("\n")
}
