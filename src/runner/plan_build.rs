//! Building the plan from its input: which tiers are needed, each tier's op (once, or its override),
//! its seeds and its tests after selection, and why a tier will not run. Pure: it reads the input
//! only, never the file system or the engine.

use std::collections::BTreeMap;

use crate::spec::{OpOverride, SpecFile, Tier};

use super::config::Selection;
use super::plan::{
    GenericTests, NotApplicable, OpPlan, OverlaySpec, Plan, PlanError, PlanInput, PlannedTest,
    SeedPlan, Source, TestBody, TierPlan, INSTALL_STEPS,
};
use super::select;

/// Builds the plan. Errors are plan conflicts a person must fix (e.g. two overlays replacing one op).
pub fn build(input: &PlanInput) -> Result<Plan, PlanError> {
    let mut tiers = Vec::new();
    let mut left_out = Vec::new();
    let has_custom = input.generic.iter().any(|s| s.tier == Tier::Custom)
        || input.overlays.iter().any(|o| o.spec.tier == Tier::Custom)
        || input.pytest.iter().any(|n| n.tier == Tier::Custom);
    for &tier in Tier::ALL.iter() {
        if !needed(tier, input) {
            if tier != Tier::Custom || has_custom {
                let stages: Vec<String> = input.stages.iter().map(|t| t.to_string()).collect();
                left_out.push((tier, format!("not selected (STAGES={})", stages.join(","))));
            }
            continue;
        }
        let tp = tier_plan(tier, input)?;
        // The custom tier shows only when it has something to say.
        let silent = tp.tests.is_empty() && tp.deselected == 0 && tp.not_applicable.is_none();
        if tier == Tier::Custom && silent {
            continue;
        }
        tiers.push(tp);
    }
    Ok(Plan { tiers, left_out })
}

/// Whether `tier` is in the plan: install always (every run deploys once), backup when restore needs
/// it, the others when selected.
fn needed(tier: Tier, input: &PlanInput) -> bool {
    let selected = input.stages.contains(&tier);
    match tier {
        Tier::Install => true,
        Tier::Backup => selected || input.stages.contains(&Tier::Restore),
        _ => selected,
    }
}

fn tier_plan(tier: Tier, input: &PlanInput) -> Result<TierPlan, PlanError> {
    let selected = input.stages.contains(&tier);
    let overlays: Vec<&OverlaySpec> = input
        .overlays
        .iter()
        .filter(|o| o.spec.tier == tier)
        .collect();
    let (op, op_env, op_repo_local) = op_of(tier, input, &overlays)?;
    let generic = if let Some(why) = &input.skip_generic {
        GenericTests::Skipped(why.clone())
    } else if input.meta.skip_generic.contains(&tier) {
        GenericTests::Skipped("recipe.yaml opts this tier out of the generic tests".to_string())
    } else {
        GenericTests::Run
    };
    let mut tp = TierPlan {
        tier,
        selected,
        not_applicable: not_applicable(tier, input),
        op,
        op_env,
        op_repo_local,
        seeds: Vec::new(),
        tests: Vec::new(),
        generic,
        overlay_files: overlays.len(),
        deselected: 0,
    };
    if tp.not_applicable.is_none() {
        tp.seeds = seeds(tier, input, &overlays);
        if selected {
            add_tests(&mut tp, input, &overlays);
        }
    }
    Ok(tp)
}

/// The tier's op: the harness's own, or an overlay's replacement (at most one per tier, never for
/// install), with the extra env an overlay gives the install or upgrade deploy, and whether that
/// came from a repo-local file.
fn op_of(
    tier: Tier,
    input: &PlanInput,
    overlays: &[&OverlaySpec],
) -> Result<(OpPlan, BTreeMap<String, String>, bool), PlanError> {
    let mut op = match tier {
        Tier::Install => OpPlan::Install {
            base: match (&input.upgrade_base, input.stages.contains(&Tier::Upgrade)) {
                (Ok(b), true) => Some(b.clone()),
                _ => None,
            },
        },
        Tier::Upgrade => OpPlan::Upgrade,
        Tier::Backup => OpPlan::Backup,
        Tier::Restore => OpPlan::Restore,
        Tier::Custom => OpPlan::None,
    };
    let mut replaced_by: Option<String> = None;
    let mut op_env = BTreeMap::new();
    let mut repo_local = false;
    for overlay in overlays {
        let spec = &overlay.spec;
        let Some(o) = &spec.op else { continue };
        repo_local = overlay.repo_local;
        let file = spec.path.display().to_string();
        if let Some(first) = replaced_by.replace(file.clone()) {
            return Err(PlanError::TwoOverrides {
                tier,
                first,
                second: file,
            });
        }
        match o {
            OpOverride::Skip { .. } | OpOverride::Script { .. } if tier == Tier::Install => {
                return Err(PlanError::InstallReplaced { file });
            }
            OpOverride::Skip { reason } => {
                op = OpPlan::Skipped {
                    reason: reason.clone(),
                }
            }
            OpOverride::Script { steps } => {
                op = OpPlan::Script {
                    steps: steps.clone(),
                }
            }
            OpOverride::Env { env } if matches!(tier, Tier::Install | Tier::Upgrade) => {
                op_env = env.clone();
            }
            OpOverride::Env { .. } => return Err(PlanError::EnvOnOp { file, tier }),
        }
    }
    Ok((op, op_env, repo_local))
}

/// Seeding before the op: the recipe's install_steps.sh (install, trust-gated), then each overlay's
/// `before_op` steps.
fn seeds(tier: Tier, input: &PlanInput, overlays: &[&OverlaySpec]) -> Vec<SeedPlan> {
    let mut seeds = Vec::new();
    if let (Tier::Install, Some(script)) = (tier, &input.install_steps) {
        seeds.push(SeedPlan {
            file: INSTALL_STEPS.to_string(),
            steps: Vec::new(),
            script: Some(script.clone()),
            repo_local: true,
        });
    }
    for o in overlays {
        if !o.spec.before_op.is_empty() {
            seeds.push(SeedPlan {
                file: o.spec.path.display().to_string(),
                steps: o.spec.before_op.clone(),
                script: None,
                repo_local: o.repo_local,
            });
        }
    }
    seeds
}

/// The tier's assertions the selection keeps: generic (unless skipped), overlay and repo-local, pytest.
fn add_tests(tp: &mut TierPlan, input: &PlanInput, overlays: &[&OverlaySpec]) {
    let tier = tp.tier;
    if tp.generic == GenericTests::Run {
        for spec in input.generic.iter().filter(|s| s.tier == tier) {
            add_spec_tests(tp, spec, Source::Generic, None, input.selection);
        }
    }
    for o in overlays {
        let own = o.spec.path.display().to_string();
        let seed = tp.seeds.iter().position(|s| s.file == own).or_else(|| {
            // Repo-local tests depend on the recipe's own install steps.
            o.repo_local
                .then(|| tp.seeds.iter().position(|s| s.file == INSTALL_STEPS))
                .flatten()
        });
        let source = if o.repo_local {
            Source::RepoLocal
        } else {
            Source::Overlay
        };
        add_spec_tests(tp, &o.spec, source, seed, input.selection);
    }
    for node in input.pytest.iter().filter(|n| n.tier == tier) {
        let id = format!("{tier}::{}::{}", node.display_file, node.node);
        let source = if node.repo_local {
            Source::RepoLocal
        } else {
            Source::Pytest
        };
        let candidate = select::Candidate {
            id: &id,
            tier,
            file: &node.display_file,
            name: &node.node,
            kind: source.mark(),
            tags: &node.markers,
            ignored: false,
        };
        if !selected(tp, input.selection, &candidate) {
            continue;
        }
        tp.tests.push(PlannedTest {
            id,
            tier,
            name: node.node.clone(),
            file: node.display_file.clone(),
            source,
            body: TestBody::Pytest {
                file: node.file.clone(),
                node: node.node.clone(),
                error: node.error.clone(),
            },
            ignored: None,
            seed: None,
        });
    }
}

fn add_spec_tests(
    tp: &mut TierPlan,
    spec: &SpecFile,
    source: Source,
    seed: Option<usize>,
    sel: &Selection,
) {
    let file = spec.path.display().to_string();
    for t in &spec.tests {
        let id = format!("{}::{file}::{}", tp.tier, t.name);
        let candidate = select::Candidate {
            id: &id,
            tier: tp.tier,
            file: &file,
            name: &t.name,
            kind: source.mark(),
            tags: &t.tags,
            ignored: t.ignore.is_some(),
        };
        if !selected(tp, sel, &candidate) {
            continue;
        }
        tp.tests.push(PlannedTest {
            id,
            tier: tp.tier,
            name: t.name.clone(),
            file: file.clone(),
            source,
            body: TestBody::Check(t.check.clone()),
            ignored: t.ignore.clone(),
            seed,
        });
    }
}

/// Whether the selection runs `candidate`; one it deselected is counted on the tier.
fn selected(tp: &mut TierPlan, sel: &Selection, candidate: &select::Candidate) -> bool {
    match select::pick(sel, candidate) {
        select::Pick::Run => true,
        select::Pick::Deselected => {
            tp.deselected += 1;
            false
        }
        select::Pick::NotCollected => false,
    }
}

fn not_applicable(tier: Tier, input: &PlanInput) -> Option<NotApplicable> {
    // The upgrade base (not only a release) decides whether upgrade can run: `true` here, then its reason.
    if let Some((reason, declared)) =
        crate::preflight::tier_unavailable(tier, input.meta, true, input.backup_capable)
    {
        return Some(NotApplicable { reason, declared });
    }
    match (tier, &input.upgrade_base) {
        (Tier::Upgrade, Err(why)) => Some(NotApplicable {
            reason: why.clone(),
            declared: false,
        }),
        _ => None,
    }
}
