//! The upgrade base: what install deploys before the upgrade tier upgrades the app to head_ref, and
//! why that. `--upgrade-from last-green` (the default) takes the newest green run of the recipe on this
//! host whose head is a proper ancestor of head_ref — what the maintainers last saw working — else the
//! previous release; `previous` takes the previous release; a REF (or recipe.yaml's `upgrade_base`,
//! when no flag is given) takes that commit. No base means no upgrade, with the reason. Decided once,
//! before anything is deployed; the choice and its reason go to the header, the summary, results.json,
//! the Markdown comment and the ledger.

use crate::coord::{CoordPaths, GreenRun};
use crate::discover::Discovery;
use crate::recipe::{Checkout, Release};
use crate::report::{BaseFrom, UpgradeBase};

use super::config::{RunConfig, UpgradeFrom};
use super::error::RunError;
use super::plan::InstallBase;

/// What to choose from.
pub struct BaseInput<'a> {
    /// `--upgrade-from`, when given.
    pub asked: Option<&'a UpgradeFrom>,
    /// recipe.yaml's `upgrade_base`, when set.
    pub recipe_yaml: Option<&'a str>,
    pub recipe: &'a str,
    pub checkout: &'a Checkout,
    pub previous_release: Option<&'a Release>,
    /// The recipe's green runs on this host, newest first (read only when last-green is wanted).
    pub green: &'a mut dyn FnMut() -> Result<Vec<GreenRun>, RunError>,
}

/// Chooses the base.
pub fn choose(input: &mut BaseInput) -> Result<UpgradeBase, RunError> {
    let head = match &input.checkout.head_ref {
        Some(h) => Some(h.clone()),
        None => input.checkout.current_commit().ok(),
    };
    let asked = match (input.asked, input.recipe_yaml) {
        (Some(a), _) => a.clone(),
        (None, Some(r)) => return explicit(input, r, "recipe.yaml upgrade_base", head.as_deref()),
        (None, None) => UpgradeFrom::LastGreen,
    };
    match asked {
        UpgradeFrom::Ref(r) => explicit(input, &r, "--upgrade-from", head.as_deref()),
        UpgradeFrom::Previous => Ok(previous(input, "--upgrade-from previous: ".into())),
        UpgradeFrom::LastGreen => last_green(input, head.as_deref()),
    }
}

/// The upgrade base, when the upgrade tier is selected (`--upgrade-from`, recipe.yaml, last green run,
/// previous release). A listing reads the ledger too, read-only.
pub fn for_run(
    cfg: &RunConfig,
    paths: &CoordPaths,
    recipe: &str,
    checkout: &Checkout,
    previous_release: &Option<Release>,
    discovery: &Discovery,
) -> Result<Option<UpgradeBase>, RunError> {
    if !cfg.stages.contains(&crate::spec::Tier::Upgrade) {
        return Ok(None);
    }
    let mut green = || crate::coord::green_runs(paths, recipe).map_err(RunError::Ledger);
    choose(&mut BaseInput {
        asked: cfg.upgrade_from.as_ref(),
        recipe_yaml: discovery.meta.upgrade_base.as_deref(),
        recipe,
        checkout,
        previous_release: previous_release.as_ref(),
        green: &mut green,
    })
    .map(Some)
}

/// The upgrade base a run of `recipe` would take now, for `cc-ci check` (which always shows it, whatever
/// the stages): the same rule as [`for_run`], the ledger read-only.
pub fn for_check(
    paths: &CoordPaths,
    asked: Option<&UpgradeFrom>,
    recipe: &str,
    checkout: &Checkout,
    previous_release: Option<&Release>,
    meta: &crate::spec::RecipeMeta,
) -> Result<UpgradeBase, RunError> {
    let mut green = || crate::coord::green_runs(paths, recipe).map_err(RunError::Ledger);
    choose(&mut BaseInput {
        asked,
        recipe_yaml: meta.upgrade_base.as_deref(),
        recipe,
        checkout,
        previous_release,
        green: &mut green,
    })
}

/// How install deploys `base`: its release tag as a release, else the commit as a chaos deploy.
pub fn install_base(base: &UpgradeBase) -> Result<InstallBase, String> {
    match (&base.commit, &base.tag) {
        (Some(_), Some(tag)) => Ok(InstallBase {
            rev: tag.clone(),
            chaos: false,
        }),
        (Some(commit), None) => Ok(InstallBase {
            rev: commit.clone(),
            chaos: true,
        }),
        (None, _) => Err(base.reason.clone()),
    }
}

fn last_green(input: &mut BaseInput, head: Option<&str>) -> Result<UpgradeBase, RunError> {
    let Some(head) = head else {
        return Ok(previous(
            input,
            "head_ref is unknown, so no green run can be matched; ".into(),
        ));
    };
    let runs = (input.green)()?;
    for (passed_over, run) in runs.iter().enumerate() {
        if input.checkout.is_proper_ancestor(&run.head_ref, head)? {
            let over = match passed_over {
                0 => String::new(),
                n => format!(" ({n} newer green run(s) passed over: head not an ancestor)"),
            };
            return Ok(UpgradeBase {
                from: BaseFrom::LastGreen,
                tag: input
                    .checkout
                    .release_at(&run.head_ref)?
                    .map(|r| r.tag),
                commit: Some(run.head_ref.clone()),
                run_id: Some(run.run_id.clone()),
                reason: format!(
                    "the newest green run of {} on this host whose head is an ancestor of head_ref{over}",
                    input.recipe
                ),
            });
        }
    }
    let why = match runs.len() {
        0 => format!("no green run of {} on this host; ", input.recipe),
        n => format!(
            "none of the {n} green run(s) of {} on this host has a head that is an ancestor of head_ref; ",
            input.recipe
        ),
    };
    Ok(previous(input, why))
}

/// The previous release, or no base; `why` says how it came to that.
fn previous(input: &BaseInput, why: String) -> UpgradeBase {
    match input.previous_release {
        Some(r) => UpgradeBase {
            from: BaseFrom::PreviousRelease,
            commit: Some(r.commit.clone()),
            tag: Some(r.tag.clone()),
            run_id: None,
            reason: format!("{why}the newest release tag that is an ancestor of head_ref"),
        },
        None => UpgradeBase {
            from: BaseFrom::None,
            commit: None,
            tag: None,
            run_id: None,
            // Worded as `cc-ci check` words it, then how the choice came to it.
            reason: format!(
                "{} ({})",
                crate::preflight::NO_RELEASE,
                why.trim_end_matches(['.', ';', ':', ' '])
            ),
        },
    }
}

/// A commit or tag asked for by `by`; it must be in the checkout.
fn explicit(
    input: &BaseInput,
    rev: &str,
    by: &str,
    head: Option<&str>,
) -> Result<UpgradeBase, RunError> {
    let commit = input
        .checkout
        .commit_of(rev)?
        .ok_or_else(|| RunError::UpgradeBase {
            by: by.to_string(),
            rev: rev.to_string(),
            why: "the recipe has no such commit or tag".into(),
        })?;
    let ancestor = match head {
        Some(h) => input.checkout.is_proper_ancestor(&commit, h)?,
        None => false,
    };
    if head == Some(commit.as_str()) {
        return Err(RunError::UpgradeBase {
            by: by.to_string(),
            rev: rev.to_string(),
            why: "it is head_ref itself: an upgrade to the same commit proves nothing".into(),
        });
    }
    let note = if ancestor {
        ""
    } else {
        " (not an ancestor of head_ref)"
    };
    Ok(UpgradeBase {
        from: BaseFrom::Ref,
        tag: input.checkout.release_at(&commit)?.map(|r| r.tag),
        commit: Some(commit),
        run_id: None,
        reason: format!("{by} {rev}{note}"),
    })
}

#[cfg(test)]
#[path = "base_tests.rs"]
mod tests;
