//! Plain containers and bridge networks on the real engine, through the docker CLI, for tests of the
//! images themselves (`images/`, built by `scripts/setup-images.sh`). Every docker call has a deadline
//! (coreutils `timeout`); everything a test creates carries a random name and is removed when its guard
//! drops, even when the test panics.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `docker ARGS`, killed after `secs` seconds.
pub fn docker(secs: u64, args: &[&str]) -> Output {
    Command::new("timeout")
        .args(["-k", "5", &secs.to_string(), "docker"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run docker")
}

/// Stdout of `docker ARGS` (60 s deadline), panicking with stderr when it fails.
pub fn docker_ok(args: &[&str]) -> String {
    let out = docker(60, args);
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A user-defined bridge network, removed on drop (after its containers).
pub struct Network(pub String);

impl Network {
    pub fn new(prefix: &str) -> Network {
        let name = format!("{prefix}-{}", super::engine::unique());
        docker_ok(&["network", "create", "--label", "cc-ci.test=images", &name]);
        Network(name)
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = docker(30, &["network", "rm", &self.0]);
    }
}

/// A detached container, force-removed (with its anonymous volumes) on drop.
pub struct Container(pub String);

impl Container {
    /// `docker run -d --name <prefix>-<random> ARGS` (ARGS: options, then the image and its command).
    pub fn run(prefix: &str, args: &[&str]) -> Container {
        let name = format!("{prefix}-{}", super::engine::unique());
        let mut all = vec!["run", "-d", "--name", &name, "--label", "cc-ci.test=images"];
        all.extend_from_slice(args);
        let out = docker(120, &all);
        let c = Container(name);
        assert!(
            out.status.success(),
            "docker run {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        c
    }

    /// `docker exec` in the container; returns the whole output (the caller checks the status).
    pub fn exec(&self, cmd: &[&str]) -> Output {
        let mut all = vec!["exec", &self.0];
        all.extend_from_slice(cmd);
        docker(60, &all)
    }

    /// Stdout of a command that must succeed.
    pub fn exec_ok(&self, cmd: &[&str]) -> String {
        let out = self.exec(cmd);
        assert!(
            out.status.success(),
            "exec {cmd:?} in {}: {}\n--- logs ---\n{}",
            self.0,
            String::from_utf8_lossy(&out.stderr),
            self.logs()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Everything the container wrote to stdout and stderr.
    pub fn logs(&self) -> String {
        let out = docker(30, &["logs", &self.0]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// `docker inspect -f FORMAT`.
    pub fn inspect(&self, format: &str) -> String {
        docker_ok(&["inspect", "-f", format, &self.0])
            .trim()
            .to_string()
    }

    pub fn running(&self) -> bool {
        self.inspect("{{.State.Running}}") == "true"
    }

    /// Polls until `cmd` exits 0 in the container (within `within`), panicking with the logs when not.
    pub fn wait_for(&self, cmd: &[&str], within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            if self.exec(cmd).status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{cmd:?} never succeeded in {} within {within:?}\n--- logs ---\n{}",
                self.0,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Polls until the container has stopped (within `within`); returns how long that took.
    pub fn wait_stopped(&self, within: Duration) -> Duration {
        let start = Instant::now();
        while self.running() {
            assert!(
                start.elapsed() < within,
                "{} still running after {within:?}\n--- logs ---\n{}",
                self.0,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        start.elapsed()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(60, &["rm", "-f", "-v", &self.0]);
    }
}
