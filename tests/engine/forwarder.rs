//! The screenshot forwarder on the real engine: a swarm service on the app's network that the host
//! reaches through its docker_gwbridge address. It serves the app's page to a plain TCP client on the
//! host, changes nothing of the recipe's stack (the docker CLI is the judge), and is gone after
//! `close_forward` — or after the run's teardown when nobody closed it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use cc_ci::docker::{ForwardRequest, LABEL_FORWARDER};

use crate::support::containers::docker_ok;
use crate::support::engine::{engine, TestApp};

fn request(app: &TestApp) -> ForwardRequest<'_> {
    ForwardRequest {
        stack: &app.stack,
        service: "app",
        port: 8080,
        run_id: &app.app.run_id,
        run_lock: &app.app.lock_path,
        deadline: Duration::from_secs(30),
        lifetime: Duration::from_secs(120),
    }
}

/// `GET /` through the forwarder with the app's domain as Host, as a browser would send it.
fn get(addr: std::net::SocketAddr, host: &str) -> String {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET / HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// Forwarder services of this app's run, as the docker CLI lists them (marked as forwarders, and
/// carrying the run's id).
fn forwarders(app: &TestApp) -> Vec<String> {
    let mark = format!("label={LABEL_FORWARDER}");
    let ids = docker_ok(&["service", "ls", "-q", "--filter", &mark]);
    let mut out = Vec::new();
    for id in ids.lines() {
        let format = "{{.Spec.Name}} {{index .Spec.Labels \"cc-ci.run-id\"}}";
        // A forwarder of another test may go between the listing and this look.
        let shown =
            crate::support::containers::docker(30, &["service", "inspect", "-f", format, id]);
        let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
        if let Some((name, run)) = shown.trim().split_once(' ') {
            if run == app.app.run_id {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// The stack's networks with whether each is attachable, as the docker CLI shows them.
fn networks(app: &TestApp) -> Vec<String> {
    let filter = format!("label=com.docker.stack.namespace={}", app.stack);
    let names = docker_ok(&[
        "network",
        "ls",
        "--filter",
        &filter,
        "--format",
        "{{.Name}}",
    ]);
    let mut out: Vec<String> = names
        .lines()
        .map(|n| {
            let a = docker_ok(&["network", "inspect", "-f", "{{.Attachable}}", n]);
            format!("{n} attachable={}", a.trim())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_forwarder_serves_the_app_to_the_host_changes_nothing_of_the_stack_and_goes() {
    let mut app = TestApp::new("fwd");
    app.install(false);
    let before = networks(&app);
    let stack_services = docker_ok(&["stack", "services", &app.stack, "--format", "{{.Name}}"]);
    let e = engine();
    let fwd = e.open_forward(&request(&app)).expect("forwarder");
    assert!(
        fwd.addr.ip().is_ipv4() && !fwd.addr.ip().is_unspecified(),
        "{fwd:?}"
    );
    assert!(
        !fwd.addr.ip().is_loopback(),
        "reached through the bridge: {fwd:?}"
    );
    let page = get(fwd.addr, &app.domain);
    assert!(page.starts_with("HTTP/1."), "{page}");
    assert!(page.contains(" 200 "), "{page}");
    assert!(
        page.contains(&format!("hello from {}", app.domain)),
        "{page}"
    );
    // Labelled as the run's, marked as a forwarder, outside the stack's own services.
    assert_eq!(forwarders(&app), vec![fwd.name.clone()]);
    let label = docker_ok(&[
        "service",
        "inspect",
        "-f",
        &format!("{{{{index .Spec.Labels \"{LABEL_FORWARDER}\"}}}}"),
        &fwd.name,
    ]);
    assert_eq!(label.trim(), format!("{}_app:8080", app.stack));
    let during = docker_ok(&["stack", "services", &app.stack, "--format", "{{.Name}}"]);
    assert_eq!(during, stack_services, "the stack's services are unchanged");
    assert_eq!(networks(&app), before, "the stack's networks are unchanged");
    let names: Vec<String> = e
        .services(&app.stack)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["app"]);
    let t = std::time::Instant::now();
    e.close_forward(&fwd).unwrap();
    eprintln!("close_forward took {:?}", t.elapsed());
    assert!(forwarders(&app).is_empty(), "the service is gone at once");
    let containers = |all: bool| {
        let mark = format!("label={LABEL_FORWARDER}-service={}", fwd.name);
        let mut args = vec!["ps", "--filter", &mark, "--format", "{{.Names}}"];
        if all {
            args.push("-a");
        }
        docker_ok(&args).trim().to_string()
    };
    assert_eq!(containers(false), "", "its container no longer runs");
    // Swarm destroys the dead container a moment later (bounded).
    let until = std::time::Instant::now() + Duration::from_secs(30);
    while !containers(true).is_empty() {
        assert!(
            std::time::Instant::now() < until,
            "still there: {}",
            containers(true)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    e.close_forward(&fwd).expect("closing twice is fine");
}

#[test]
fn a_forwarder_left_open_is_removed_by_the_runs_teardown() {
    let mut app = TestApp::new("fwdleft");
    app.install(false);
    let e = engine();
    let fwd = e.open_forward(&request(&app)).expect("forwarder");
    assert_eq!(forwarders(&app), vec![fwd.name.clone()]);
    e.remove_run_stack(&app.stack, &app.app.run_id).unwrap();
    assert!(forwarders(&app).is_empty(), "teardown took the forwarder");
    assert_eq!(
        e.leftovers(Some(&app.app.run_id), &app.stack).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn a_forwarder_to_a_service_that_does_not_exist_is_refused_with_the_reason() {
    let app = TestApp::new("fwdnone");
    let e = engine();
    let err = e.open_forward(&request(&app)).unwrap_err().to_string();
    assert!(err.contains("not found"), "{err}");
    assert!(err.contains(&format!("{}_app", app.stack)), "{err}");
    assert!(forwarders(&app).is_empty());
}

#[test]
fn a_forwarder_to_a_port_nobody_listens_on_is_refused_at_its_deadline_and_removed() {
    let mut app = TestApp::new("fwdport");
    app.install(false);
    let mut req = request(&app);
    req.port = 8081;
    req.deadline = Duration::from_secs(8);
    let started = std::time::Instant::now();
    let err = engine().open_forward(&req).unwrap_err().to_string();
    assert!(err.contains("relayed no connection"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "bounded by its deadline"
    );
    assert!(
        forwarders(&app).is_empty(),
        "the unusable forwarder is removed"
    );
}

#[test]
fn the_janitor_reaps_the_forwarder_of_a_dead_run() {
    let mut app = TestApp::new("fwddead");
    app.install(false);
    let runs = tempfile::tempdir().unwrap();
    let id = crate::support::engine::unique();
    let dead_run = format!("run-dead-{id}");
    // A run that died: its lock (under this pass's runs dir) is not held; its note names no real stack.
    let lock =
        cc_ci::docker::RunLock::acquire(&runs.path().join(&id), &dead_run, &format!("gone_{id}"))
            .unwrap();
    let lock_path = lock.path().to_path_buf();
    drop(lock);
    let mut req = request(&app);
    req.run_id = &dead_run;
    req.run_lock = &lock_path;
    let e = engine();
    let fwd = e.open_forward(&req).expect("forwarder");
    let mut removed = Vec::new();
    let report = e
        .janitor(
            runs.path(),
            cc_ci::docker::JanitorScope::Tree,
            false,
            &mut |r| removed.push(format!("{} {}", r.kind, r.name)),
        )
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(
        removed.contains(&format!("service {}", fwd.name)),
        "{removed:?}"
    );
    let gone = crate::support::containers::docker(30, &["service", "inspect", &fwd.name]);
    assert!(!gone.status.success(), "the forwarder service is gone");
    let services: Vec<String> = e
        .services(&app.stack)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(services, ["app"], "the live app is left alone");
}
