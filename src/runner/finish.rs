//! The run's record: the result skeleton filled before the first op, the live context trials share,
//! `--list`, and the end of a run — exit code, reports (terminal, JUnit, Markdown, results.json) and
//! the run_end event.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::coord::CoordPaths;
use crate::deploy::AppRef;
use crate::docker::Engine;
use crate::exit;
use crate::report::{self, Artifacts, RunResult, TeardownResult, TierStatus};

use super::config::RunConfig;
use super::context::Live;
use super::ledger::Recorder;
use super::plan::Plan;
use super::prepare::Prepared;

/// The results.json schema version this runner writes.
pub const SCHEMA_VERSION: u32 = 1;

/// A result with nothing in it yet.
pub fn empty_result() -> RunResult {
    RunResult {
        schema_version: SCHEMA_VERSION,
        run_id: String::new(),
        host: None,
        recipe: String::new(),
        pr: None,
        git_ref: None,
        head_ref: None,
        head_ref_source: "unknown".into(),
        previous_release: None,
        version_before: None,
        version_after: None,
        chaos_version: None,
        deployer: String::new(),
        domain: String::new(),
        stack: String::new(),
        stages: Vec::new(),
        started_at: String::new(),
        duration_ms: 0,
        customization: Vec::new(),
        gate: Vec::new(),
        tiers: Vec::new(),
        deploy_count: 0,
        teardown: TeardownResult {
            clean: false,
            leftovers: Vec::new(),
            error: Some("teardown did not run".into()),
            duration_ms: 0,
        },
        upgrade_proof: None,
        lint: None,
        secrets_printed: false,
        interrupted: false,
        exit_code: 0,
        artifacts: Artifacts {
            junit: None,
            markdown: None,
            results: None,
            ledger: None,
        },
    }
}

/// What is known before the first op.
pub fn initial_result(cfg: &RunConfig, p: &Prepared, run_id: &str) -> RunResult {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    RunResult {
        run_id: run_id.to_string(),
        host: hostname(),
        recipe: p.recipe.clone(),
        pr: cfg.pr,
        git_ref: cfg.git_ref.clone(),
        head_ref: p.checkout.head_ref.clone(),
        head_ref_source: p.head_ref_source.clone(),
        previous_release: p.previous_release.as_ref().map(|r| r.tag.clone()),
        deployer: cfg.deployer.name().to_string(),
        domain: p.domain.clone(),
        stack: p.stack.clone(),
        stages: cfg.stages.iter().map(|t| t.to_string()).collect(),
        started_at: now,
        customization: p.customization.clone(),
        gate: p.gate.clone(),
        lint: p.lint.clone(),
        ..empty_result()
    }
}

/// The live context the trials share.
pub fn live(engine: &Arc<Engine>, app: &AppRef, p: &Prepared) -> Live {
    let meta = &p.discovery.meta;
    Live {
        engine: Arc::clone(engine),
        app: app.clone(),
        main_service: meta
            .main_service
            .clone()
            .unwrap_or_else(|| "app".to_string()),
        head_ref: p.checkout.head_ref.clone(),
        exec_deadline: Duration::from_secs(90),
        http_timeout: meta.http_timeout.unwrap_or(Duration::from_secs(60)),
        http_port: meta.http_port,
        accepted_statuses: meta
            .accepted_statuses
            .clone()
            .unwrap_or_else(|| vec![200, 201, 202, 204, 301, 302, 303, 307, 308, 401, 403]),
        health_path: meta.health_path.clone().unwrap_or_else(|| "/".to_string()),
        install: Default::default(),
        values: Default::default(),
        backup: Default::default(),
    }
}

/// Prints the header.
pub fn header(r: &RunResult) {
    let mut out = std::io::stdout();
    let _ = report::terminal::header(r, &mut out);
}

/// `--list` (libtest format) or `--collect-only` (pytest format). Exit 5 when nothing is collected.
/// Every tier that will not run is named with its reason after the list (`--collect-only` only with
/// `-v`, or when nothing is collected).
pub fn list(plan: &Plan, pytest_style: bool, verbose: bool) -> u8 {
    let ids: Vec<&str> = plan.tests().map(|t| t.id.as_str()).collect();
    for id in &ids {
        if pytest_style {
            println!("{id}");
        } else {
            println!("{id}: test");
        }
    }
    if pytest_style {
        println!("\n{} tests collected", ids.len());
    } else {
        println!("\n{} tests, 0 benchmarks", ids.len());
    }
    if !pytest_style || verbose || ids.is_empty() {
        for line in will_not_run(plan) {
            println!("{line}");
        }
    }
    if ids.is_empty() {
        exit::NO_TESTS
    } else {
        exit::OK
    }
}

/// `tier upgrade will not run: unsupported: no previous release: …`, one line per tier.
pub fn will_not_run(plan: &Plan) -> Vec<String> {
    plan.will_not_run()
        .into_iter()
        .map(|(t, why)| format!("tier {t} will not run: {why}"))
        .collect()
}

/// Ends the run: exit code, artifacts, summary, run_end. Returns the exit code.
pub fn complete(
    cfg: &RunConfig,
    p: &Prepared,
    r: &mut RunResult,
    interrupted: Option<&str>,
    rec: &Recorder,
    paths: &CoordPaths,
) -> u8 {
    let failed = r
        .tiers
        .iter()
        .any(|t| matches!(t.status, TierStatus::Failed))
        || !r.teardown.clean
        || r.deploy_count != 1;
    let code = if interrupted.is_some() || r.interrupted {
        exit::INTERRUPTED
    } else if rec.failures() > 0 {
        eprintln!(
            "cc-ci: {} ledger event(s) could not be recorded: the run's record is incomplete",
            rec.failures()
        );
        exit::INTERNAL
    } else if failed {
        exit::FAILED
    } else {
        exit::OK
    };
    r.exit_code = code;
    let redactor = rec.redactor().clone();
    *r = r.redacted(&redactor);
    let dir = cfg
        .artifacts
        .clone()
        .unwrap_or_else(|| p.run_dir.join("artifacts"));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!(
            "cc-ci: cannot create the artifact directory {}: {e}",
            dir.display()
        );
    }
    r.artifacts.ledger = Some(paths.ledger_db.clone());
    r.artifacts.results = Some(dir.join("results.json"));
    r.artifacts.junit = cfg.junitxml.clone();
    r.artifacts.markdown = cfg.summary_md.clone();
    // The comment names every artifact, so it is rendered once they are all known.
    r.artifacts.markdown = render_markdown(cfg, r);
    if let Some(path) = &cfg.junitxml {
        if let Err(e) = report::junit::write(r, path) {
            eprintln!("cc-ci: cannot write JUnit XML {}: {e}", path.display());
        }
    }
    let mut summary = Vec::new();
    let _ = report::terminal::summary(r, &mut summary);
    let summary = String::from_utf8_lossy(&summary).to_string();
    r.secrets_printed = redactor.leaks(&summary) || redactor.leaks(&report::markdown::render(r));
    match report::results::write(r, &dir) {
        Ok(path) => r.artifacts.results = Some(path),
        Err(e) => eprintln!("cc-ci: cannot write results.json in {}: {e}", dir.display()),
    }
    if let Err(e) = report::badge::write_badges(r, &dir) {
        eprintln!("cc-ci: cannot write the badges in {}: {e}", dir.display());
    }
    print!("{}", redactor.redact(&summary));
    rec.event(
        "run_end",
        &r.recipe,
        match code {
            exit::OK => "passed",
            exit::FAILED => "failed",
            exit::INTERRUPTED => "interrupted",
            _ => "error",
        },
        serde_json::json!({
            "exit_code": code,
            "results": r.artifacts.results,
            "deploy_count": r.deploy_count,
            "teardown_clean": r.teardown.clean,
            "head_ref": r.head_ref,
            "chaos_version": r.chaos_version,
        }),
    );
    for sub in ["checkout", "backups", "abra"] {
        let _ = std::fs::remove_dir_all(p.run_dir.join(sub));
    }
    code
}

fn render_markdown(cfg: &RunConfig, r: &RunResult) -> Option<PathBuf> {
    let path = cfg.summary_md.clone()?;
    match std::fs::write(&path, report::markdown::render(r)) {
        Ok(()) => Some(path),
        Err(e) => {
            eprintln!(
                "cc-ci: cannot write the Markdown summary {}: {e}",
                path.display()
            );
            None
        }
    }
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}
