//! Pointing cc-ci at the abra command-line double (`tests/support/abra-double`), reading the double's
//! call log, and checking on the real engine that a stack left nothing behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The double itself.
pub fn double() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/abra-double")
}

/// Writes an executable `abra` wrapper in `dir` that runs the double with `ABRA_DOUBLE_LOG=log` and
/// `extra_env` set, for passing as `--abra` to the binary. Returns its path.
pub fn wrapper(dir: &Path, log: &Path, extra_env: &[(&str, &str)]) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("abra");
    let mut script = String::from("#!/bin/sh\n");
    script.push_str(&format!(
        "export ABRA_DOUBLE_LOG={}\n",
        shell_quote(&log.display().to_string())
    ));
    for (k, v) in extra_env {
        script.push_str(&format!("export {k}={}\n", shell_quote(v)));
    }
    script.push_str(&format!(
        "exec python3 {} \"$@\"\n",
        shell_quote(&double().display().to_string())
    ));
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Sets the double's knobs for every call with this ABRA_DIR (`KEY=VALUE` lines); the test process's
/// own environment stays untouched.
pub fn knobs(abra_dir: &Path, lines: &str) {
    std::fs::create_dir_all(abra_dir).unwrap();
    std::fs::write(abra_dir.join("abra-double.env"), lines).unwrap();
}

/// The double as a command with `ABRA_DIR=abra_dir`, its stdin null and its output captured (no
/// terminal).
pub fn double_command(abra_dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(double());
    c.args(args)
        .env("ABRA_DIR", abra_dir)
        .env_remove("ABRA_DOUBLE_LOG")
        .stdin(Stdio::null());
    c
}

/// The double run on a terminal, through util-linux `script -qec` (which the Python harness used for
/// abra), with `ABRA_DIR=abra_dir`. Returns (exit code, everything it wrote).
pub fn double_on_terminal(abra_dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut line = shell_quote(&double().display().to_string());
    for a in args {
        line.push(' ');
        line.push_str(&shell_quote(a));
    }
    let out = Command::new("timeout")
        .args(["120", "script", "-qec", &line, "/dev/null"])
        .env("ABRA_DIR", abra_dir)
        .env_remove("ABRA_DOUBLE_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run script");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).replace('\r', ""),
    )
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Whether the double saw a terminal on stdin and stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct Tty {
    pub stdin: bool,
    pub stdout: bool,
}

/// One recorded abra call.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Call {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub cwd: String,
    pub tty: Tty,
}

impl Call {
    /// `abra app deploy x --no-input` style text of the call.
    pub fn line(&self) -> String {
        format!("abra {}", self.argv.join(" "))
    }
}

/// Every call recorded in `log`, in order (an absent log is no calls).
pub fn read_log(log: &Path) -> Vec<Call> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad log line {l}: {e}")))
        .collect()
}

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
