//! The engine specs the stack deployer builds from a resolved stack, checked field by field.

use super::*;
use crate::deploy::compose::GenericResourceDef;

fn example() -> StackSpec {
    let d = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/recipes/hello");
    for f in ["compose.yml", ".env.sample", "abra.sh", "app.conf.tmpl"] {
        std::fs::copy(src.join(f), d.path().join(f)).unwrap();
    }
    crate::deploy::compose::load(d.path(), "h_x", "h.x", &BTreeMap::new()).unwrap()
}

#[test]
fn example_service_becomes_an_engine_spec_like_stack_deploy_makes() {
    let spec = example();
    let svc = &spec.services["app"];
    let mut refs = Refs::default();
    refs.secrets
        .insert("api_key".into(), ("h_x_api_key_v1".into(), "sid".into()));
    refs.configs
        .insert("app_conf".into(), ("h_x_app_conf_v1".into(), "cid".into()));
    let base: HashMap<String, String> =
        [("com.docker.stack.namespace".to_string(), "h_x".to_string())].into();
    let s = service_spec(&spec, "app", svc, &svc.deploy.labels, &base, &refs).unwrap();
    assert_eq!(s.name.as_deref(), Some("h_x_app"));
    let t = s.task_template.unwrap();
    let c = t.container_spec.unwrap();
    assert_eq!(c.args.as_ref().unwrap()[0], "sh");
    assert_eq!(
        c.secrets.unwrap()[0].file.as_ref().unwrap().name.as_deref(),
        Some("api_key")
    );
    assert_eq!(
        c.configs.unwrap()[0].file.as_ref().unwrap().name.as_deref(),
        Some("/etc/app.conf")
    );
    let m = &c.mounts.unwrap()[0];
    assert_eq!(m.source.as_deref(), Some("h_x_content"));
    assert_eq!(
        m.volume_options.as_ref().unwrap().labels.as_ref().unwrap()["com.docker.stack.namespace"],
        "h_x"
    );
    let nets: Vec<String> = t
        .networks
        .unwrap()
        .into_iter()
        .filter_map(|n| n.target)
        .collect();
    assert_eq!(nets, ["proxy", "h_x_internal"]);
    let u = s.update_config.unwrap();
    assert_eq!(
        u.failure_action,
        Some(ServiceSpecUpdateConfigFailureActionEnum::ROLLBACK)
    );
    assert_eq!(u.order, Some(ServiceSpecUpdateConfigOrderEnum::STOP_FIRST));
    assert_eq!(c.health_check.unwrap().interval, Some(2_000_000_000));
}

#[test]
fn pids_spread_preferences_and_generic_reservations_reach_the_task() {
    let mut spec = example();
    let svc = spec.services.get_mut("app").unwrap();
    svc.deploy.limits.pids = Some(64);
    svc.deploy.preferences = vec!["node.labels.zone".into()];
    svc.deploy.reservations.generic = vec![GenericResourceDef {
        kind: "gpu".into(),
        value: 2,
    }];
    svc.secrets.clear();
    svc.configs.clear();
    let svc = spec.services["app"].clone();
    let s = service_spec(
        &spec,
        "app",
        &svc,
        &svc.deploy.labels,
        &HashMap::new(),
        &Refs::default(),
    )
    .unwrap();
    let t = s.task_template.unwrap();
    let r = t.resources.unwrap();
    assert_eq!(r.limits.unwrap().pids, Some(64));
    let g = &r.reservations.unwrap().generic_resources.unwrap()[0];
    let d = g.discrete_resource_spec.as_ref().unwrap();
    assert_eq!((d.kind.as_deref(), d.value), (Some("gpu"), Some(2)));
    let p = t.placement.unwrap().preferences.unwrap();
    assert_eq!(
        p[0].spread.as_ref().unwrap().spread_descriptor.as_deref(),
        Some("node.labels.zone")
    );
}

#[test]
fn an_undeclared_secret_is_named_in_the_error() {
    let spec = example();
    let e = service_spec(
        &spec,
        "app",
        &spec.services["app"],
        &BTreeMap::new(),
        &HashMap::new(),
        &Refs::default(),
    )
    .unwrap_err();
    assert!(e.contains("api_key"), "{e}");
}
