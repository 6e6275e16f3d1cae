//! Teardown is sacred: SIGTERM or SIGINT in the middle of convergence stops the run, tears everything
//! down and exits 2; a panic inside a check fails its trial and the run still tears down.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::cli::text;
use crate::support::run::RunFixture;

fn wait_for_service(stack: &str, deadline: Duration) {
    let start = Instant::now();
    loop {
        let o = Command::new("docker")
            .args(["service", "ls", "-q", "--filter"])
            .arg(format!("label=com.docker.stack.namespace={stack}"))
            .output()
            .unwrap();
        if !String::from_utf8_lossy(&o.stdout).trim().is_empty() {
            return;
        }
        assert!(
            start.elapsed() < deadline,
            "the run never created a service of {stack}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn interrupt_during_convergence(signal: &str, tag: &str) {
    let f = RunFixture::new(tag);
    let child = f
        .command(&["--stages", "install"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_service(&f.stack(), Duration::from_secs(120));
    let kill = Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(signal),
        "{}",
        text(&out)
    );
    f.assert_nothing_left();
}

#[test]
fn sigterm_during_convergence_tears_down_and_exits_2() {
    interrupt_during_convergence("TERM", "sigterm");
}

#[test]
fn sigint_during_convergence_tears_down_and_exits_2() {
    interrupt_during_convergence("INT", "sigint");
}

#[test]
fn panic_inside_a_check_fails_its_trial_and_the_run_tears_down() {
    let f = RunFixture::new("panic");
    let out = f
        .command(&["--stages", "install"])
        .env(
            "CCCI_DEBUG_PANIC_IN_CHECK",
            "install::generic-tests/install.yaml::converged",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(f.outcome("install.yaml::converged"), "failed");
    assert!(text(&out).contains("check panicked"), "{}", text(&out));
    assert!(f.results()["teardown"]["clean"].as_bool().unwrap());
    f.assert_nothing_left();
}

#[test]
fn sigkilled_run_is_reaped_by_the_janitor_and_each_removal_is_recorded() {
    let f = RunFixture::new("sigkill");
    let mut child = f
        .command(&["--stages", "install"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_service(&f.stack(), Duration::from_secs(120));
    child.kill().unwrap(); // SIGKILL: no teardown can run
    child.wait().unwrap();
    assert!(
        !crate::support::run::leftovers(&f.stack()).is_empty(),
        "SIGKILL left the app behind"
    );
    let out = crate::support::cli::cc_ci(f.dir.path())
        .args(["janitor", "--coord-dir"])
        .arg(&f.coord)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    f.assert_nothing_left();
    let events = f.ledger_export();
    let reaped = events
        .lines()
        .filter(|l| l.contains("\"kind\":\"janitor\""))
        .count();
    assert!(reaped >= 1, "every removal is a ledger event: {events}");
    // The dead run is closed: one run_end, `abandoned`, under its own run id.
    let start = events
        .lines()
        .find(|l| l.contains("\"kind\":\"run_start\""))
        .expect("the dead run's run_start");
    let ev: serde_json::Value = serde_json::from_str(start).unwrap();
    let dead = ev["run_id"].as_str().unwrap();
    let ends: Vec<&str> = events
        .lines()
        .filter(|l| l.contains("\"kind\":\"run_end\"") && l.contains(dead))
        .collect();
    assert_eq!(ends.len(), 1, "{events}");
    assert!(ends[0].contains("\"outcome\":\"abandoned\""), "{}", ends[0]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("recorded run {dead} as abandoned")),
        "{}",
        text(&out)
    );
}
