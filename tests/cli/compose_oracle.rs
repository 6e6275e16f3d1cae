//! The real world is the oracle: for recipe-shaped fixtures (several compose files chosen by an
//! expanding COMPOSE_FILE, merge keys, tmpfs, golang-template configs with a mode, versioned external
//! secrets, abra.sh exports, `$$`, host-mode ports, traefik labels, env_file, ulimits, …) cc-ci's
//! resolved stack equals what `docker stack config` prints for the same files and the same app env,
//! field by field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cc_ci::deploy::compose;

use crate::support::oracle::{differences, stack_config};
use crate::support::recipe_repo::project_root;

const STACK: &str = "oracle_ci_local";
const DOMAIN: &str = "oracle.ci.local";

fn fixture(name: &str) -> PathBuf {
    project_root().join("tests/fixtures/recipes").join(name)
}

/// Loads `dir` with cc-ci and with Docker; returns cc-ci's spec, both renderings and the files.
fn both(dir: &Path) -> (compose::StackSpec, serde_yaml::Value, serde_yaml::Value) {
    let env = compose::app_env(dir, STACK, DOMAIN, &BTreeMap::new()).unwrap();
    let files = compose::compose_files(dir, &env.vars);
    let docker = stack_config(&files, &env.vars, dir);
    let spec = compose::load(dir, STACK, DOMAIN, &BTreeMap::new())
        .unwrap_or_else(|e| panic!("cc-ci cannot load {}: {e}", dir.display()));
    let ours = compose::render(&spec);
    (spec, ours, docker)
}

fn assert_same(dir: &Path) -> (compose::StackSpec, serde_yaml::Value) {
    let (spec, ours, docker) = both(dir);
    let diff = differences(&ours, &docker, &spec.ignored);
    assert!(
        diff.is_empty(),
        "{}: cc-ci's stack differs from `docker stack config`:\n  {}\n--- ours ---\n{}",
        dir.display(),
        diff.join("\n  "),
        compose::render_yaml(&spec)
    );
    (spec, docker)
}

#[test]
fn a_three_file_recipe_with_merge_keys_tmpfs_and_templated_configs_matches_docker() {
    let dir = fixture("social-coop-cloud");
    let (spec, docker) = assert_same(&dir);
    // Independent of both loaders: the expanding COMPOSE_FILE chose exactly these files.
    let names: Vec<String> = spec
        .files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "compose.yml",
            "compose.postgres.yml",
            "compose.host-ports.yml"
        ]
    );
    let app = &docker["services"]["app"];
    // Merge keys (a list of merges, then a second file's merge) reached Docker's environment.
    assert_eq!(app["environment"]["POSTGRES_DB"].as_str(), Some("social"));
    assert_eq!(
        app["environment"]["MAIL_FROM"].as_str(),
        Some("noreply@oracle.ci.local")
    );
    assert!(
        app["environment"].get("DB_USER").is_none(),
        "not listed in compose"
    );
    assert_eq!(
        app["environment"]["POSTGRES_USER"].as_str(),
        Some("${STACK_NAME}_user")
    );
    // The abra.sh export versioned the config; the mode was octal.
    assert_eq!(
        docker["configs"]["entrypoint_conf"]["name"].as_str(),
        Some("oracle_ci_local_entrypoint_v3")
    );
    assert_eq!(app["configs"][0]["mode"].as_u64(), Some(0o555));
    assert!(
        spec.ignored.contains(&"services.app.tmpfs".to_string()),
        "{:?}",
        spec.ignored
    );
    let tmpfs = spec.services["app"]
        .mounts
        .iter()
        .find(|m| m.target == "/opt/app/tmp")
        .unwrap();
    assert_eq!(
        (tmpfs.kind, tmpfs.tmpfs_size),
        (compose::MountKind::Tmpfs, Some(104_857_600))
    );
}

#[test]
fn overlays_merging_volumes_secrets_env_files_and_ulimits_match_docker() {
    let (spec, docker) = assert_same(&fixture("mailer"));
    assert_eq!(
        docker["services"]["app"]["environment"]["RELAY_PORT"].as_str(),
        Some("587")
    );
    assert_eq!(spec.services["app"].ulimits.len(), 2);
}

#[test]
fn the_deployable_two_service_fixture_matches_docker() {
    let (spec, _) = assert_same(&fixture("pastebin-coop-cloud"));
    assert_eq!(spec.services.len(), 2);
    let work = &spec.services["worker"].mounts[0];
    assert_eq!(work.tmpfs_size, Some(1_048_576));
}

#[test]
fn the_bundled_example_recipes_match_docker() {
    for name in [
        "hello",
        "custom-html",
        "custom-html-nginx",
        "hedgedoc-like",
        "dbapp",
    ] {
        assert_same(&project_root().join("examples/recipes").join(name));
    }
}

#[test]
fn the_comparison_sees_a_changed_field() {
    let (spec, mut ours, docker) = both(&fixture("social-coop-cloud"));
    ours["services"]["app"]["environment"]["LOG_LEVEL"] = serde_yaml::Value::from("trace");
    let diff = differences(&ours, &docker, &spec.ignored);
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(
        diff[0].starts_with("services.app.environment.LOG_LEVEL"),
        "{diff:?}"
    );
}
