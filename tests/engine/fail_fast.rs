//! Failures named fast, on the real engine: an app whose healthcheck never passes fails as soon as
//! the engine calls it unhealthy (not at the deploy timeout), naming the healthcheck command, the
//! failing streak and the last probe's output; an image that is not there and cannot be pulled is
//! named before anything is created; a published port something on this host already holds is a
//! warning note. Each prints its time to fail.

use std::time::{Duration, Instant};

use cc_ci::deploy::Deployer;

use crate::support::engine::{engine, TestApp};

/// The app's compose file with `from` replaced by `to` (which must be there).
fn patch(t: &TestApp, edits: &[(&str, &str)]) {
    let compose = t.repo.path.join("compose.yml");
    let mut text = std::fs::read_to_string(&compose).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "the example no longer has {from:?}");
        text = text.replace(from, to);
    }
    std::fs::write(&compose, text).unwrap();
}

#[test]
fn a_healthcheck_that_always_fails_is_named_as_soon_as_the_engine_calls_it_unhealthy() {
    let mut t = TestApp::new("unhealthy");
    t.checkout("main");
    patch(
        &t,
        &[
            (
                r#"test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]"#,
                r#"test: ["CMD", "sh", "-c", "echo probe says no; exit 1"]"#,
            ),
            ("retries: 15", "retries: 3"),
            ("start_period: 5s", "start_period: 1s"),
        ],
    );
    let req = t.request(false);
    let start = Instant::now();
    let err = t.deployer.install(&req).unwrap_err().to_string();
    let took = start.elapsed();
    println!("unhealthy app failed after {took:?} (deploy timeout 120 s): {err}");
    assert!(err.contains("is unhealthy"), "{err}");
    assert!(
        err.contains("healthcheck `CMD sh -c echo probe says no; exit 1`"),
        "names the command: {err}"
    );
    assert!(err.contains("time(s) in a row"), "names the streak: {err}");
    assert!(
        err.contains("probe says no"),
        "the last probe's output: {err}"
    );
    assert!(took < Duration::from_secs(60), "failed fast: {took:?}");
    assert_eq!(t.deployer.fresh_deploys(), 1, "the created service counts");
    t.deployer.teardown().unwrap();
}

#[test]
fn an_image_that_is_not_there_is_named_before_anything_is_created() {
    let mut t = TestApp::new("noimage");
    t.checkout("main");
    let compose = std::fs::read_to_string(t.repo.path.join("compose.yml")).unwrap();
    let image = compose
        .lines()
        .find_map(|l| l.trim().strip_prefix("image: "))
        .unwrap()
        .to_string();
    patch(
        &t,
        &[(&format!("image: {image}"), "image: ccci/no-such-image:1")],
    );
    let req = t.request(false);
    let start = Instant::now();
    let err = t.deployer.install(&req).unwrap_err().to_string();
    println!("missing image failed after {:?}: {err}", start.elapsed());
    assert!(
        err.contains("image ccci/no-such-image:1 is not present and could not be pulled"),
        "{err}"
    );
    assert!(!err.contains("crash-looping"), "{err}");
    assert_eq!(t.deployer.fresh_deploys(), 0, "nothing was created");
    assert!(
        engine()
            .leftovers(Some(&t.app.run_id), &t.stack)
            .unwrap()
            .is_empty(),
        "nothing of the stack exists"
    );
}

#[test]
fn a_published_port_this_host_already_holds_is_a_warning_note() {
    let mut t = TestApp::new("port");
    t.checkout("main");
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    patch(
        &t,
        &[(
            "    networks:\n      - proxy",
            &format!("    ports:\n      - \"{port}:8080\"\n    networks:\n      - proxy"),
        )],
    );
    t.install(false);
    let notes = t.deployer.take_notes();
    let warning = notes
        .iter()
        .find(|n| n.kind == "deploy_warning")
        .unwrap_or_else(|| panic!("no warning among {notes:?}"));
    assert_eq!(warning.subject, format!("port {port}/tcp"));
    let line = warning.notice.clone().unwrap_or_default();
    assert!(line.contains("already holds"), "{line}");
    drop(held);
    t.deployer.teardown().unwrap();
}

#[test]
fn a_missing_proxy_network_is_created_with_a_line_and_a_ledger_note_and_kept() {
    let mut t = TestApp::new("proxynet");
    t.checkout("main");
    let name = format!("ccci-proxy-{}", crate::support::engine::unique());
    patch(
        &t,
        &[(
            "  proxy:\n    external: true\n",
            &format!("  proxy:\n    external: true\n    name: {name}\n"),
        )],
    );
    t.deployer.set_proxy_network(&name);
    t.install(false);
    let notes = t.deployer.take_notes();
    let created = notes
        .iter()
        .find(|n| n.kind == "network" && n.subject == name)
        .unwrap_or_else(|| panic!("no network note among {notes:?}"));
    assert_eq!(created.outcome, "created");
    let line = created.notice.clone().unwrap_or_default();
    assert!(
        line.contains(&format!("network {name}")) && line.contains("was missing"),
        "{line}"
    );
    t.deployer.teardown().unwrap();
    // Never removed by a run: it is the host proxy's. This test made it, so it removes it.
    let kept = crate::support::containers::docker(30, &["network", "inspect", &name]);
    crate::support::containers::docker_ok(&["network", "rm", &name]);
    assert!(kept.status.success(), "the proxy network outlives the run");
}
