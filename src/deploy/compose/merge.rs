//! Merging compose overlays (`COMPOSE_FILE=compose.yml:compose.smtp.yml`) the way compose does:
//! mappings merge key by key, `environment` and `labels` merge by variable/label name (list and map
//! forms alike), list-like resources (`volumes`, `secrets`, `configs`, `ports`, `networks`, …) are
//! unioned, and everything else is replaced by the later file. Pure YAML value work.

use serde_yaml::{Mapping, Value};

/// Lists that are unioned across files; every other list is replaced.
const UNION_KEYS: [&str; 8] = [
    "volumes",
    "secrets",
    "configs",
    "ports",
    "networks",
    "extra_hosts",
    "dns",
    "cap_add",
];

/// Keys whose list form (`K=V`) is turned into a mapping so files merge per key.
const KV_KEYS: [&str; 3] = ["environment", "labels", "sysctls"];

/// Rewrites `K=V` lists under `environment`/`labels` into mappings, everywhere in `v`.
pub fn normalize(v: &mut Value) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m.iter_mut() {
                let key = k.as_str().unwrap_or_default();
                if KV_KEYS.contains(&key) {
                    if let Value::Sequence(items) = child {
                        let mut map = Mapping::new();
                        for item in items.iter() {
                            let s = scalar_string(item);
                            match s.split_once('=') {
                                Some((a, b)) => map.insert(
                                    Value::String(a.to_string()),
                                    Value::String(b.to_string()),
                                ),
                                None => map.insert(Value::String(s), Value::Null),
                            };
                        }
                        *child = Value::Mapping(map);
                    }
                }
                normalize(child);
            }
        }
        Value::Sequence(s) => s.iter_mut().for_each(normalize),
        _ => {}
    }
}

/// Merges `over` into `base`.
pub fn merge(base: &mut Value, over: Value) {
    merge_at(base, over, "")
}

fn merge_at(base: &mut Value, over: Value, key: &str) {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                let name = k.as_str().unwrap_or_default().to_string();
                match b.get_mut(&k) {
                    Some(existing) => merge_at(existing, v, &name),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (Value::Sequence(b), Value::Sequence(o)) if UNION_KEYS.contains(&key) => {
            for item in o {
                if !b.contains(&item) {
                    b.push(item);
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// A scalar as text (numbers and booleans too); other values as YAML.
pub fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> Value {
        let mut v: Value = serde_yaml::from_str(s).unwrap();
        normalize(&mut v);
        v
    }

    #[test]
    fn overlay_adds_env_and_labels_by_key_and_unions_secrets() {
        let mut base = y("services:\n  app:\n    image: a:1\n    environment: [A=1, B=2]\n    secrets: [s1]\n    deploy:\n      labels: [x=1]\n");
        let over = y("services:\n  app:\n    image: a:2\n    environment:\n      B: 3\n      C: 4\n    secrets: [s2]\n    deploy:\n      labels: [y=2]\n");
        merge(&mut base, over);
        let app = &base["services"]["app"];
        assert_eq!(app["image"], Value::from("a:2"));
        assert_eq!(scalar_string(&app["environment"]["A"]), "1");
        assert_eq!(scalar_string(&app["environment"]["B"]), "3");
        assert_eq!(scalar_string(&app["environment"]["C"]), "4");
        assert_eq!(app["secrets"].as_sequence().unwrap().len(), 2);
        assert_eq!(app["deploy"]["labels"].as_mapping().unwrap().len(), 2);
    }

    #[test]
    fn command_lists_are_replaced_not_unioned() {
        let mut base = y("command: [a, b]\n");
        merge(&mut base, y("command: [c]\n"));
        assert_eq!(base["command"].as_sequence().unwrap().len(), 1);
    }

    #[test]
    fn bare_env_names_stay_unset() {
        let v = y("environment: [DOMAIN]\n");
        assert_eq!(v["environment"]["DOMAIN"], Value::Null);
    }
}
