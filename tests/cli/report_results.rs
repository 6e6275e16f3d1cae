//! results.json validates against the published schema (docs/results.schema.json), reads back equal,
//! and the schema rejects what it must.

use std::path::Path;

use crate::support::report::{passing, stale_upgrade};
use cc_ci::report::{results, Outcome};

fn validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/results.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("docs/results.schema.json is a valid JSON Schema")
}

fn errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn written_results_validate_against_the_published_schema_and_read_back() {
    let v = validator();
    let dir = tempfile::tempdir().unwrap();
    let mut interrupted = passing("hello", "r3", "2026-11-23T20:00:00Z");
    interrupted.interrupted = true;
    interrupted.exit_code = 2;
    interrupted.tiers[4].tests[0].outcome = Outcome::Ignored {
        reason: "name filter".into(),
    };
    interrupted.upgrade_proof = None;
    interrupted.pr = None;
    for (i, r) in [
        passing("hello", "r1", "2026-11-23T18:00:00Z"),
        stale_upgrade("hello", "r2", "2026-11-23T19:00:00Z"),
        interrupted,
    ]
    .into_iter()
    .enumerate()
    {
        let run_dir = dir.path().join(i.to_string());
        let path = results::write(&r, &run_dir).unwrap();
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "run {i} does not validate: {errs:#?}");
        assert_eq!(results::read(&path).unwrap(), r);
    }
}

#[test]
fn schema_rejects_unknown_outcomes_missing_fields_and_other_versions() {
    let v = validator();
    let good = serde_json::to_value(passing("hello", "r1", "2026-11-23T18:00:00Z")).unwrap();
    assert!(errors(&v, &good).is_empty());

    let mut bad = good.clone();
    bad["tiers"][0]["tests"][0]["outcome"] = serde_json::json!({"kind": "flaky"});
    assert!(!errors(&v, &bad).is_empty(), "unknown outcome accepted");

    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("deploy_count");
    assert!(
        !errors(&v, &bad).is_empty(),
        "missing deploy_count accepted"
    );

    let mut bad = good.clone();
    bad["schema_version"] = serde_json::json!(2);
    assert!(!errors(&v, &bad).is_empty(), "schema_version 2 accepted");

    let mut bad = good;
    bad["started_at"] = serde_json::json!("yesterday");
    assert!(
        !errors(&v, &bad).is_empty(),
        "non-RFC 3339 started_at accepted"
    );
}
