//! Waiting on the engine from a test, through the docker CLI (not through cc-ci), bounded.

use std::process::Command;

/// Waits (bounded, 180 s) until the engine lists a service of `stack`, while `child` (the run that
/// deploys it) is still alive.
pub fn wait_for_a_service(stack: &str, child: &mut std::process::Child) {
    use std::time::{Duration, Instant};
    let deadline = Instant::now() + Duration::from_secs(180);
    let label = format!("label=com.docker.stack.namespace={stack}");
    loop {
        let o = Command::new("docker")
            .args(["service", "ls", "-q", "--filter", &label])
            .output()
            .expect("docker CLI");
        if !String::from_utf8_lossy(&o.stdout).trim().is_empty() {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before deploying"
        );
        assert!(Instant::now() < deadline, "stack {stack} never appeared");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits for the run (bounded: killed after 6 minutes).
pub fn finish(mut child: std::process::Child) -> std::process::Output {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(360);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    child.wait_with_output().unwrap()
}
