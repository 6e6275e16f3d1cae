//! The level ladder: what a finished run proves about a recipe, as one number.
//!
//! L1 install · L2 upgrade · L3 backup/restore · L4 functional · L5 lint. Each rung is pass, fail,
//! skip (intentional: declared not applicable in recipe.yaml, or structurally impossible), unsupported
//! (backup or restore cannot be tested for this recipe or on this server — no `backupbot.backup` label,
//! no backup bot — and recipe.yaml does not declare it) or unverified (should have run and did not). The
//! level is the highest passing rung with every rung below it passing or intentionally skipped; a fail,
//! unsupported or unverified rung stops the climb. This module only reads verdicts:
//! it never changes one, and no renderer may change the level it computes.

use serde::{Deserialize, Serialize};

use super::model::{Outcome, RunResult, TierResult, TierStatus};

/// The rungs, bottom to top (index + 1 is the rung's level).
pub const RUNGS: [&str; 5] = ["install", "upgrade", "backup/restore", "functional", "lint"];

/// The computed ladder of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ladder {
    pub level: u8,
    pub rungs: Vec<Rung>,
    /// Which rung stopped the climb, and why (none when every rung passed or was skipped).
    pub cap_reason: Option<String>,
    /// Coverage gaps and stale skips: things a maintainer should look at; they never change the level.
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rung {
    /// 1..=5.
    pub level: u8,
    pub name: String,
    pub status: RungStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RungStatus {
    Pass,
    Fail {
        reason: String,
    },
    /// Intentional: declared not applicable, or structurally impossible.
    Skip {
        reason: String,
    },
    /// Cannot be tested here and not declared so: never passed, and the climb stops below it.
    Unsupported {
        reason: String,
    },
    /// Should have run and did not.
    Unverified {
        reason: String,
    },
}

impl RungStatus {
    pub fn word(&self) -> &'static str {
        match self {
            RungStatus::Pass => "pass",
            RungStatus::Fail { .. } => "fail",
            RungStatus::Skip { .. } => "skip",
            RungStatus::Unsupported { .. } => "unsupported",
            RungStatus::Unverified { .. } => "unverified",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            RungStatus::Pass => None,
            RungStatus::Fail { reason }
            | RungStatus::Skip { reason }
            | RungStatus::Unsupported { reason }
            | RungStatus::Unverified { reason } => Some(reason),
        }
    }
}

impl Ladder {
    /// `L3 backup/restore`, or `L0` when not even install passed.
    pub fn title(&self) -> String {
        match self.level {
            0 => "L0".to_string(),
            n => format!("L{n} {}", RUNGS[usize::from(n) - 1]),
        }
    }
}

/// Computes the ladder of a run from its verdicts.
pub fn compute(r: &RunResult) -> Ladder {
    let mut flags = Vec::new();
    let install = tier_rung(r, "install", false, &mut flags);
    let install = match install {
        RungStatus::Skip { reason } => RungStatus::Unverified {
            reason: format!("install cannot be skipped ({reason})"),
        },
        s => s,
    };
    let upgrade = tier_rung(r, "upgrade", false, &mut flags);
    let backup = tier_rung(r, "backup", true, &mut flags);
    let restore = tier_rung(r, "restore", true, &mut flags);
    let backup_restore = combine(&[("backup", backup), ("restore", restore)]);
    let functional = functional_rung(r, &mut flags);
    let lint = match &r.lint {
        None => RungStatus::Unverified {
            reason: "lint did not run".to_string(),
        },
        Some(l) if l.not_run.is_some() => RungStatus::Unverified {
            reason: format!(
                "{} could not run: {}",
                l.tool,
                first_line(l.not_run.as_deref().unwrap_or(""))
            ),
        },
        Some(l) if l.passed => RungStatus::Pass,
        Some(l) => RungStatus::Fail {
            reason: match l.messages.first() {
                Some(m) => format!("{} failed: {m}", l.tool),
                None => format!("{} failed", l.tool),
            },
        },
    };
    let mut statuses = [install, upgrade, backup_restore, functional, lint];

    // Guarantee 1: a run is one fresh deploy. Any other count voids every proof above install.
    if r.deploy_count != 1 {
        let why = format!("deploy-count = {} (expect 1)", r.deploy_count);
        flags.push(why.clone());
        if r.deploy_count == 0 && statuses[0] == RungStatus::Pass {
            statuses[0] = RungStatus::Unverified {
                reason: why.clone(),
            };
        }
        for s in statuses.iter_mut().skip(1).take(3) {
            if *s == RungStatus::Pass {
                *s = RungStatus::Unverified {
                    reason: why.clone(),
                };
            }
        }
    }

    let mut level = 0u8;
    let mut cap_reason = None;
    for (i, s) in statuses.iter().enumerate() {
        let n = i as u8 + 1;
        if n == 2 && r.deploy_count != 1 {
            cap_reason = Some(format!(
                "deploy-count = {} (expect 1): the run was not one fresh deploy, so nothing above install is proven",
                r.deploy_count
            ));
            break;
        }
        match s {
            RungStatus::Pass => level = n,
            RungStatus::Skip { .. } => {}
            RungStatus::Fail { reason }
            | RungStatus::Unsupported { reason }
            | RungStatus::Unverified { reason } => {
                cap_reason = Some(format!("L{n} {} {}: {reason}", RUNGS[i], s.word()));
                break;
            }
        }
    }
    let rungs = statuses
        .into_iter()
        .enumerate()
        .map(|(i, status)| Rung {
            level: i as u8 + 1,
            name: RUNGS[i].to_string(),
            status,
        })
        .collect();
    Ladder {
        level,
        rungs,
        cap_reason,
        flags,
    }
}

/// The rung status a tier's verdicts support. A failed op or assertion is a fail whatever the tier's
/// status says; a passed tier needs at least one passing assertion and none left unrun.
fn tier_rung(r: &RunResult, name: &str, matters: bool, flags: &mut Vec<String>) -> RungStatus {
    let Some(t) = r.tier(name) else {
        let reason = if !r.stages.is_empty() && !r.stages.iter().any(|s| s == name) {
            format!("{name} not selected (STAGES={})", r.stages.join(","))
        } else {
            format!("{name} has no result")
        };
        return RungStatus::Unverified { reason };
    };
    if let Some(reason) = failure(t) {
        if let TierStatus::NotApplicable { declared: true, .. } = t.status {
            flags.push(stale(t));
        }
        return RungStatus::Fail { reason };
    }
    match &t.status {
        TierStatus::Failed => RungStatus::Fail {
            reason: format!("{name} failed"),
        },
        TierStatus::NotRun { reason } => RungStatus::Unverified {
            reason: format!("{name} not run: {reason}"),
        },
        TierStatus::Passed => passed_tier(t),
        TierStatus::NotApplicable { reason, declared } => {
            if ran(t) {
                if *declared {
                    flags.push(stale(t));
                }
                return passed_tier(t);
            }
            if *declared {
                RungStatus::Skip {
                    reason: format!("{name} declared not applicable: {reason}"),
                }
            } else if matters {
                // Backup and restore that cannot run here are not proven: an honest skip needs a
                // declaration in recipe.yaml.
                RungStatus::Unsupported {
                    reason: format!("{name} unsupported: {reason}"),
                }
            } else {
                RungStatus::Skip {
                    reason: format!("{name} not applicable: {reason}"),
                }
            }
        }
    }
}

fn passed_tier(t: &TierResult) -> RungStatus {
    let c = t.counts();
    if c.not_run > 0 {
        let why = t
            .tests
            .iter()
            .find_map(|x| match &x.outcome {
                Outcome::NotRun { reason } => Some(reason.as_str()),
                _ => None,
            })
            .unwrap_or("");
        return RungStatus::Unverified {
            reason: format!("{}: {} assertion(s) not run ({why})", t.tier, c.not_run),
        };
    }
    if c.passed == 0 {
        return RungStatus::Unverified {
            reason: format!("{}: no assertion ran", t.tier),
        };
    }
    RungStatus::Pass
}

/// The reason a tier failed, from its op or its first failed assertion.
fn failure(t: &TierResult) -> Option<String> {
    if let Some(op) = t.op.as_ref().filter(|o| !o.ok) {
        return Some(match &op.error {
            Some(e) => format!("{} op {} failed: {}", t.tier, op.name, first_line(e)),
            None => format!("{} op {} failed", t.tier, op.name),
        });
    }
    t.tests.iter().find_map(|x| match &x.outcome {
        Outcome::Failed { message } => Some(format!("{} failed: {}", x.id, first_line(message))),
        _ => None,
    })
}

/// Reasons are one line: the full message stays with the assertion.
fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// True when the tier's op ran or an assertion passed or failed.
fn ran(t: &TierResult) -> bool {
    t.op.is_some()
        || t.tests
            .iter()
            .any(|x| matches!(x.outcome, Outcome::Passed | Outcome::Failed { .. }))
}

fn stale(t: &TierResult) -> String {
    let reason = match &t.status {
        TierStatus::NotApplicable { reason, .. } => reason.as_str(),
        _ => "",
    };
    format!(
        "stale skip: {} is declared not applicable in recipe.yaml ({reason}) but it ran (hint: remove the declaration)",
        t.tier
    )
}

/// Combines the statuses of tiers that make one rung: any fail fails it, then any unverified leaves it
/// unverified, then any unsupported leaves it unsupported; it passes when every part passed, and is
/// skipped otherwise.
fn combine(parts: &[(&str, RungStatus)]) -> RungStatus {
    let find = |pred: fn(&RungStatus) -> bool| parts.iter().find(|(_, s)| pred(s)).map(|(_, s)| s);
    if let Some(s) = find(|s| matches!(s, RungStatus::Fail { .. })) {
        return s.clone();
    }
    if let Some(s) = find(|s| matches!(s, RungStatus::Unverified { .. })) {
        return s.clone();
    }
    if let Some(s) = find(|s| matches!(s, RungStatus::Unsupported { .. })) {
        return s.clone();
    }
    if parts.iter().all(|(_, s)| *s == RungStatus::Pass) {
        return RungStatus::Pass;
    }
    let reasons: Vec<&str> = parts.iter().filter_map(|(_, s)| s.reason()).collect();
    RungStatus::Skip {
        reason: reasons.join("; "),
    }
}

/// L4: the recipe's own assertions (overlay, pytest, repo-local), in whatever tier they ran.
fn functional_rung(r: &RunResult, flags: &mut Vec<String>) -> RungStatus {
    let specific: Vec<_> = r
        .tests()
        .filter(|t| t.source.is_recipe_specific())
        .collect();
    if let Some(t) = specific
        .iter()
        .find(|t| matches!(t.outcome, Outcome::Failed { .. }))
    {
        return RungStatus::Fail {
            reason: format!(
                "{} failed: {}",
                t.id,
                first_line(t.outcome.detail().unwrap_or(""))
            ),
        };
    }
    let custom = r.tier("custom");
    if let Some(c) = custom {
        if let Some(reason) = failure(c) {
            return RungStatus::Fail { reason };
        }
        if let TierStatus::NotRun { reason } = &c.status {
            return RungStatus::Unverified {
                reason: format!("custom not run: {reason}"),
            };
        }
    }
    if let Some(t) = specific
        .iter()
        .find(|t| matches!(t.outcome, Outcome::NotRun { .. }))
    {
        return RungStatus::Unverified {
            reason: format!("{} not run: {}", t.id, t.outcome.detail().unwrap_or("")),
        };
    }
    let passed = specific
        .iter()
        .filter(|t| t.outcome == Outcome::Passed)
        .count();
    let declared = match custom.map(|c| &c.status) {
        Some(TierStatus::NotApplicable {
            reason,
            declared: true,
        }) => Some(reason.as_str()),
        _ => None,
    };
    if passed > 0 {
        if let (Some(reason), Some(c)) = (declared, custom) {
            if ran(c) {
                flags.push(format!(
                    "stale skip: custom is declared not applicable in recipe.yaml ({reason}) but it ran (hint: remove the declaration)"
                ));
            }
        }
        return RungStatus::Pass;
    }
    if let Some(reason) = declared {
        return RungStatus::Skip {
            reason: format!("functional declared not applicable: {reason}"),
        };
    }
    if custom.is_none() && !r.stages.is_empty() && !r.stages.iter().any(|s| s == "custom") {
        return RungStatus::Unverified {
            reason: format!(
                "no recipe-specific assertion ran and custom was not selected (STAGES={})",
                r.stages.join(",")
            ),
        };
    }
    let why = match custom.map(|c| &c.status) {
        Some(TierStatus::NotApplicable { reason, .. }) => reason.clone(),
        _ if specific.is_empty() => "no recipe-specific assertions".to_string(),
        _ => "every recipe-specific assertion was ignored".to_string(),
    };
    flags.push(format!(
        "possible coverage gap: functional not applicable ({why}) without a declaration in recipe.yaml"
    ));
    RungStatus::Skip {
        reason: format!("functional not applicable: {why}"),
    }
}

#[cfg(test)]
#[path = "level_tests.rs"]
mod tests;
