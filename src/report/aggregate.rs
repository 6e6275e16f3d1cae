//! Events → [`RunResult`]: the one reading of the event stream every whole-run report (terminal summary,
//! JUnit, Markdown, results.json, badges) renders from. It only records what the events say; it never
//! decides a verdict the runner did not emit.

use super::event::{
    EventKind, OpFinish, OpOutcome, RunEvent, RunHeader, SkipReason, Subscriber, TierSkip,
};
use super::model::{
    Artifacts, OpResult, RunResult, TeardownResult, TierResult, TierStatus, SCHEMA_VERSION,
};

/// Builds a [`RunResult`] from events.
#[derive(Debug, Clone)]
pub struct Aggregator {
    r: RunResult,
    /// Planned test ids of each started tier, to keep plan order whatever order trials finish in.
    order: Vec<(String, Vec<String>)>,
}

impl Default for Aggregator {
    fn default() -> Self {
        Self {
            r: empty(),
            order: Vec::new(),
        }
    }
}

/// A result with nothing in it yet.
pub fn empty() -> RunResult {
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
        ledger_checkpoint: None,
        infrastructure: None,
        upgrade_base: None,
        screenshots: Vec::new(),
        interrupted: false,
        exit_code: 0,
        artifacts: Artifacts::default(),
    }
}

impl Aggregator {
    /// The run so far.
    pub fn result(&self) -> &RunResult {
        &self.r
    }

    fn tier_mut(&mut self, tier: &str) -> Option<&mut TierResult> {
        self.r.tiers.iter_mut().rev().find(|t| t.tier == tier)
    }

    fn apply(&mut self, ev: &RunEvent) {
        let r = &mut self.r;
        match &ev.kind {
            EventKind::RunStarted(s) => {
                r.run_id = s.run_id.clone();
                r.recipe = s.source.clone();
                r.git_ref = s.git_ref.clone();
                r.pr = s.pr;
                r.stages = s.stages.iter().map(|t| t.to_string()).collect();
                r.deployer = s.deployer.clone();
                r.started_at = ev
                    .timestamp
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
            }
            EventKind::GateDecided(g) => {
                let record = super::GateRecord {
                    subject: g.gate.as_str().to_string(),
                    allowed: g.allowed,
                    reason: g.reason.clone(),
                    decision: g.word().to_string(),
                };
                // The spend at first use settles a "would allow": the record says what happened.
                match r
                    .gate
                    .iter_mut()
                    .find(|x| x.subject == record.subject && x.decision == "would allow")
                {
                    Some(x) => *x = record,
                    None => r.gate.push(record),
                }
            }
            EventKind::Linted(l) => r.lint = Some(l.clone()),
            EventKind::Planned(h) => planned(r, h),
            EventKind::TierStarted(t) => {
                r.tiers.push(TierResult {
                    tier: t.tier.to_string(),
                    status: TierStatus::Passed,
                    op: None,
                    generic: t.generic.clone(),
                    overlay_files: t.overlay_files,
                    tests: Vec::new(),
                });
                self.order.push((t.tier.to_string(), t.tests.clone()));
            }
            EventKind::OpFinished(o) => self.op_finished(o),
            EventKind::InstallObserved {
                version,
                chaos_version,
            } => {
                r.version_before = version.clone();
                r.version_after = version.clone();
                r.chaos_version = chaos_version.clone();
            }
            EventKind::UpgradeProved(p) => {
                r.chaos_version = p.chaos_version.clone();
                r.version_after = p.version_after.clone();
                r.upgrade_proof = Some(p.clone());
            }
            EventKind::Screenshot(s) => r.screenshots.push(s.clone()),
            EventKind::TrialFinished(f) => {
                if let Some(t) = self.tier_mut(f.tier.as_str()) {
                    t.tests.push(f.test.clone());
                }
            }
            EventKind::TierFinished { tier, failed } => self.tier_finished(tier.as_str(), *failed),
            EventKind::TierSkipped(s) => r.tiers.push(skipped(s)),
            EventKind::Interrupted { .. } | EventKind::SessionPanicked => r.interrupted = true,
            EventKind::TeardownFinished(t) => r.teardown = t.result.clone(),
            EventKind::RunFinished(end) => {
                r.exit_code = end.exit_code;
                r.duration_ms = end.duration_ms;
                r.artifacts = end.artifacts.clone();
                r.secrets_printed = end.secrets_printed;
                r.ledger_checkpoint = end.ledger_checkpoint.clone();
                r.infrastructure = end.infrastructure.clone();
            }
            EventKind::JanitorRemoved(_)
            | EventKind::SeedFinished(_)
            | EventKind::DeployerNote(_)
            | EventKind::StepOutput { .. }
            | EventKind::OpStarted { .. }
            | EventKind::Progress(_)
            | EventKind::TrialsStarted(_)
            | EventKind::TrialStarted { .. }
            | EventKind::TrialsFinished(_)
            | EventKind::Paused { .. }
            | EventKind::Warning { .. }
            | EventKind::RecordIncomplete(_) => {}
        }
    }

    fn op_finished(&mut self, o: &OpFinish) {
        if let Some(n) = o.deploy_count {
            self.r.deploy_count = n;
        }
        if let OpOutcome::Unsupported { reason } = &o.outcome {
            // The tier cannot run here: unsupported, with no op result that could read as a pass.
            if let Some(t) = self.tier_mut(o.tier.as_str()) {
                t.status = TierStatus::NotApplicable {
                    reason: reason.clone(),
                    declared: false,
                };
            }
            return;
        }
        let (name, ok, duration_ms, error) = match &o.outcome {
            OpOutcome::Ok => (o.op.clone(), true, o.duration_ms, None),
            OpOutcome::Failed { error } => {
                (o.op.clone(), false, o.duration_ms, Some(error.clone()))
            }
            OpOutcome::Skipped { reason } => (format!("skipped ({reason})"), true, 0, None),
            OpOutcome::Unsupported { .. } => return,
        };
        if let Some(t) = self.tier_mut(o.tier.as_str()) {
            t.op = Some(OpResult {
                name,
                ok,
                duration_ms,
                error,
            });
        }
    }

    /// The tier's status, and its tests in plan order whatever order the trials finished in.
    fn tier_finished(&mut self, tier: &str, failed: bool) {
        let order = self
            .order
            .iter()
            .rev()
            .find(|(t, _)| t == tier)
            .map(|(_, ids)| ids.clone())
            .unwrap_or_default();
        if let Some(t) = self.tier_mut(tier) {
            // An op that was unsupported already made the tier so; otherwise the verdict is here.
            if matches!(t.status, TierStatus::Passed | TierStatus::Failed) {
                t.status = if failed {
                    TierStatus::Failed
                } else {
                    TierStatus::Passed
                };
            }
            let pos = |id: &str| order.iter().position(|o| o == id).unwrap_or(usize::MAX);
            t.tests.sort_by_key(|x| pos(&x.id));
        }
    }
}

fn planned(r: &mut RunResult, h: &RunHeader) {
    r.recipe = h.recipe.clone();
    r.host = h.host.clone();
    r.head_ref = h.head_ref.clone();
    r.head_ref_source = h.head_ref_source.clone();
    r.previous_release = h.previous_release.clone();
    r.domain = h.domain.clone();
    r.stack = h.stack.clone();
    r.customization = h.customization.clone();
    r.upgrade_base = h.upgrade_base.clone();
}

fn skipped(s: &TierSkip) -> TierResult {
    TierResult {
        tier: s.tier.to_string(),
        status: match &s.why {
            SkipReason::NotRun { reason } => TierStatus::NotRun {
                reason: reason.clone(),
            },
            SkipReason::NotApplicable { reason, declared } => TierStatus::NotApplicable {
                reason: reason.clone(),
                declared: *declared,
            },
        },
        op: None,
        generic: s.generic.clone(),
        overlay_files: s.overlay_files,
        tests: s.tests.clone(),
    }
}

impl Subscriber for Aggregator {
    fn event(&mut self, ev: &RunEvent) {
        self.apply(ev);
    }
}
