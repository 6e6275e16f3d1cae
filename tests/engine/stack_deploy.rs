//! The stack deployer on the real engine: labels as abra sets them, chaos labels with `+U`, one fresh
//! deploy per run, in-place upgrades, convergence followed through events, rollbacks reported as such,
//! and a teardown that leaves nothing behind.

use crate::support::engine::{engine, TestApp};
use cc_ci::deploy::Deployer;

#[test]
fn install_then_chaos_upgrade_in_place_with_abra_labels_and_one_fresh_deploy() {
    let mut t = TestApp::new("deploy");
    let e = engine();
    t.checkout("1.1.0+1.36.1");
    t.install(false);
    assert_eq!(t.deployer.fresh_deploys(), 1);
    let s = e.services(&t.stack).unwrap();
    assert_eq!(s.len(), 1);
    let app = &s[0];
    let label = |k: &str| {
        app.labels
            .get(&format!("coop-cloud.{}.{k}", t.stack))
            .cloned()
    };
    assert_eq!(label("version").as_deref(), Some("1.1.0+1.36.1"));
    assert_eq!(label("chaos"), None, "a release deploy is not chaos");
    assert_eq!(app.labels["cc-ci.run-id"], t.app.run_id);
    assert_eq!(
        app.labels["cc-ci.run-lock"],
        t.app.lock_path.display().to_string()
    );
    assert_eq!(app.labels["com.docker.stack.namespace"], t.stack);
    assert_eq!((app.running, app.desired, app.healthy), (1, 1, Some(true)));
    assert_eq!(app.image, "ccci/busybox:1");
    // The golang template was rendered by the engine with the app's env.
    let conf = t.sh("cat /etc/app.conf");
    assert!(conf.contains(&format!("domain = {}", t.domain)), "{conf}");
    // The generated secret is mounted, and only the redactor knows its value.
    let secret = t.sh("cat /run/secrets/api_key");
    assert_eq!(secret.len(), 32);
    assert_eq!(t.app.redactor.len(), 1);
    assert!(t.app.redactor.leaks(&secret));

    // The PR head, with an uncommitted change: chaos-version carries +U.
    t.checkout("main");
    std::fs::write(t.repo.path.join("README.md"), "dirty\n").unwrap();
    let head = crate::support::engine::git(&t.repo.path, &["rev-parse", "HEAD"]);
    let before_id = e.services(&t.stack).unwrap()[0].full_name.clone();
    let req = t.request(true);
    t.deployer.upgrade(&req).expect("upgrade");
    assert_eq!(
        t.deployer.fresh_deploys(),
        1,
        "an upgrade is not a fresh deploy"
    );
    let s = e.services(&t.stack).unwrap();
    let app = &s[0];
    assert_eq!(app.full_name, before_id);
    let label = |k: &str| {
        app.labels
            .get(&format!("coop-cloud.{}.{k}", t.stack))
            .cloned()
    };
    assert_eq!(label("version").as_deref(), Some("1.2.0+1.36.1"));
    assert_eq!(label("chaos").as_deref(), Some("true"));
    assert_eq!(label("chaos-version"), Some(format!("{}+U", &head[..8])));
    assert_eq!(app.image, "ccci/busybox:2");
    assert!(app.converged(), "{app:?}");

    t.deployer.teardown().expect("teardown");
    assert_eq!(
        e.leftovers(Some(&t.app.run_id), &t.stack).unwrap(),
        Vec::<String>::new()
    );
    t.deployer.teardown().expect("a second teardown is a no-op");
}

#[test]
fn a_failed_upgrade_that_swarm_rolls_back_is_reported_as_rolled_back() {
    let mut t = TestApp::new("rollback");
    t.checkout("main");
    t.install(true);
    // The PR breaks the app: the new task exits at once, the update fails, swarm rolls back.
    let compose = t.repo.path.join("compose.yml");
    let text = std::fs::read_to_string(&compose).unwrap();
    std::fs::write(
        &compose,
        text.replace("httpd -f -p 8080 -h /var/www & wait", "exit 3"),
    )
    .unwrap();
    let req = t.request(true);
    let err = t.deployer.upgrade(&req).unwrap_err().to_string();
    assert!(err.contains("upgrade rolled back"), "{err}");
    assert!(!err.contains("label"), "not a label mismatch: {err}");
    t.deployer.teardown().unwrap();
}

/// `docker service inspect` (the CLI, not cc-ci's code) prints the service's healthcheck and force-update
/// counter as the engine stores them.
fn inspect_healthcheck(service: &str) -> (serde_json::Value, u64) {
    use wait_timeout::ChildExt;
    let mut child = std::process::Command::new("docker")
        .args(["service", "inspect", service])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("docker CLI");
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    let status = child
        .wait_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    if status.is_none() {
        let _ = child.kill();
    }
    assert!(
        status.is_some_and(|s| s.success()),
        "docker service inspect"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let tmpl = &v[0]["Spec"]["TaskTemplate"];
    let force = tmpl["ForceUpdate"].as_u64().unwrap_or(0);
    (tmpl["ContainerSpec"]["Healthcheck"].clone(), force)
}

/// What bollard's typed API makes of the same service: the engine spells the key `Healthcheck`,
/// bollard's model `HealthCheck`, so the healthcheck is silently dropped on read.
fn bollard_healthcheck(service: &str) -> Option<bollard::models::HealthConfig> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let docker = bollard::Docker::connect_with_defaults()
            .unwrap()
            .negotiate_version()
            .await
            .unwrap();
        let svc = docker.inspect_service(service, None).await.unwrap();
        svc.spec?.task_template?.container_spec?.health_check
    })
}

#[test]
fn restart_keeps_the_healthcheck_bollard_drops_and_convergence_follows_events() {
    let mut t = TestApp::new("events");
    t.checkout("main");
    t.install(false);
    let e = engine();
    let service = format!("{}_app", t.stack);
    let (before, force_before) = inspect_healthcheck(&service);
    assert_eq!(
        before["Test"][1], "wget",
        "the recipe's healthcheck: {before}"
    );
    assert_eq!(
        bollard_healthcheck(&service),
        None,
        "bollard's model now reads `Healthcheck`: the raw read in services.rs can go"
    );
    e.restart_service(&t.stack, "app").unwrap();
    let (after, force_after) = inspect_healthcheck(&service);
    assert_eq!(
        force_after,
        force_before + 1,
        "the restart is a force update"
    );
    assert_eq!(after, before, "the force update kept the healthcheck");
    let mut lines = Vec::new();
    let r = e
        .wait_converged(&t.stack, std::time::Duration::from_secs(120), &mut |l| {
            lines.push(l.to_string())
        })
        .unwrap();
    assert!(
        r.event_checks > 0,
        "no check was triggered by an event: {r:?}"
    );
    assert!(r.services.iter().all(|s| s.converged()));
    assert!(
        lines.iter().any(|l| l.contains("app 1/1 healthy")),
        "{lines:?}"
    );
    t.deployer.teardown().unwrap();
}

#[test]
fn a_crash_looping_service_fails_fast_with_its_error_and_log_tail() {
    let mut t = TestApp::new("crash");
    t.checkout("main");
    let compose = t.repo.path.join("compose.yml");
    let text = std::fs::read_to_string(&compose).unwrap();
    std::fs::write(
        &compose,
        text.replace(
            "httpd -f -p 8080 -h /var/www & wait",
            "echo dying-loudly; exit 7",
        ),
    )
    .unwrap();
    let req = t.request(true);
    let start = std::time::Instant::now();
    let err = t.deployer.install(&req).unwrap_err().to_string();
    assert!(err.contains("crash-looping"), "{err}");
    assert!(err.contains("exit code 7"), "{err}");
    assert!(err.contains("dying-loudly"), "log tail included: {err}");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(120),
        "failed before the deploy timeout"
    );
    t.deployer.teardown().unwrap();
}
