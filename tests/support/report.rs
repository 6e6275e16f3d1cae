//! Runs for the report and dashboard tests: a complete passing run and bends of it (a failed upgrade, an
//! interrupted run), built through the public model the runner fills, plus the redaction of volatile
//! parts for snapshot comparisons.

use cc_ci::report::*;

pub const HEAD: &str = "0123abcd4567ef890123abcd4567ef8901234567";

fn test(
    tier: &str,
    file: &str,
    name: &str,
    source: TestSource,
    outcome: Outcome,
    ms: u64,
) -> TestResult {
    TestResult {
        id: format!("{tier}::{file}::{name}"),
        name: name.into(),
        file: file.into(),
        source,
        outcome,
        duration_ms: ms,
    }
}

fn tier(name: &str, op: Option<&str>, tests: Vec<TestResult>) -> TierResult {
    TierResult {
        tier: name.into(),
        status: TierStatus::Passed,
        op: op.map(|o| OpResult {
            name: o.into(),
            ok: true,
            duration_ms: 5300,
            error: None,
        }),
        generic: "run".into(),
        overlay_files: tests
            .iter()
            .filter(|t| t.source == TestSource::Overlay)
            .count(),
        tests,
    }
}

/// A run of `recipe` that passed every tier, an overlay assertion and lint: level 5.
pub fn passing(recipe: &str, run_id: &str, started_at: &str) -> RunResult {
    let g = |t: &str, n: &str| {
        test(
            t,
            &format!("generic-tests/{t}.yaml"),
            n,
            TestSource::Generic,
            Outcome::Passed,
            240,
        )
    };
    let mut custom = tier(
        "custom",
        None,
        vec![test(
            "custom",
            &format!("overlays/{recipe}/custom.yaml"),
            "greets_visitors",
            TestSource::Overlay,
            Outcome::Passed,
            410,
        )],
    );
    custom.generic = "skipped: custom has no generic tests".into();
    RunResult {
        schema_version: SCHEMA_VERSION,
        run_id: run_id.into(),
        recipe: recipe.into(),
        pr: Some(42),
        git_ref: Some(HEAD.into()),
        head_ref: Some(HEAD.into()),
        head_ref_source: "REF".into(),
        previous_release: Some("1.1.0+1.36.1".into()),
        version_before: Some("1.1.0+1.36.1".into()),
        version_after: Some("1.2.0+1.36.1".into()),
        chaos_version: Some("0123abcd".into()),
        deployer: "stack".into(),
        domain: format!("{recipe}-{run_id}.ci.local"),
        stack: format!("{recipe}-{run_id}_ci_local"),
        stages: TIER_ORDER.iter().map(|s| s.to_string()).collect(),
        started_at: started_at.into(),
        duration_ms: 73_250,
        customization: vec![
            "recipe.yaml: deploy timeout 300s, health path /".into(),
            format!("overlay: overlays/{recipe}/custom.yaml"),
        ],
        gate: vec![GateRecord {
            subject: format!("repo-local tests of {recipe} (.cc-ci/smoke.yaml)"),
            allowed: false,
            reason: "recipe not on the approval allowlist".into(),
            decision: "deny".into(),
        }],
        tiers: vec![
            tier(
                "install",
                Some("deploy"),
                vec![g("install", "converged"), g("install", "serves_http")],
            ),
            tier(
                "upgrade",
                Some("upgrade"),
                vec![g("upgrade", "deployed_head"), g("upgrade", "serves_http")],
            ),
            tier(
                "backup",
                Some("backup"),
                vec![g("backup", "snapshot_exists")],
            ),
            tier(
                "restore",
                Some("restore"),
                vec![g("restore", "serves_http")],
            ),
            custom,
        ],
        deploy_count: 1,
        teardown: TeardownResult {
            clean: true,
            leftovers: vec![],
            error: None,
            duration_ms: 3100,
        },
        upgrade_proof: Some(UpgradeProof {
            head_ref: Some(HEAD.into()),
            chaos_version: Some("0123abcd".into()),
            chaos_version_before: None,
            version_before: Some("1.1.0+1.36.1".into()),
            version_after: Some("1.2.0+1.36.1".into()),
            verdict: "chaos-version matches head_ref".into(),
        }),
        lint: Some(LintResult {
            passed: true,
            tool: "abra recipe lint".into(),
            messages: vec![],
            not_run: None,
        }),
        secrets_printed: false,
        ledger_checkpoint: None,
        infrastructure: None,
        upgrade_base: None,
        screenshots: Vec::new(),
        interrupted: false,
        exit_code: 0,
        artifacts: Artifacts::default(),
        host: Some("ci-1".into()),
    }
}

/// The same recipe, but the upgrade redeployed a stale checkout: upgrade fails, the later tiers do not
/// run, teardown leaves a volume behind, lint did not run. Level 1.
pub fn stale_upgrade(recipe: &str, run_id: &str, started_at: &str) -> RunResult {
    let mut r = passing(recipe, run_id, started_at);
    let msg = "chaos-version 1111aaaa does not match head_ref 0123abcd\n(hint: the upgrade redeployed a stale checkout)";
    let up = &mut r.tiers[1];
    up.status = TierStatus::Failed;
    up.tests[0].outcome = Outcome::Failed {
        message: msg.into(),
    };
    for t in &mut r.tiers[2..] {
        t.status = TierStatus::NotRun {
            reason: "upgrade failed".into(),
        };
        t.op = None;
        for x in &mut t.tests {
            x.outcome = Outcome::NotRun {
                reason: "upgrade failed".into(),
            };
        }
    }
    r.chaos_version = Some("1111aaaa".into());
    r.upgrade_proof = Some(UpgradeProof {
        head_ref: Some(HEAD.into()),
        chaos_version: Some("1111aaaa".into()),
        chaos_version_before: None,
        version_before: Some("1.1.0+1.36.1".into()),
        version_after: Some("1.1.0+1.36.1".into()),
        verdict: "stale: chaos-version does not match head_ref".into(),
    });
    r.teardown = TeardownResult {
        clean: false,
        leftovers: vec![format!("volume {recipe}-{run_id}_ci_local_data")],
        error: Some("volume in use after 30s of retries".into()),
        duration_ms: 31_000,
    };
    r.lint = None;
    r.exit_code = 1;
    r
}

/// Replaces what changes from run to run (durations, timestamps, temporary paths) so text can be
/// compared with a snapshot.
pub fn redact_volatile(text: &str, tmp: &std::path::Path) -> String {
    let text = text.replace(&tmp.display().to_string(), "<TMP>");
    let ms = regex::Regex::new(r"\b\d+(\.\d+)?(ms|s)\b|\b\d+m\d{2}s\b").unwrap();
    let ts = regex::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z").unwrap();
    let text = ms.replace_all(&text, "<DUR>");
    ts.replace_all(&text, "<TIME>").into_owned()
}
