//! The run's event stream: what the runner says happened, in order, and nothing about how it is shown.
//! The runner emits [`EventKind`]s through an [`EventBus`](super::EventBus), which stamps each with its
//! time and hands it to every [`Subscriber`]: the terminal, the progress line, the ledger, and the
//! writers of JUnit, Markdown and results.json. A verdict shown is a verdict written is a verdict
//! recorded, because all of them read the same events (cargo-nextest's runner → reporter split).
//!
//! Events are serde values (`events.jsonl` in a run's artifacts is this stream), so a recorded run can
//! be fed to every reporter again in a test.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::exit::ExitClass;
use crate::spec::Tier;

use super::model::{Artifacts, LintResult, Outcome, TeardownResult, TestResult, UpgradeProof};

/// One event: when it happened and what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// Since the run started (the bus was made).
    pub elapsed_ms: u64,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened. Variants are in the order a run emits them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The run has an identity and a ledger; nothing is prepared yet.
    RunStarted(RunStart),
    /// A trust-gate decision (repo-local files, a generic skip), allow or deny, with the reason.
    GateDecided(GateDecision),
    /// A recipe lint finished (the built-in one at plan time, abra's after teardown).
    Linted(LintResult),
    /// Everything known before the first op: what is tested, how, and how it was customized.
    Planned(Box<RunHeader>),
    /// The janitor removed a leftover of a dead run.
    JanitorRemoved(JanitorRemoval),
    /// A tier begins: its seeding steps, its op, then its trials.
    TierStarted(TierStart),
    /// An overlay's seeding steps (or the recipe's install_steps.sh) before the tier's op.
    SeedFinished(SeedFinish),
    /// Output of a host-side step worth showing (install_steps.sh), already redacted.
    StepOutput { source: String, text: String },
    /// The tier's op began.
    OpStarted { tier: Tier, op: String },
    /// A wait inside an op, or inside the deployer, moved on (convergence state).
    Progress(Progress),
    /// Something the deployer did on its own during an op (abra: registering the server, putting a
    /// moved checkout back, creating the proxy network), for the ledger.
    DeployerNote(DeployerNote),
    /// The tier's op ended (or an overlay skipped it).
    OpFinished(OpFinish),
    /// What install really deployed (the previous release, or the head).
    InstallObserved {
        version: Option<String>,
        chaos_version: Option<String>,
    },
    /// What the upgrade deployed, against head_ref.
    UpgradeProved(UpgradeProof),
    /// After install's or upgrade's op: the app's health page as a browser shows it, or why not.
    Screenshot(super::Screenshot),
    /// The tier's trials are about to run.
    TrialsStarted(TrialsStart),
    /// One assertion starts being evaluated.
    TrialStarted { tier: Tier, id: String },
    /// One assertion's verdict.
    TrialFinished(TrialFinish),
    /// The tier's trials are done.
    TrialsFinished(TrialsFinish),
    /// The tier is done: failed when its op or one of its assertions failed.
    TierFinished { tier: Tier, failed: bool },
    /// A tier that will not run (an earlier op failed, `-x`) or does not apply, with its tests.
    TierSkipped(TierSkip),
    /// `--pause-after`: the app is live; `waiting` is false when there is no terminal to wait on.
    Paused(Pause),
    /// SIGINT/SIGTERM: the run stops and tears down at once.
    Interrupted { signal: String },
    /// The session panicked; teardown follows.
    SessionPanicked,
    /// Something a person should know that changes no verdict.
    Warning { message: String },
    /// Teardown ran and checked for leftovers.
    TeardownFinished(TeardownFinish),
    /// The last event: how the run ended and its exit code.
    RunFinished(RunEnd),
    /// After the last event, only when ledger events were still unrecorded then: how many, and the
    /// fallback file holding them (the run's exit code is then at least 3).
    RecordIncomplete(super::Unrecorded),
}

/// `run_start`: the run as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStart {
    pub run_id: String,
    /// The recipe as given (a name, URL or path).
    pub source: String,
    pub git_ref: Option<String>,
    pub pr: Option<u64>,
    pub stages: Vec<Tier>,
    pub deployer: String,
}

/// `--pause-after`: where the app can be looked at while the run waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub tier: Tier,
    /// False when there is no terminal to wait on (the run goes on at once).
    pub waiting: bool,
    pub run_id: String,
    /// The app's services (short names), the main one first.
    #[serde(default)]
    pub services: Vec<String>,
    /// The coord tree the run uses, when it was not the default one (`cc-ci exec` needs it then).
    #[serde(default)]
    pub coord_dir: Option<String>,
}

impl Pause {
    /// A ready-to-paste `cc-ci exec` into the main service.
    pub fn exec_hint(&self) -> String {
        let coord = self
            .coord_dir
            .as_ref()
            .map(|d| format!(" --coord-dir '{d}'"))
            .unwrap_or_default();
        let service = self.services.first().map_or("app", String::as_str);
        format!(
            "cc-ci exec{coord} --run {} --service {service} -- sh -c 'cat /etc/hostname; ls /'",
            self.run_id
        )
    }
}

/// Which gate a decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gate {
    /// Files from the recipe repository itself.
    RepoLocal,
    /// Skipping the generic tests.
    SkipGeneric,
}

impl Gate {
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::RepoLocal => "repo-local",
            Gate::SkipGeneric => "skip-generic",
        }
    }
}

/// One trust decision (guarantee 5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateDecision {
    pub gate: Gate,
    pub recipe: String,
    pub allowed: bool,
    pub reason: String,
    /// The grant that allowed, when one did.
    pub grant: Option<String>,
    pub pr: Option<u64>,
    /// The repo-local files the decision covers.
    pub files: Vec<String>,
    /// An allow that is not spent yet ("would allow"): the grant use (or the off-switch's obligation) is
    /// taken when the run first executes a repo-local file, and a second decision says so. A run that
    /// ends before that spends nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub provisional: bool,
    /// Nothing was asked: there are no repo-local files (shown as `none`, never as a deny).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_needed: bool,
}

impl GateDecision {
    /// `allow`, `would allow`, `deny` or `none` (nothing to decide).
    pub fn word(&self) -> &'static str {
        match (self.not_needed, self.allowed, self.provisional) {
            (true, _, _) => "none",
            (false, true, true) => "would allow",
            (false, true, false) => "allow",
            (false, false, _) => "deny",
        }
    }
}

/// Everything the run header shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunHeader {
    /// The recipe's name.
    pub recipe: String,
    pub host: Option<String>,
    pub head_ref: Option<String>,
    /// `REF`, `checkout HEAD` or `unknown`.
    pub head_ref_source: String,
    pub previous_release: Option<String>,
    pub domain: String,
    pub stack: String,
    /// The customization manifest, one line per surface.
    pub customization: Vec<String>,
    /// What install deploys before the upgrade and why (none when upgrade is not selected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_base: Option<super::UpgradeBase>,
}

/// A leftover of a dead run, removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JanitorRemoval {
    pub kind: String,
    pub name: String,
    pub stack: String,
    pub run_id: Option<String>,
    pub reason: String,
}

/// A tier begins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierStart {
    pub tier: Tier,
    /// The op's name (`deploy`, `upgrade`, `backup`, `restore`, `none`, `skipped`, `script`).
    pub op: String,
    /// `run` or `skipped: <why>`.
    pub generic: String,
    pub overlay_files: usize,
    /// The ids of the tier's planned assertions, in plan order.
    pub tests: Vec<String>,
    /// Assertions the filters deselected.
    pub deselected: usize,
}

/// Seeding steps of one file ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedFinish {
    pub tier: Tier,
    pub file: String,
    /// Why they failed; their assertions then fail with it.
    pub error: Option<String>,
}

/// What a wait is waiting for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// What waits: `deploy op`, `converging`.
    pub label: String,
    /// The latest state, e.g. `app 1/1 healthy`.
    pub state: String,
}

/// A deployer's own action, recorded as the ledger event `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployerNote {
    pub kind: String,
    pub subject: String,
    pub outcome: String,
    pub data: serde_json::Value,
    /// The line shown to the person watching, when the note deserves one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// How an op ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpOutcome {
    Ok,
    Failed {
        error: String,
    },
    /// An overlay replaced the op with nothing, saying why.
    Skipped {
        reason: String,
    },
    /// The op cannot be done here (e.g. abra found no backup bot on the server): the tier is
    /// unsupported — not failed, never passed — and its assertions do not run.
    Unsupported {
        reason: String,
    },
}

/// A tier's op ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpFinish {
    pub tier: Tier,
    pub op: String,
    pub outcome: OpOutcome,
    pub duration_ms: u64,
    pub deployer: String,
    /// Fresh deploys the deployer counted so far (guarantee 1).
    pub deploy_count: Option<u32>,
}

/// A tier's trials start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialsStart {
    pub tier: Tier,
    pub count: usize,
    /// How many run at once.
    pub threads: usize,
    /// Assertions of the tier the filters deselected.
    pub filtered_out: usize,
}

/// A tier's trials are done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialsFinish {
    pub tier: Tier,
    pub duration_ms: u64,
}

/// One assertion's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialFinish {
    pub tier: Tier,
    pub test: TestResult,
}

/// Why a tier did not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SkipReason {
    /// Should have run and did not (an earlier op failed, `-x`).
    NotRun { reason: String },
    /// Does not apply: declared in recipe.yaml, or structurally impossible.
    NotApplicable { reason: String, declared: bool },
}

/// A tier that will not run, with each of its tests' verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierSkip {
    pub tier: Tier,
    pub why: SkipReason,
    pub generic: String,
    pub overlay_files: usize,
    /// Each planned test, as not run.
    pub tests: Vec<TestResult>,
}

/// Teardown's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeardownFinish {
    pub stack: String,
    pub result: TeardownResult,
    /// Set when teardown followed a signal.
    pub signal: Option<String>,
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEnd {
    pub class: ExitClass,
    pub exit_code: u8,
    /// Why the run could not go ahead or finish (an error before or outside the tiers).
    pub reason: Option<String>,
    pub duration_ms: u64,
    /// Where the reports are written.
    pub artifacts: Artifacts,
    /// A registered secret value reached an event, and so the output.
    pub secrets_printed: bool,
    /// The ledger's head (`SEQ:HASH`) as the run ended, before the `run_end` event that records it;
    /// `cc-ci ledger verify --checkpoint` checks it later. `None` when the ledger could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger_checkpoint: Option<String>,
    /// Why a run that went ahead is an infrastructure failure (exit 3), e.g. the engine stopped
    /// answering and did not come back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure: Option<String>,
}

impl RunEnd {
    /// A run that stopped before its tiers, for `reason`.
    pub fn stopped(class: ExitClass, reason: Option<String>) -> RunEnd {
        RunEnd {
            class,
            exit_code: class.code(),
            reason,
            duration_ms: 0,
            artifacts: Artifacts::default(),
            secrets_printed: false,
            ledger_checkpoint: None,
            infrastructure: None,
        }
    }
}

/// Consumes the run's events. Called in emission order, one event at a time.
pub trait Subscriber: Send {
    fn event(&mut self, ev: &RunEvent);
}

/// A subscriber that keeps every event (tests, `events.jsonl`).
#[derive(Debug, Default, Clone)]
pub struct Collector {
    pub events: Vec<RunEvent>,
}

impl Subscriber for Collector {
    fn event(&mut self, ev: &RunEvent) {
        self.events.push(ev.clone());
    }
}

/// The word of a test outcome as the ledger and results.json's `kind` write it.
pub fn outcome_word(o: &Outcome) -> &'static str {
    match o {
        Outcome::Passed => "passed",
        Outcome::Failed { .. } => "failed",
        Outcome::Ignored { .. } => "ignored",
        Outcome::NotRun { .. } => "not_run",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_round_trips_through_its_json_form() {
        let ev = RunEvent {
            timestamp: OffsetDateTime::UNIX_EPOCH,
            elapsed_ms: 12,
            kind: EventKind::OpFinished(OpFinish {
                tier: Tier::Upgrade,
                op: "upgrade".into(),
                outcome: OpOutcome::Failed {
                    error: "rolled back".into(),
                },
                duration_ms: 900,
                deployer: "stack".into(),
                deploy_count: Some(1),
            }),
        };
        let json = serde_json::to_string(&ev).unwrap();
        assert!(json.contains("\"event\":\"op_finished\""), "{json}");
        assert!(json.contains("\"tier\":\"upgrade\""), "{json}");
        assert_eq!(serde_json::from_str::<RunEvent>(&json).unwrap(), ev);
    }
}
