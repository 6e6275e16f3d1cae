//! Merging compose overlays (`COMPOSE_FILE=compose.yml:compose.smtp.yml`) the way Docker's loader
//! merges them, on files already in canonical form (see `normalize`): a service in both files is
//! merged field by field — a value that is empty in the overlay keeps the base's; mappings merge by
//! key; `volumes` merge by target, `secrets`/`configs` by source and `ports` by equality, each then
//! sorted as Docker sorts them; `command`/`entrypoint` are replaced; a different logging driver
//! replaces the logging; every other list is appended to (Docker even appends `healthcheck.test`).
//! Top-level volumes, networks, secrets and configs are replaced whole, key by key. Pure YAML work.

use serde_yaml::{Mapping, Value};

use super::keys::scalar_string;

/// Merges the overlay file `over` into `base`.
pub fn merge_files(base: &mut Value, over: Value) {
    let Value::Mapping(over) = over else { return };
    if !base.is_mapping() {
        *base = Value::Mapping(Mapping::new());
    }
    let Some(b) = base.as_mapping_mut() else {
        return;
    };
    for (k, v) in over {
        let key = scalar_string(&k);
        match (key.as_str(), b.get_mut(&k)) {
            ("services", Some(Value::Mapping(bs))) => {
                if let Value::Mapping(os) = v {
                    for (name, svc) in os {
                        match bs.get_mut(&name) {
                            Some(Value::Mapping(existing)) => {
                                if let Value::Mapping(svc) = svc {
                                    merge_service(existing, svc);
                                }
                            }
                            _ => {
                                bs.insert(name, svc);
                            }
                        }
                    }
                }
            }
            ("volumes" | "networks" | "secrets" | "configs", Some(Value::Mapping(bs))) => {
                if let Value::Mapping(os) = v {
                    for (name, def) in os {
                        bs.insert(name, def);
                    }
                }
            }
            ("version", Some(_)) => {}
            (_, Some(existing)) => merge_value(existing, v),
            (_, None) => {
                b.insert(k, v);
            }
        }
    }
}

/// True for what mergo treats as empty: it never overrides.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Sequence(s) => s.is_empty(),
        Value::Mapping(m) => m.is_empty(),
        Value::Tagged(_) => false,
    }
}

/// One service of the overlay into the base's: the keys Docker merges specially, then the rest. Docker
/// sorts a merged service's volumes, secrets, configs and ports even when the overlay has none.
fn merge_service(base: &mut Mapping, over: Mapping) {
    for (key, field) in [
        ("volumes", "target"),
        ("secrets", "source"),
        ("configs", "source"),
    ] {
        if let Some(existing) = base.get_mut(key) {
            keyed(existing, Value::Sequence(Vec::new()), field);
        }
    }
    if let Some(existing) = base.get_mut("ports") {
        ports(existing, Value::Sequence(Vec::new()));
    }
    for (k, v) in over {
        let key = scalar_string(&k);
        let Some(existing) = base.get_mut(&k) else {
            base.insert(k, v);
            continue;
        };
        match key.as_str() {
            "command" | "entrypoint" => {
                if !is_empty(&v) {
                    *existing = v;
                }
            }
            "volumes" => keyed(existing, v, "target"),
            "secrets" | "configs" => keyed(existing, v, "source"),
            "ports" => ports(existing, v),
            "networks" => match (existing, v) {
                (Value::Mapping(b), Value::Mapping(o)) => {
                    // Per-network settings replace (the base's stay when the overlay's are empty).
                    for (name, settings) in o {
                        match b.get_mut(&name) {
                            Some(_) if is_empty(&settings) => {}
                            Some(slot) => *slot = settings,
                            None => {
                                b.insert(name, settings);
                            }
                        }
                    }
                }
                (b, o) => merge_value(b, o),
            },
            "logging" => {
                let driver = |v: &Value| v.get("driver").map(scalar_string).unwrap_or_default();
                let (bd, od) = (driver(existing), driver(&v));
                if !bd.is_empty() && !od.is_empty() && bd != od {
                    *existing = v;
                } else {
                    merge_value(existing, v);
                }
            }
            _ => merge_value(existing, v),
        }
    }
}

/// Generic merge: mappings by key, lists appended, scalars overridden unless the overlay's is empty.
fn merge_value(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge_value(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (Value::Sequence(b), Value::Sequence(o)) => b.extend(o),
        (b, o) => {
            if !is_empty(&o) || b.is_null() {
                *b = o;
            }
        }
    }
}

/// Lists of long-form entries merged by one field (the overlay's entry replaces the base's), then
/// sorted by it.
fn keyed(base: &mut Value, over: Value, field: &str) {
    let key = |v: &Value| v.get(field).map(scalar_string).unwrap_or_default();
    let (Value::Sequence(b), Value::Sequence(o)) = (&mut *base, over) else {
        return;
    };
    for item in o {
        match b.iter_mut().find(|x| key(x) == key(&item)) {
            Some(slot) => *slot = item,
            None => b.push(item),
        }
    }
    b.sort_by_key(|x| key(x));
}

/// Ports: the union of equal entries, sorted by published port.
fn ports(base: &mut Value, over: Value) {
    let (Value::Sequence(b), Value::Sequence(o)) = (&mut *base, over) else {
        return;
    };
    for item in o {
        if !b.contains(&item) {
            b.push(item);
        }
    }
    let published = |v: &Value| v.get("published").and_then(Value::as_u64).unwrap_or(0);
    b.sort_by_key(published);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn services_merge_field_by_field_and_empty_values_do_not_override() {
        let mut base = y("services:\n  app:\n    image: a:1\n    user: root\n    environment: {A: '1', B: '2'}\n    deploy: {labels: {x: '1'}, placement: {constraints: [a]}}\n");
        let over = y("services:\n  app:\n    user: ''\n    environment: {B: '3', C: '4'}\n    deploy: {labels: {y: '2'}, placement: {constraints: [b]}}\n  worker:\n    image: w:1\n");
        merge_files(&mut base, over);
        let app = &base["services"]["app"];
        assert_eq!(app["user"], Value::from("root"));
        assert_eq!(app["environment"]["B"], Value::from("3"));
        assert_eq!(app["environment"]["C"], Value::from("4"));
        assert_eq!(app["deploy"]["labels"].as_mapping().unwrap().len(), 2);
        assert_eq!(app["deploy"]["placement"]["constraints"], y("[a, b]"));
        assert!(base["services"].get("worker").is_some());
    }

    #[test]
    fn volumes_merge_by_target_and_secrets_by_source_sorted() {
        let mut base = y("services:\n  app:\n    volumes: [{type: volume, source: d, target: /z}, {type: volume, source: a, target: /a}]\n    secrets: [{source: s2}, {source: s1}]\n");
        let over = y("services:\n  app:\n    volumes: [{type: volume, source: d2, target: /z}]\n    secrets: [{source: s1, target: /x}]\n");
        merge_files(&mut base, over);
        let app = &base["services"]["app"];
        assert_eq!(app["volumes"][0]["target"], Value::from("/a"));
        assert_eq!(app["volumes"][1]["source"], Value::from("d2"));
        assert_eq!(app["secrets"][0], y("{source: s1, target: /x}"));
        assert_eq!(app["secrets"][1], y("{source: s2}"));
    }

    #[test]
    fn command_is_replaced_unless_empty_and_other_lists_append() {
        let mut base = y("services:\n  app:\n    command: [a, b]\n    extra_hosts: [x]\n    healthcheck: {test: [CMD, 'true'], interval: 1s}\n");
        merge_files(&mut base, y("services:\n  app:\n    command: []\n    extra_hosts: [y]\n    healthcheck: {test: [CMD, 'false']}\n"));
        let app = &base["services"]["app"];
        assert_eq!(app["command"], y("[a, b]"));
        assert_eq!(app["extra_hosts"], y("[x, y]"));
        assert_eq!(app["healthcheck"]["test"], y("[CMD, 'true', CMD, 'false']"));
    }

    #[test]
    fn top_level_definitions_are_replaced_whole() {
        let mut base = y("volumes:\n  data: {driver: local, labels: {a: '1'}}\n");
        merge_files(
            &mut base,
            y("volumes:\n  data: {labels: {b: '2'}}\n  more:\n"),
        );
        assert_eq!(base["volumes"]["data"], y("{labels: {b: '2'}}"));
        assert!(base["volumes"].get("more").is_some());
    }

    #[test]
    fn ports_union_sorted_by_published() {
        let p = |n: u64| {
            y(&format!(
                "{{mode: ingress, target: {n}, published: {n}, protocol: tcp}}"
            ))
        };
        let mut base = y("services: {app: {ports: []}}");
        base["services"]["app"]["ports"] = Value::Sequence(vec![p(80), p(90)]);
        let mut over = y("services: {app: {ports: []}}");
        over["services"]["app"]["ports"] = Value::Sequence(vec![p(70), p(80)]);
        merge_files(&mut base, over);
        assert_eq!(
            base["services"]["app"]["ports"],
            Value::Sequence(vec![p(70), p(80), p(90)])
        );
    }
}
