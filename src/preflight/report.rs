//! The `cc-ci check` report and its two renderings: text for a person (what runs, what does not and
//! why, what to fix) and JSON for tools. Rendering only: the verdicts are decided in `check`.

use std::io::Write;
use std::path::PathBuf;

use crate::report::{LintResult, UpgradeBase};
use crate::spec::Tier;

/// One tier: whether it will run, and why not.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TierLine {
    pub tier: String,
    pub runs: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The reason is a declaration in recipe.yaml (an honest N/A), not a structural impossibility.
    pub declared: bool,
}

impl TierLine {
    pub fn will(t: Tier) -> Self {
        TierLine {
            tier: t.to_string(),
            runs: true,
            reason: None,
            declared: false,
        }
    }
    pub fn wont(t: Tier, reason: String, declared: bool) -> Self {
        TierLine {
            tier: t.to_string(),
            runs: false,
            reason: Some(reason),
            declared,
        }
    }
}

/// The trust gate's decision for repo-local files, peeked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GateLine {
    pub allowed: bool,
    pub reason: String,
    /// Repo-local files found in the recipe.
    pub files: usize,
}

impl GateLine {
    /// `none` when there is nothing to decide (no repo-local files: never shown as a deny), else what
    /// a run would decide: `would allow` (a grant is only peeked at, never spent) or `deny`.
    pub fn word(&self) -> &'static str {
        match (self.files, self.allowed) {
            (0, _) => "none",
            (_, true) => "would allow",
            (_, false) => "deny",
        }
    }
}

/// Everything `cc-ci check` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckReport {
    pub recipe: String,
    /// Where the name came from, for people.
    pub name_from: String,
    pub source: String,
    pub checkout: PathBuf,
    pub head_ref: Option<String>,
    /// The recipe is a git repository (releases and head_ref are known).
    pub git: bool,
    pub domain: String,
    pub stack: String,
    pub compose_files: Vec<String>,
    pub services: Vec<String>,
    pub previous_release: Option<String>,
    /// What a run's install would deploy before upgrading (`None` without git).
    pub upgrade_base: Option<UpgradeBase>,
    pub tiers: Vec<TierLine>,
    /// recipe.yaml and overlay files found in the data dir.
    pub overlays: Vec<String>,
    pub gate: GateLine,
    /// Compose keys swarm ignores.
    pub warnings: Vec<String>,
    pub lint: LintResult,
}

impl CheckReport {
    /// True when the built-in lint ran and found problems.
    pub fn lint_failed(&self) -> bool {
        self.lint.not_run.is_none() && !self.lint.passed
    }
}

/// `lint: passed (cc-ci built-in lint)` or the failure count, or why it could not run.
pub fn lint_line(l: &LintResult) -> String {
    match (&l.not_run, l.passed) {
        (Some(why), _) => format!("lint: could not run ({}): {why}", l.tool),
        (None, true) => format!("lint: passed ({})", l.tool),
        (None, false) => format!("lint: {} problem(s) ({})", l.messages.len(), l.tool),
    }
}

/// The report for a person.
pub fn render_text(r: &CheckReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "recipe: {}", r.name_from)?;
    writeln!(
        out,
        "source: {} (checkout {})",
        r.source,
        r.checkout.display()
    )?;
    match (&r.head_ref, r.git) {
        (Some(h), _) => writeln!(out, "head_ref: {h}")?,
        (None, false) => writeln!(
            out,
            "head_ref: unknown (not a git repository: no releases, no upgrade)"
        )?,
        (None, true) => writeln!(out, "head_ref: unknown")?,
    }
    writeln!(out, "app: {} (stack {})", r.domain, r.stack)?;
    writeln!(out, "compose files: {}", r.compose_files.join(", "))?;
    writeln!(out, "services: {}", r.services.join(", "))?;
    writeln!(
        out,
        "previous release: {}",
        r.previous_release.as_deref().unwrap_or("none")
    )?;
    if let Some(b) = &r.upgrade_base {
        writeln!(out, "upgrade base: {}", b.describe())?;
        if b.commit.is_some() {
            writeln!(out, "  why: {}", b.reason)?;
        }
    }
    writeln!(out, "tiers:")?;
    for t in &r.tiers {
        match &t.reason {
            None => writeln!(out, "  {:<8} will run", t.tier)?,
            Some(why) if t.declared => {
                writeln!(out, "  {:<8} not applicable (recipe.yaml): {why}", t.tier)?
            }
            Some(why) => writeln!(out, "  {:<8} will not run (unsupported): {why}", t.tier)?,
        }
    }
    if r.overlays.is_empty() {
        writeln!(
            out,
            "overlays: none (generic tests only; `cc-ci overlay new {} --from {}` scaffolds some)",
            r.recipe, r.source
        )?;
    } else {
        writeln!(out, "overlays: {}", r.overlays.join(", "))?;
    }
    writeln!(
        out,
        "trust gate (repo-local, {} file(s)): {} — {}",
        r.gate.files,
        r.gate.word(),
        r.gate.reason
    )?;
    for w in &r.warnings {
        writeln!(out, "warning: {w}")?;
    }
    writeln!(out, "{}", lint_line(&r.lint))?;
    for m in &r.lint.messages {
        writeln!(out, "  {m}")?;
    }
    Ok(())
}

/// The report as pretty JSON.
pub fn render_json(r: &CheckReport, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, r)?;
    writeln!(out)
}
