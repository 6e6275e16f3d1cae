//! The data model of a finished run: [`RunResult`] and the records it is made of. The runner fills it;
//! every renderer (terminal, JUnit, Markdown, results.json, badges, dashboard) only reads it. Its serde
//! form is results.json (see `docs/results-schema.md`); a field added here must be added there too, with
//! `#[serde(default)]` so older files still load.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::redact::Redactor;

/// The results.json format version this build writes and the newest it reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The tiers in the order they run (guarantee 2).
pub const TIER_ORDER: [&str; 5] = ["install", "upgrade", "backup", "restore", "custom"];

/// Everything known about one finished run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunResult {
    pub schema_version: u32,
    pub run_id: String,
    pub recipe: String,
    pub pr: Option<u64>,
    /// `REF` as given on the command line or in the environment.
    pub git_ref: Option<String>,
    /// The commit the upgrade must land on (guarantee 3).
    pub head_ref: Option<String>,
    /// Where `head_ref` came from: `"REF"`, `"checkout HEAD"` or `"unknown"`.
    pub head_ref_source: String,
    pub previous_release: Option<String>,
    pub version_before: Option<String>,
    pub version_after: Option<String>,
    pub chaos_version: Option<String>,
    /// `stack` or `abra`.
    pub deployer: String,
    pub domain: String,
    pub stack: String,
    /// The selected tiers (`STAGES`), in run order.
    pub stages: Vec<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_ms: u64,
    /// The customization manifest, one line per surface, as printed at run start.
    pub customization: Vec<String>,
    pub gate: Vec<GateRecord>,
    pub tiers: Vec<TierResult>,
    pub deploy_count: u32,
    pub teardown: TeardownResult,
    pub upgrade_proof: Option<UpgradeProof>,
    pub lint: Option<LintResult>,
    pub secrets_printed: bool,
    pub interrupted: bool,
    pub exit_code: u8,
    pub artifacts: Artifacts,
    /// The host the run ran on (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The ledger's head when the run ended, `SEQ:HASH` (`cc-ci ledger verify --checkpoint` checks
    /// it later); `None` when the ledger could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger_checkpoint: Option<String>,
    /// Why the run is an infrastructure failure (exit 3, not the recipe's fault), when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure: Option<String>,
    /// What install deployed before the upgrade and why (none when upgrade was not selected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_base: Option<super::UpgradeBase>,
    /// Screenshots of the app after install and upgrade, or why none was taken (`--screenshots`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub screenshots: Vec<super::Screenshot>,
}

/// One trust-gate decision (guarantee 5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateRecord {
    pub subject: String,
    pub allowed: bool,
    pub reason: String,
    /// `allow`, `would allow` (not spent: the run ended before it executed a repo-local file), `deny`
    /// or `none` (no repo-local files; nothing was decided). Empty in files written before it existed.
    #[serde(default)]
    pub decision: String,
}

impl GateRecord {
    /// How the decision reads: [`GateRecord::decision`], or allow/deny for older files.
    pub fn word(&self) -> &str {
        match (self.decision.as_str(), self.allowed) {
            ("", true) => "allow",
            ("", false) => "deny",
            (w, _) => w,
        }
    }
}

/// One tier of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierResult {
    /// `install`, `upgrade`, `backup`, `restore` or `custom`.
    pub tier: String,
    pub status: TierStatus,
    /// The tier's op (none for `custom`, or when the tier never reached its op).
    pub op: Option<OpResult>,
    /// `"run"` or `"skipped: <why>"`.
    pub generic: String,
    pub overlay_files: usize,
    pub tests: Vec<TestResult>,
}

/// The verdict of a tier as the runner decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TierStatus {
    Passed,
    Failed,
    /// Should have run and did not (infra error, timeout, an earlier abort).
    NotRun {
        reason: String,
    },
    /// Does not apply: `declared` in recipe.yaml with a reason, or unsupported (`declared: false`):
    /// structurally impossible for this recipe or on this server, e.g. no base to upgrade from, no
    /// `backupbot.backup` label, or a deployer that says the server cannot take backups.
    NotApplicable {
        reason: String,
        declared: bool,
    },
}

/// A tier's op, run exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResult {
    pub name: String,
    pub ok: bool,
    pub duration_ms: u64,
    pub error: Option<String>,
}

/// One assertion (a trial).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    /// `<tier>::<file>::<name>`, e.g. `upgrade::generic-tests/upgrade.yaml::deployed_head`.
    pub id: String,
    pub name: String,
    pub file: String,
    pub source: TestSource,
    pub outcome: Outcome,
    pub duration_ms: u64,
}

/// Where an assertion came from. Everything but `Generic` is recipe-specific (the functional rung).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestSource {
    Generic,
    Overlay,
    Pytest,
    RepoLocal,
}

impl TestSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TestSource::Generic => "generic",
            TestSource::Overlay => "overlay",
            TestSource::Pytest => "pytest",
            TestSource::RepoLocal => "repo-local",
        }
    }

    /// True for assertions written for this recipe (overlay, pytest, repo-local).
    pub fn is_recipe_specific(self) -> bool {
        !matches!(self, TestSource::Generic)
    }
}

/// What happened to one assertion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed {
        message: String,
    },
    /// Deselected on purpose (a name filter, `ignore: true`).
    Ignored {
        reason: String,
    },
    /// Should have run and did not (its tier's op failed, the run was interrupted).
    NotRun {
        reason: String,
    },
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed { .. } => "failed",
            Outcome::Ignored { .. } => "ignored",
            Outcome::NotRun { .. } => "not run",
        }
    }

    /// The message or reason, when there is one.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Outcome::Passed => None,
            Outcome::Failed { message } => Some(message),
            Outcome::Ignored { reason } | Outcome::NotRun { reason } => Some(reason),
        }
    }
}

/// What teardown did and what it found left over (guarantee 6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeardownResult {
    pub clean: bool,
    pub leftovers: Vec<String>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// The proof that the upgrade landed on the PR head (guarantee 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeProof {
    pub head_ref: Option<String>,
    pub chaos_version: Option<String>,
    /// The chaos-version install deployed (the upgrade base's commit), when install was a chaos deploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chaos_version_before: Option<String>,
    pub version_before: Option<String>,
    pub version_after: Option<String>,
    /// A sentence: `chaos-version matches head_ref`, `upgrade rolled back`, `stale: …`.
    pub verdict: String,
}

/// The recipe lint (the top rung).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintResult {
    pub passed: bool,
    pub tool: String,
    pub messages: Vec<String>,
    /// Set when the lint could not run at all (tool missing, timed out, crashed): the rung is then
    /// unverified, never failed or passed. `passed` is false whenever this is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_run: Option<String>,
}

impl LintResult {
    /// A lint that ran: it passed when `messages` holds no failure the caller counted.
    pub fn ran(tool: &str, passed: bool, messages: Vec<String>) -> LintResult {
        LintResult {
            passed,
            tool: tool.to_string(),
            messages,
            not_run: None,
        }
    }

    /// A lint that could not run, and why.
    pub fn could_not_run(tool: &str, reason: impl Into<String>) -> LintResult {
        let reason = reason.into();
        LintResult {
            passed: false,
            tool: tool.to_string(),
            messages: vec![reason.clone()],
            not_run: Some(reason),
        }
    }
}

/// Where the run's files were written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifacts {
    pub junit: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub results: Option<PathBuf>,
    pub ledger: Option<PathBuf>,
}

impl RunResult {
    /// The tier result named `tier`, if the run recorded one.
    pub fn tier(&self, tier: &str) -> Option<&TierResult> {
        self.tiers.iter().find(|t| t.tier == tier)
    }

    /// Every assertion of the run, in tier order.
    pub fn tests(&self) -> impl Iterator<Item = &TestResult> {
        self.tiers.iter().flat_map(|t| t.tests.iter())
    }

    /// True when the run as a whole passed (its exit code is 0).
    pub fn passed(&self) -> bool {
        self.exit_code == crate::exit::OK
    }

    /// Green: the run passed, install was selected and passed, and every other selected tier passed or
    /// does not apply. A green run's head is an upgrade base for later runs (`--upgrade-from last-green`).
    pub fn green(&self) -> bool {
        let status = |name: &str| self.tier(name).map(|t| &t.status);
        self.passed()
            && self.stages.iter().any(|s| s == "install")
            && matches!(status("install"), Some(TierStatus::Passed))
            && self.stages.iter().all(|s| {
                matches!(
                    status(s),
                    None | Some(TierStatus::Passed | TierStatus::NotApplicable { .. })
                )
            })
    }

    /// A copy with every string passed through `redactor`: call it before rendering anything that
    /// leaves the process, so no registered secret reaches a report (guarantee 8).
    pub fn redacted(&self, redactor: &Redactor) -> RunResult {
        if redactor.is_empty() {
            return self.clone();
        }
        let mut value = match serde_json::to_value(self) {
            Ok(v) => v,
            Err(_) => return self.clone(),
        };
        redact_value(&mut value, redactor);
        // Masking only shortens strings: the shape is unchanged, so this cannot fail; fall back to a
        // field-blind copy only if it somehow does.
        serde_json::from_value(value).unwrap_or_else(|_| self.clone())
    }
}

fn redact_value(v: &mut serde_json::Value, redactor: &Redactor) {
    match v {
        serde_json::Value::String(s) if redactor.leaks(s) => *s = redactor.redact(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| redact_value(i, redactor)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|i| redact_value(i, redactor)),
        _ => {}
    }
}

impl TierResult {
    /// Counts of passed, failed, ignored and not-run assertions.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for t in &self.tests {
            match t.outcome {
                Outcome::Passed => c.passed += 1,
                Outcome::Failed { .. } => c.failed += 1,
                Outcome::Ignored { .. } => c.ignored += 1,
                Outcome::NotRun { .. } => c.not_run += 1,
            }
        }
        c
    }

    /// A short word for the tier's status: `passed`, `FAILED`, `not run`, `n/a` (declared in
    /// recipe.yaml), `unsupported` (cannot run for this recipe or here, undeclared).
    pub fn status_word(&self) -> &'static str {
        match self.status {
            TierStatus::Passed => "passed",
            TierStatus::Failed => "FAILED",
            TierStatus::NotRun { .. } => "not run",
            TierStatus::NotApplicable { declared: true, .. } => "n/a",
            TierStatus::NotApplicable { .. } => "unsupported",
        }
    }
}

/// Assertion counts of a tier or a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub ignored: usize,
    pub not_run: usize,
}

/// `1.2s`, `340ms`, `2m05s`: durations as people read them.
pub fn human_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// The first 8 characters of a commit id (how chaos-versions are written); other refs unchanged.
pub fn short_ref(r: &str) -> String {
    if r.len() > 12 && r.chars().all(|c| c.is_ascii_hexdigit()) {
        r[..8].to_string()
    } else {
        r.to_string()
    }
}
