//! Test fixtures: a complete, realistic run the unit tests of every renderer start from, plus small
//! builders to bend it into the case a test needs.

use super::model::*;

pub fn test(
    tier: &str,
    file: &str,
    name: &str,
    source: TestSource,
    outcome: Outcome,
) -> TestResult {
    TestResult {
        id: format!("{tier}::{file}::{name}"),
        name: name.to_string(),
        file: file.to_string(),
        source,
        outcome,
        duration_ms: 120,
    }
}

pub fn tier(name: &str, status: TierStatus, tests: Vec<TestResult>) -> TierResult {
    let op = match (name, &status) {
        ("custom", _) | (_, TierStatus::NotApplicable { .. } | TierStatus::NotRun { .. }) => None,
        _ => Some(OpResult {
            name: match name {
                "install" => "deploy",
                other => other,
            }
            .to_string(),
            ok: true,
            duration_ms: 4200,
            error: None,
        }),
    };
    TierResult {
        tier: name.to_string(),
        status,
        op,
        generic: "run".to_string(),
        overlay_files: tests
            .iter()
            .filter(|t| t.source == TestSource::Overlay)
            .count(),
        tests,
    }
}

pub fn generic_pass(tier_name: &str) -> TestResult {
    test(
        tier_name,
        &format!("generic-tests/{tier_name}.yaml"),
        "healthy",
        TestSource::Generic,
        Outcome::Passed,
    )
}

pub fn passing_tier(name: &str) -> TierResult {
    tier(name, TierStatus::Passed, vec![generic_pass(name)])
}

/// A run that climbs to L5: every tier passed, an overlay assertion passed, lint passed.
pub fn run() -> RunResult {
    let head = "0123abcd4567ef890123abcd4567ef8901234567";
    let mut custom = tier(
        "custom",
        TierStatus::Passed,
        vec![test(
            "custom",
            "overlays/hello/custom.yaml",
            "greets",
            TestSource::Overlay,
            Outcome::Passed,
        )],
    );
    custom.generic = "skipped: custom has no generic tests".to_string();
    RunResult {
        schema_version: SCHEMA_VERSION,
        run_id: "r-1a2b3c".to_string(),
        recipe: "hello".to_string(),
        pr: Some(42),
        git_ref: Some(head.to_string()),
        head_ref: Some(head.to_string()),
        head_ref_source: "REF".to_string(),
        previous_release: Some("1.1.0+1.36.1".to_string()),
        version_before: Some("1.1.0+1.36.1".to_string()),
        version_after: Some("1.2.0+1.36.1".to_string()),
        chaos_version: Some("0123abcd".to_string()),
        deployer: "stack".to_string(),
        domain: "hello-1a2b3c.ci.local".to_string(),
        stack: "hello-1a2b3c_ci_local".to_string(),
        stages: TIER_ORDER.iter().map(|s| s.to_string()).collect(),
        started_at: "2026-11-23T18:00:00Z".to_string(),
        duration_ms: 61_500,
        customization: vec![
            "recipe.yaml: deploy timeout 300s".to_string(),
            "overlay: overlays/hello/custom.yaml".to_string(),
        ],
        gate: vec![GateRecord {
            subject: "repo-local .cc-ci/extra.yaml".to_string(),
            allowed: false,
            reason: "recipe not on the allowlist".to_string(),
            decision: "deny".to_string(),
        }],
        tiers: vec![
            passing_tier("install"),
            passing_tier("upgrade"),
            passing_tier("backup"),
            passing_tier("restore"),
            custom,
        ],
        deploy_count: 1,
        teardown: TeardownResult {
            clean: true,
            leftovers: vec![],
            error: None,
            duration_ms: 2100,
        },
        upgrade_proof: Some(UpgradeProof {
            head_ref: Some(head.to_string()),
            chaos_version: Some("0123abcd".to_string()),
            chaos_version_before: None,
            version_before: Some("1.1.0+1.36.1".to_string()),
            version_after: Some("1.2.0+1.36.1".to_string()),
            verdict: "chaos-version matches head_ref".to_string(),
        }),
        lint: Some(LintResult {
            passed: true,
            tool: "abra recipe lint".to_string(),
            messages: vec![],
            not_run: None,
        }),
        secrets_printed: false,
        ledger_checkpoint: Some(format!("128:{}", "3f".repeat(32))),
        infrastructure: None,
        upgrade_base: None,
        screenshots: Vec::new(),
        interrupted: false,
        exit_code: 0,
        artifacts: Artifacts::default(),
        host: None,
    }
}

/// Replaces the tier named `name`.
pub fn set_tier(r: &mut RunResult, t: TierResult) {
    let slot = r
        .tiers
        .iter_mut()
        .find(|x| x.tier == t.tier)
        .expect("sample has every tier");
    *slot = t;
}

/// A screenshot record after `tier`: taken (`error` `None`, at `/a/screenshot-<tier>.png`, 1280×800)
/// or not taken, with why.
pub fn screenshot(tier: &str, error: Option<&str>, duration_ms: u64) -> super::Screenshot {
    super::Screenshot {
        tier: tier.into(),
        path: error
            .is_none()
            .then(|| format!("/a/screenshot-{tier}.png").into()),
        url: "http://hello.ci.local/".into(),
        via: "forwarder".into(),
        width: 1280,
        height: 800,
        duration_ms,
        error: error.map(str::to_string),
    }
}
