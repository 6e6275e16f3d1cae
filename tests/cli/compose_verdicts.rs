//! Docker decides what a stack may hold: for small recipes at the edges of Docker's compose schema
//! (versions that differ between files, `pids` before and after 3.9, `devices`, generic resources,
//! spread preferences), cc-ci refuses exactly what `docker stack config` refuses, and what both accept
//! resolves to the same stack field by field.

use std::collections::BTreeMap;
use std::path::Path;

use cc_ci::deploy::compose;

use crate::support::oracle::{differences, stack_config, stack_config_refusal};

const STACK: &str = "verdict_ci_local";
const DOMAIN: &str = "verdict.ci.local";

/// A recipe of `compose.yml` (and `compose.extra.yml` when `extra` is given, chosen by COMPOSE_FILE).
fn recipe(dir: &Path, main: &str, extra: Option<&str>) {
    let mut sample = "TYPE=verdict\n".to_string();
    std::fs::write(dir.join("compose.yml"), main).unwrap();
    if let Some(x) = extra {
        std::fs::write(dir.join("compose.extra.yml"), x).unwrap();
        sample.push_str("COMPOSE_FILE=compose.yml:compose.extra.yml\n");
    }
    std::fs::write(dir.join(".env.sample"), sample).unwrap();
}

/// Docker's verdict and cc-ci's on the recipe in `dir`: `Err(both messages)` when Docker refuses it
/// (and cc-ci must too), `Ok(())` when Docker accepts it (and cc-ci's stack must equal Docker's).
fn agree(dir: &Path) -> Result<(), (String, String)> {
    let env = compose::app_env(dir, STACK, DOMAIN, &BTreeMap::new()).unwrap();
    let files = compose::compose_files(dir, &env.vars);
    let ours = compose::load(dir, STACK, DOMAIN, &BTreeMap::new());
    match (stack_config_refusal(&files, &env.vars, dir), ours) {
        (Some(theirs), Err(e)) => Err((theirs, e.to_string())),
        (Some(theirs), Ok(_)) => panic!("Docker refuses what cc-ci accepts: {theirs}"),
        (None, Err(e)) => panic!("cc-ci refuses what Docker accepts: {e}"),
        (None, Ok(spec)) => {
            let docker = stack_config(&files, &env.vars, dir);
            let diff = differences(&compose::render(&spec), &docker, &spec.ignored);
            assert!(diff.is_empty(), "{}", diff.join("\n"));
            Ok(())
        }
    }
}

const APP: &str = "services:\n  app:\n    image: nginx:1\n";

fn with_version(v: &str, body: &str) -> String {
    format!("version: \"{v}\"\n{body}")
}

#[test]
fn compose_files_of_different_versions_are_refused_as_docker_refuses_them() {
    let d = tempfile::tempdir().unwrap();
    let extra = "services:\n  app:\n    hostname: x\n";
    recipe(d.path(), &with_version("3.8", APP), Some(extra));
    let (theirs, ours) = agree(d.path()).unwrap_err();
    assert!(theirs.contains("version mismatched"), "{theirs}");
    assert!(
        ours.contains(
            "compose.extra.yml: version: version 3.13 differs from the first compose file's 3.8"
        ),
        "{ours}"
    );
    // No version and "3" both mean the newest: the same version.
    recipe(d.path(), &with_version("3", APP), Some(extra));
    agree(d.path()).unwrap();
    recipe(
        d.path(),
        &with_version("3.8", APP),
        Some(&with_version("3.8", extra)),
    );
    agree(d.path()).unwrap();
}

#[test]
fn pids_is_refused_before_version_3_9_and_deployed_from_it() {
    let d = tempfile::tempdir().unwrap();
    let pids = "    deploy:\n      resources:\n        limits:\n          pids: 64\n";
    recipe(
        d.path(),
        &with_version("3.8", &format!("{APP}{pids}")),
        None,
    );
    let (theirs, ours) = agree(d.path()).unwrap_err();
    assert!(theirs.contains("pids is not allowed"), "{theirs}");
    assert!(
        ours.contains("compose.yml:8: services.app.deploy.resources.limits.pids: Docker's schema for version 3.8 has no pids"),
        "{ours}"
    );
    recipe(
        d.path(),
        &with_version("3.9", &format!("{APP}{pids}")),
        None,
    );
    agree(d.path()).unwrap();
    let spec = compose::load(d.path(), STACK, DOMAIN, &BTreeMap::new()).unwrap();
    assert_eq!(spec.services["app"].deploy.limits.pids, Some(64));
}

#[test]
fn devices_and_limits_generic_resources_are_refused_as_docker_refuses_them() {
    let d = tempfile::tempdir().unwrap();
    for (key, res) in [
        (
            "devices",
            "reservations: {devices: [{capabilities: [gpu]}]}",
        ),
        ("devices", "limits: {devices: [{capabilities: [gpu]}]}"),
        (
            "generic_resources",
            "limits: {generic_resources: [{discrete_resource_spec: {kind: gpu, value: 1}}]}",
        ),
        (
            "named_resource_spec",
            "reservations: {generic_resources: [{named_resource_spec: {kind: ssd, value: a}}]}",
        ),
    ] {
        let body = format!("{APP}    deploy:\n      resources: {{{res}}}\n");
        recipe(d.path(), &with_version("3.8", &body), None);
        let (theirs, ours) = agree(d.path()).unwrap_err();
        assert!(theirs.contains(key), "{theirs}");
        assert!(
            ours.contains(key) && ours.contains("unsupported compose keys"),
            "{ours}"
        );
    }
}

#[test]
fn spread_preferences_and_generic_reservations_are_deployed_as_docker_reads_them() {
    let d = tempfile::tempdir().unwrap();
    let body = format!(
        "{APP}    deploy:\n      placement:\n        preferences:\n          - spread: node.labels.zone\n          - spread: node.id\n      resources:\n        reservations:\n          generic_resources:\n            - discrete_resource_spec: {{kind: gpu, value: 2}}\n"
    );
    recipe(d.path(), &with_version("3.8", &body), None);
    agree(d.path()).unwrap();
    let spec = compose::load(d.path(), STACK, DOMAIN, &BTreeMap::new()).unwrap();
    let deploy = &spec.services["app"].deploy;
    assert_eq!(deploy.preferences, ["node.labels.zone", "node.id"]);
    assert!(spec.ignored.is_empty(), "{:?}", spec.ignored);
    assert_eq!(deploy.reservations.generic.len(), 1);
}
