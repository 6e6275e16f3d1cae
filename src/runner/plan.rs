//! The plan: which tiers run, each with its op (once) and its assertions, in the order
//! install → upgrade → backup → restore → custom. Built from the configuration and the discovery,
//! before anything is deployed (`plan_build.rs`). Filters select assertions; they never remove an op.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::spec::{Check, RecipeMeta, SpecFile, Step, Tier};

use super::config::Selection;
pub use super::plan_build::build;

/// How the recipe's own install script is shown in ids and reports.
pub const INSTALL_STEPS: &str = "repo-local/install_steps.sh";

/// Where a test came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Generic,
    Overlay,
    RepoLocal,
    Pytest,
}

impl Source {
    /// The mark `-m` knows this source by.
    pub fn mark(self) -> &'static str {
        match self {
            Source::Generic => "generic",
            Source::Overlay => "overlay",
            Source::RepoLocal => "repo-local",
            Source::Pytest => "pytest",
        }
    }
}

/// What a test does.
#[derive(Debug, Clone)]
pub enum TestBody {
    /// A spec check evaluated against the live app.
    Check(Check),
    /// A pytest node, run by pytest after the tier's op.
    Pytest {
        file: PathBuf,
        node: String,
        /// Set when the node cannot run (pytest missing, collection failed): the trial fails with it.
        error: Option<String>,
    },
}

/// One assertion of the plan, become a trial.
#[derive(Debug, Clone)]
pub struct PlannedTest {
    /// `<tier>::<file>::<name>`, like a pytest node id.
    pub id: String,
    pub tier: Tier,
    pub name: String,
    pub file: String,
    pub source: Source,
    pub body: TestBody,
    /// Marked ignored in its spec (runs with `--ignored` / `--include-ignored`).
    pub ignored: Option<String>,
    /// Index into the tier's seeds whose failure fails this test (overlay tests only).
    pub seed: Option<usize>,
}

/// What install deploys when the upgrade tier will run: the upgrade base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallBase {
    /// The tag or commit to check out.
    pub rev: String,
    /// A chaos deploy of that checkout (a commit no release tag names), else a release deploy.
    pub chaos: bool,
}

/// The op a tier owns. It runs exactly once.
#[derive(Debug, Clone)]
pub enum OpPlan {
    /// Fresh deploy: of the upgrade base when the upgrade tier will run, else of the head.
    Install {
        base: Option<InstallBase>,
    },
    /// Re-check-out at head_ref and redeploy in place with chaos.
    Upgrade,
    Backup,
    Restore,
    /// The custom tier has no op.
    None,
    /// An overlay replaced the op with nothing, saying why.
    Skipped {
        reason: String,
    },
    /// An overlay replaced the backup or restore op with exec steps in the app's containers.
    Script {
        steps: Vec<Step>,
    },
}

impl OpPlan {
    pub fn name(&self) -> &'static str {
        match self {
            OpPlan::Install { .. } => "deploy",
            OpPlan::Upgrade => "upgrade",
            OpPlan::Backup => "backup",
            OpPlan::Restore => "restore",
            OpPlan::None => "none",
            OpPlan::Skipped { .. } => "skipped",
            OpPlan::Script { .. } => "script",
        }
    }
}

/// Seeding steps of one overlay file, run before its tier's op.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    pub file: String,
    pub steps: Vec<Step>,
    /// A repo-local `install_steps.sh` (trust-gated) run on the host instead of steps.
    pub script: Option<PathBuf>,
    /// From the recipe repository (install_steps.sh, or a `.cc-ci/` spec's `before_op`).
    pub repo_local: bool,
}

/// A spec file from the recipe's overlay, or from the recipe repository itself (trust-gated).
#[derive(Debug, Clone)]
pub struct OverlaySpec {
    pub spec: SpecFile,
    /// From the recipe repository (`.cc-ci/*.yaml`), allowed by the trust gate.
    pub repo_local: bool,
}

impl OverlaySpec {
    /// A file of `overlays/<recipe>/`.
    pub fn shipped(spec: SpecFile) -> Self {
        Self {
            spec,
            repo_local: false,
        }
    }

    /// A file of the recipe repository.
    pub fn repo_local(spec: SpecFile) -> Self {
        Self {
            spec,
            repo_local: true,
        }
    }
}

/// Why a tier does not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotApplicable {
    pub reason: String,
    /// Said so in recipe.yaml (else structurally impossible, e.g. no previous release).
    pub declared: bool,
}

/// Whether a tier's generic tests run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenericTests {
    Run,
    /// Skipped on purpose (flag, environment, grant or recipe.yaml), with why.
    Skipped(String),
}

impl std::fmt::Display for GenericTests {
    /// `run` or `skipped: <why>`, as reports show it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GenericTests::Run => f.write_str("run"),
            GenericTests::Skipped(why) => write!(f, "skipped: {why}"),
        }
    }
}

/// One tier of the plan.
#[derive(Debug, Clone)]
pub struct TierPlan {
    pub tier: Tier,
    /// The tier is in STAGES (its assertions run). Install's op runs even when it is not.
    pub selected: bool,
    pub not_applicable: Option<NotApplicable>,
    pub op: OpPlan,
    /// Extra app env for this tier's deploy (an overlay's `op: {env: …}`), over recipe.yaml's.
    pub op_env: BTreeMap<String, String>,
    /// The op's replacement or extra env comes from a repo-local file.
    pub op_repo_local: bool,
    pub seeds: Vec<SeedPlan>,
    pub tests: Vec<PlannedTest>,
    pub generic: GenericTests,
    pub overlay_files: usize,
    /// Assertions the filters deselected.
    pub deselected: usize,
}

impl TierPlan {
    /// True when this tier's op is performed.
    pub fn op_runs(&self) -> bool {
        self.not_applicable.is_none() && !matches!(self.op, OpPlan::None)
    }

    /// Repo-local files run before or during the op: a repo-local seed, or an op a repo-local file
    /// replaced or gave env to.
    pub fn repo_local_before_op(&self) -> bool {
        let op_executes = self.op_runs() && !matches!(self.op, OpPlan::Skipped { .. });
        self.seeds.iter().any(|s| s.repo_local) || (self.op_repo_local && op_executes)
    }

    /// Repo-local assertions run after the op (only when the tier is selected).
    pub fn repo_local_after_op(&self) -> bool {
        self.selected && self.tests.iter().any(|t| t.source == Source::RepoLocal)
    }
}

/// The whole plan.
#[derive(Debug, Clone)]
pub struct Plan {
    pub tiers: Vec<TierPlan>,
    /// Tiers left out of the plan, with the reason (not in STAGES).
    pub left_out: Vec<(Tier, String)>,
}

impl Plan {
    pub fn tier(&self, t: Tier) -> Option<&TierPlan> {
        self.tiers.iter().find(|p| p.tier == t)
    }

    /// Every tier that will not run, with its reason: left out by STAGES, or not applicable (an
    /// undeclared reason is the recipe's, e.g. no release tag or no backup label).
    pub fn will_not_run(&self) -> Vec<(Tier, String)> {
        let mut out: Vec<(Tier, String)> = self
            .tiers
            .iter()
            .filter_map(|t| {
                let na = t.not_applicable.as_ref()?;
                let kind = if na.declared {
                    "not applicable (recipe.yaml)"
                } else {
                    "unsupported"
                };
                Some((t.tier, format!("{kind}: {}", na.reason)))
            })
            .chain(self.left_out.iter().cloned())
            .collect();
        out.sort_by_key(|(t, _)| *t);
        out
    }

    /// Every selected test, in tier order.
    pub fn tests(&self) -> impl Iterator<Item = &PlannedTest> {
        self.tiers.iter().flat_map(|t| t.tests.iter())
    }
}

/// A pytest node collected for a tier.
#[derive(Debug, Clone)]
pub struct PytestNode {
    pub tier: Tier,
    pub file: PathBuf,
    pub display_file: String,
    pub node: String,
    pub repo_local: bool,
    pub error: Option<String>,
    /// The names of the node's pytest markers (`-m` selects by them, as pytest's does).
    pub markers: Vec<String>,
}

/// What the plan is built from.
pub struct PlanInput<'a> {
    pub stages: &'a [Tier],
    pub meta: &'a RecipeMeta,
    pub generic: &'a [SpecFile],
    pub overlays: &'a [OverlaySpec],
    pub pytest: &'a [PytestNode],
    /// `Some(why)` when every generic test is skipped (flag, env or grant-backed).
    pub skip_generic: Option<String>,
    /// What install deploys before the upgrade, or why there is nothing to upgrade from.
    pub upgrade_base: Result<InstallBase, String>,
    pub selection: &'a Selection,
    /// The recipe's `install_steps.sh`, only when the trust gate allowed repo-local files.
    pub install_steps: Option<PathBuf>,
    /// Some service carries `backupbot.backup=true` (from the preflight).
    pub backup_capable: bool,
}

/// A plan conflict a person must fix before anything is deployed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("two overlays replace the {tier} op: {first} and {second} (hint: keep one op override per tier)")]
    TwoOverrides {
        tier: Tier,
        first: String,
        second: String,
    },
    #[error("{file}: the install op cannot be replaced: every run deploys exactly once")]
    InstallReplaced { file: String },
    #[error("{file}: `op: {{env: …}}` applies to the install and upgrade deploys only; the {tier} op takes no environment (hint: use `op: {{script: …}}` for a custom {tier})")]
    EnvOnOp { file: String, tier: Tier },
}
