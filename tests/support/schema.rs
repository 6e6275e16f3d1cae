//! The published results.json schema (docs/results.schema.json), applied by the end-to-end tests.

use std::path::Path;

/// What the published schema finds wrong with a results.json (empty when it is valid).
pub fn schema_errors(doc: &serde_json::Value) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/results.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let v = jsonschema::validator_for(&schema).expect("the published schema compiles");
    v.iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}
