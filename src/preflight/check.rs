//! `cc-ci check`: the whole preflight of one recipe source, without Docker. A local path is read where
//! it is (nothing is written into it); a URL, a catalogue name, `--ref` or `--pr` gets a private
//! checkout in a scratch directory. Then: the recipe's name, its compose files and stack, its previous
//! release, each tier with "will run" or its reason, the overlays found, the trust-gate decision
//! (a grant is only peeked at, never used) and the built-in lint.

use std::path::{Path, PathBuf};

use crate::coord::CoordPaths;
use crate::deploy::{compose::StackSpec, stack_name};
use crate::discover::{self, DiscoverRequest, Granted};
use crate::recipe::{
    prepare_checkout, Checkout, CheckoutRequest, HeadRefSource, RecipeSource, Release,
};
use crate::report::{BaseFrom, UpgradeBase};
use crate::spec::{RecipeMeta, Tier};

use super::report::{CheckReport, GateLine, TierLine};
use super::{identity, inspect, tier_unavailable, PreflightError};

/// What `cc-ci check` was asked.
pub struct CheckRequest<'a> {
    /// A recipe name, git URL or local path.
    pub source: &'a str,
    pub git_ref: Option<&'a str>,
    pub pr: Option<u64>,
    /// The app's domain (default: recipe.yaml's `domain:`, else `<recipe>.ci.local`).
    pub domain: Option<&'a str>,
    /// Holds `generic-tests/` and `overlays/`.
    pub data_dir: &'a Path,
    /// `--recipe-name`: overrides `TYPE`.
    pub recipe_name: Option<&'a str>,
    pub recipe_base_url: &'a str,
    /// The coord tree: its recipe cache for clones and its grants to peek at.
    pub coord: &'a CoordPaths,
    /// The repo-local allowlist (default `<data>/overlays/repo-local-approved.txt`).
    pub allowlist: Option<&'a Path>,
    /// A scratch directory for a checkout (removed by the caller).
    pub scratch: &'a Path,
    /// The upgrade base a run would take (the runner's rule, passed in: preflight sits below it);
    /// asked only of a git checkout. `Err` is a usage error (e.g. `--upgrade-from` names no commit).
    pub upgrade_base: &'a UpgradeBaseRule<'a>,
}

/// Chooses the upgrade base of `recipe` (its name) from its checkout, previous release and recipe.yaml.
pub type UpgradeBaseRule<'a> =
    dyn Fn(&str, &Checkout, Option<&Release>, &RecipeMeta) -> Result<UpgradeBase, String> + 'a;

/// Runs the preflight. `Err` means the source is not a recipe, does not load, or its specs are
/// invalid: a usage error (exit 4).
pub fn check(req: &CheckRequest) -> Result<(CheckReport, StackSpec), PreflightError> {
    let source = RecipeSource::parse(req.source).map_err(|e| PreflightError::NotARecipe {
        path: PathBuf::from(req.source),
        why: e.to_string(),
    })?;
    let checkout = checkout(&source, req)?;
    let id = identity(&checkout.path, &source.name(), req.recipe_name)?;
    let allowlist = req
        .allowlist
        .map(Path::to_path_buf)
        .unwrap_or_else(|| req.data_dir.join("overlays/repo-local-approved.txt"));
    let mut grant = || Ok(peek_grant(req.coord, "repo-local", &id.name, req.pr));
    let discovery = discover::discover(
        &DiscoverRequest {
            project_root: req.data_dir,
            recipe: &id.name,
            checkout: Some(&checkout.path),
            allowlist: &allowlist,
            pr: req.pr,
        },
        &mut grant,
    );
    if !discovery.errors.is_empty() {
        let list: Vec<String> = discovery.errors.iter().map(|e| e.to_string()).collect();
        return Err(PreflightError::NotARecipe {
            path: req.data_dir.join("overlays").join(&id.name),
            why: format!("{} invalid spec file(s):\n{}", list.len(), list.join("\n")),
        });
    }
    let domain = req
        .domain
        .or(discovery.meta.domain.as_deref())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}.ci.local", id.name));
    let stack = stack_name(&domain);
    let facts = inspect(&checkout.path, &stack, &domain, &discovery.meta.env_install)?;
    let git = checkout.path.join(".git").exists();
    let previous = if git {
        checkout.previous_release().ok().flatten()
    } else {
        None
    };
    let base = upgrade_base(req, &id.name, &checkout, previous.as_ref(), &discovery.meta)?;
    let has_custom = discovery.all_specs().iter().any(|s| s.tier == Tier::Custom);
    let tiers = Tier::ALL
        .iter()
        .filter_map(|&t| {
            let reason = tier_unavailable(
                t,
                &discovery.meta,
                base.as_ref().is_some_and(|b| b.commit.is_some()),
                facts.backup_capable(),
            )
            .map(|(why, declared)| match (&base, declared) {
                // No base: the base's own reason says how the choice came to none.
                (Some(b), false) if t == Tier::Upgrade && why == super::NO_RELEASE => {
                    (b.reason.clone(), false)
                }
                _ => (why, declared),
            });
            match (t, reason) {
                (Tier::Custom, None) if !has_custom => None,
                (_, Some((reason, declared))) => Some(TierLine::wont(t, reason, declared)),
                (_, None) => Some(TierLine::will(t)),
            }
        })
        .collect();
    let lint = crate::lint::lint_recipe(&checkout.path, &stack, &domain);
    let report = CheckReport {
        recipe: id.name.clone(),
        name_from: id.describe(),
        source: source.to_string(),
        checkout: checkout.path.clone(),
        head_ref: checkout.head_ref.clone(),
        git,
        domain,
        stack,
        compose_files: facts.files.clone(),
        services: facts.spec.services.keys().cloned().collect(),
        previous_release: previous.map(|r| r.tag),
        upgrade_base: base,
        tiers,
        overlays: discovery
            .meta_path
            .iter()
            .chain(discovery.overlays.iter().map(|s| &s.path))
            .map(|p| {
                p.strip_prefix(req.data_dir)
                    .unwrap_or(p)
                    .display()
                    .to_string()
            })
            .collect(),
        gate: GateLine {
            allowed: discovery.gate.allowed,
            reason: discovery.gate.reason.clone(),
            files: discovery.gate.files.len(),
        },
        warnings: facts.warnings.clone(),
        lint,
    };
    Ok((report, facts.spec))
}

/// The checkout to inspect: a local path in place (read-only), anything else privately cloned.
/// The upgrade base a run would take; `None` without git (no releases, no green run to match).
fn upgrade_base(
    req: &CheckRequest,
    recipe: &str,
    checkout: &Checkout,
    previous: Option<&Release>,
    meta: &RecipeMeta,
) -> Result<Option<UpgradeBase>, PreflightError> {
    if !checkout.path.join(".git").exists() {
        return Ok(None);
    }
    let base = (req.upgrade_base)(recipe, checkout, previous, meta).map_err(|why| {
        PreflightError::NotARecipe {
            path: checkout.path.clone(),
            why: format!("upgrade base: {why}"),
        }
    })?;
    debug_assert!(base.commit.is_some() || base.from == BaseFrom::None);
    Ok(Some(base))
}

fn checkout(source: &RecipeSource, req: &CheckRequest) -> Result<Checkout, PreflightError> {
    if let (Some(path), None, None) = (source.path(), req.pr, req.git_ref) {
        if !path.is_dir() {
            return Err(PreflightError::NotARecipe {
                path: path.to_path_buf(),
                why: "no such directory".into(),
            });
        }
        let mut c = Checkout {
            path: path.to_path_buf(),
            name: source.name(),
            head_ref: None,
            head_ref_source: HeadRefSource::Unknown,
        };
        if path.join(".git").exists() {
            c.head_ref = c.current_commit().ok();
            c.head_ref_source = HeadRefSource::Head;
        }
        return Ok(c);
    }
    prepare_checkout(&CheckoutRequest {
        source,
        base_url: req.recipe_base_url,
        cache_dir: &req.coord.base.join("cache"),
        dest: &req.scratch.join("checkout"),
        pr: req.pr,
        git_ref: req.git_ref,
    })
    .map_err(|e| PreflightError::NotARecipe {
        path: PathBuf::from(req.source),
        why: e.to_string(),
    })
}

/// Whether a valid grant for `gate` (`repo-local`, `skip-generic`) covers `recipe` (and `pr`). It only
/// reads the grants: no use is consumed and nothing is recorded.
pub fn peek_grant(paths: &CoordPaths, gate: &str, recipe: &str, pr: Option<u64>) -> Granted {
    let rows = match crate::coord::list_grants(paths) {
        Ok(r) => r,
        Err(e) => {
            return Granted {
                allowed: false,
                reason: format!("no grant could be read for a listing: {e}"),
                grant_id: None,
            }
        }
    };
    match rows.iter().find(|g| {
        g.state == "valid" && g.gate == gate && g.recipe == recipe && (g.pr.is_none() || g.pr == pr)
    }) {
        Some(g) => Granted {
            allowed: true,
            reason: format!(
                "listing: grant {} would allow (not consumed by a listing)",
                g.id
            ),
            grant_id: Some(g.id.clone()),
        },
        None => Granted {
            allowed: false,
            reason: format!("listing: no valid {gate} grant covers this recipe"),
            grant_id: None,
        },
    }
}
