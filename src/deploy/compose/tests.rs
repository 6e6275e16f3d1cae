//! Loading whole recipes: the bundled example, overlays, and the errors a maintainer sees.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;

fn example() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/recipes/hello");
    for f in ["compose.yml", ".env.sample", "abra.sh", "app.conf.tmpl"] {
        std::fs::copy(src.join(f), d.path().join(f)).unwrap();
    }
    d
}

fn recipe(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(d.path().join(name), text).unwrap();
    }
    d
}

#[test]
fn example_recipe_loads_with_labels_as_abra_sets_them() {
    let d = example();
    let s = load(d.path(), "hello_x", "hello.x", &BTreeMap::new()).unwrap();
    let app = &s.services["app"];
    assert_eq!(app.image, "ccci/busybox:1");
    assert_eq!(
        app.deploy.labels["coop-cloud.hello_x.version"],
        "1.0.0+1.36.1"
    );
    assert_eq!(app.deploy.labels["coop-cloud.hello_x.timeout"], "120");
    assert_eq!(
        app.deploy.labels["traefik.http.routers.hello_x.rule"],
        "Host(`hello.x`)"
    );
    assert_eq!(app.environment["DOMAIN"], "hello.x");
    assert_eq!(app.environment["GREETING"], "hello");
    let cmd = app.command.as_ref().unwrap();
    assert!(
        cmd[2].contains("$GREETING from $DOMAIN"),
        "$$ became $: {cmd:?}"
    );
    assert_eq!(
        s.secrets["api_key"].name.as_deref(),
        Some("hello_x_api_key_v1")
    );
    assert!(s.secrets["api_key"].external);
    assert_eq!(
        s.configs["app_conf"].name.as_deref(),
        Some("hello_x_app_conf_v1")
    );
    assert_eq!(
        s.configs["app_conf"].template_driver.as_deref(),
        Some("golang")
    );
    assert!(s.networks["proxy"].external);
    assert_eq!(
        app.healthcheck.as_ref().unwrap().interval,
        Some(std::time::Duration::from_secs(2))
    );
    assert_eq!(
        app.deploy
            .update_config
            .as_ref()
            .unwrap()
            .failure_action
            .as_deref(),
        Some("rollback")
    );
    assert_eq!(app.mounts[0].source.as_deref(), Some("content"));
}

#[test]
fn overrides_beat_the_env_sample() {
    let d = example();
    let mut o = BTreeMap::new();
    o.insert("GREETING".to_string(), "salut".to_string());
    o.insert("TIMEOUT".to_string(), "30".to_string());
    let s = load(d.path(), "hello_x", "hello.x", &o).unwrap();
    assert_eq!(s.services["app"].environment["GREETING"], "salut");
    assert_eq!(
        s.services["app"].deploy.labels["coop-cloud.hello_x.timeout"],
        "30"
    );
}

#[test]
fn compose_file_selects_overlays_that_merge_per_key() {
    let d = recipe(&[
        ("compose.yml", "services:\n  app:\n    image: a:1\n    environment:\n      - A=1\n    deploy:\n      labels: [x=1]\n"),
        ("compose.extra.yml", "services:\n  app:\n    environment:\n      - B=${B_VALUE:-dflt}\n    deploy:\n      labels: [y=2]\n  worker:\n    image: w:1\n"),
        (".env.sample", "COMPOSE_FILE=compose.yml:compose.extra.yml\n"),
    ]);
    let s = load(d.path(), "s", "s.d", &BTreeMap::new()).unwrap();
    assert_eq!(s.files.len(), 2);
    let app = &s.services["app"];
    assert_eq!(
        (app.environment["A"].as_str(), app.environment["B"].as_str()),
        ("1", "dflt")
    );
    assert_eq!(app.deploy.labels.len(), 2);
    assert!(s.services.contains_key("worker"));
}

#[test]
fn a_missing_required_variable_names_itself_and_its_message() {
    let d = recipe(&[(
        "compose.yml",
        "services:\n  app:\n    image: ${IMAGE:?set IMAGE to the app image}\n",
    )]);
    let e = load(d.path(), "s", "s.d", &BTreeMap::new()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("IMAGE") && msg.contains("set IMAGE to the app image"),
        "{msg}"
    );
    assert!(msg.contains("services.app.image"), "{msg}");
}

#[test]
fn unknown_keys_are_reported_by_name() {
    let d = recipe(&[(
        "compose.yml",
        "services:\n  app:\n    image: a\n    frobnicate: 1\n    deploy:\n      weird: 2\nbogus: {}\n",
    )]);
    match load(d.path(), "s", "s.d", &BTreeMap::new()).unwrap_err() {
        ComposeError::Unsupported { keys, .. } => {
            assert_eq!(
                keys,
                [
                    "bogus",
                    "services.app.frobnicate",
                    "services.app.deploy.weird"
                ]
            );
        }
        other => panic!("wrong error: {other}"),
    }
}

#[test]
fn unknown_keys_name_the_file_and_line_each_came_from() {
    let d = recipe(&[
        (
            ".env.sample",
            "COMPOSE_FILE=compose.yml:compose.extra.yml\n",
        ),
        (
            "compose.yml",
            "services:\n  app:\n    image: a\n    platform: x\n",
        ),
        (
            "compose.extra.yml",
            "services:\n  app:\n    labels: [a=b]\n    profiles: [p]\n",
        ),
    ]);
    let e = load(d.path(), "s", "s.d", &BTreeMap::new()).unwrap_err();
    match &e {
        ComposeError::Unsupported {
            path, line, places, ..
        } => {
            assert_eq!((path, *line), (&d.path().join("compose.yml"), Some(4)));
            assert_eq!(places, &["compose.yml:4", "compose.extra.yml:4"]);
        }
        other => panic!("wrong error: {other}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("compose.yml:4: unsupported compose keys: services.app.platform (compose.yml:4), services.app.profiles (compose.extra.yml:4)"),
        "{msg}"
    );
}

#[test]
fn keys_swarm_ignores_are_listed_not_fatal() {
    let d = recipe(&[(
        "compose.yml",
        "services:\n  app:\n    image: a\n    depends_on: [db]\n    privileged: true\n    tmpfs: [/tmp]\n",
    )]);
    let s = load(d.path(), "s", "s.d", &BTreeMap::new()).unwrap();
    assert_eq!(
        s.ignored,
        [
            "services.app.depends_on",
            "services.app.privileged",
            "services.app.tmpfs"
        ]
    );
}

#[test]
fn a_missing_overlay_file_is_an_error_with_its_path() {
    let d = recipe(&[
        ("compose.yml", "services: {}\n"),
        (".env.sample", "COMPOSE_FILE=compose.yml:compose.nope.yml\n"),
    ]);
    let e = load(d.path(), "s", "s.d", &BTreeMap::new()).unwrap_err();
    assert!(e.to_string().contains("compose.nope.yml"), "{e}");
}

#[test]
fn string_forms_of_command_healthcheck_ports_and_volumes() {
    let d = recipe(&[(
        "compose.yml",
        "services:\n  app:\n    image: a\n    command: sh -c 'echo hi'\n    healthcheck:\n      test: wget -q localhost\n    ports: ['8080:80/udp', '9000']\n    volumes: ['/srv:/data:ro', 'named:/n', '/anon']\n",
    )]);
    let s = load(d.path(), "s", "s.d", &BTreeMap::new()).unwrap();
    let app = &s.services["app"];
    assert_eq!(app.command.as_ref().unwrap(), &["sh", "-c", "echo hi"]);
    assert_eq!(
        app.healthcheck.as_ref().unwrap().test,
        ["CMD-SHELL", "wget -q localhost"]
    );
    assert_eq!(
        (
            app.ports[0].published,
            app.ports[0].target,
            app.ports[0].protocol.as_deref().unwrap_or("")
        ),
        (Some(8080), 80, "udp")
    );
    assert_eq!(app.ports[1].published, None);
    assert_eq!(app.mounts[0].kind, MountKind::Bind);
    assert!(app.mounts[0].read_only);
    assert_eq!(app.mounts[1].kind, MountKind::Volume);
    assert_eq!(app.mounts[2].source, None);
}
