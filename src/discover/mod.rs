//! Discovery: finds generic tier tests, overlays and repo-local files, and applies the trust gate
//! (allowlist or grant, default deny). It reads files; it never deploys or runs them.
//!
//! Main entry: [`discover`] → [`Discovery`]. Layout it reads:
//! `<project>/generic-tests/*.yaml`, `<project>/overlays/<recipe>/{recipe.yaml,*.yaml,test_*.py}`, and
//! from the recipe checkout (only when the gate allows) `.cc-ci/*.yaml`, `.cc-ci/test_*.py`,
//! `test_*.py` at the root, and `install_steps.sh` (root or `.cc-ci/`).

mod gate;
mod keyword;
mod pytest;
mod walk;

#[cfg(test)]
mod gate_tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::spec::{
    lint_set, parse_meta_all, RecipeMeta, SpecError, SpecErrorKind, SpecFile, Tier, Warning,
};

pub use gate::{
    decide, parse_allowlist, AllowEntry, GateDecision, GateVia, GrantAnswer, GrantLookupError,
    Granted,
};
pub use keyword::{Keyword, KeywordError, MarkExpr};
pub use pytest::{tier_of as pytest_tier, PytestFile};
pub use walk::{
    file_error, is_yaml, list, read_text, validate_recipe_name, validate_relative, Listing,
    MAX_SPEC_BYTES,
};

/// What to discover.
#[derive(Debug, Clone, Copy)]
pub struct DiscoverRequest<'a> {
    /// Holds `generic-tests/` and `overlays/`.
    pub project_root: &'a Path,
    pub recipe: &'a str,
    /// The recipe checkout, for repo-local files.
    pub checkout: Option<&'a Path>,
    /// The resolved allowlist file.
    pub allowlist: &'a Path,
    pub pr: Option<u64>,
}

/// Repo-local files, filled only when the gate allowed them.
#[derive(Debug, Clone, Default)]
pub struct RepoLocal {
    pub specs: Vec<SpecFile>,
    pub pytest: Vec<PytestFile>,
    pub install_steps: Option<PathBuf>,
}

/// Everything found for one recipe. `errors` non-empty means the run must stop before deploying.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub meta: RecipeMeta,
    pub meta_path: Option<PathBuf>,
    /// Generic specs, sorted by tier then path.
    pub generic: Vec<SpecFile>,
    /// The recipe's overlays, sorted by tier then path.
    pub overlays: Vec<SpecFile>,
    pub pytest: Vec<PytestFile>,
    pub repo_local: RepoLocal,
    pub gate: GateDecision,
    pub errors: Vec<SpecError>,
    /// Lint warnings over every spec found (printed; never fail a run).
    pub warnings: Vec<Warning>,
}

impl Discovery {
    /// Every spec (generic, overlays, allowed repo-local) in tier order.
    pub fn all_specs(&self) -> Vec<&SpecFile> {
        let mut v: Vec<&SpecFile> = self
            .generic
            .iter()
            .chain(&self.overlays)
            .chain(&self.repo_local.specs)
            .collect();
        v.sort_by(|a, b| (a.tier, &a.path).cmp(&(b.tier, &b.path)));
        v
    }
}

fn sort(specs: &mut [SpecFile]) {
    specs.sort_by(|a, b| (a.tier, &a.path).cmp(&(b.tier, &b.path)));
}

/// Repo-local files present in a checkout (absolute paths), whatever the gate will say. A symlink
/// counts only when it leads to a regular file inside the checkout.
pub fn repo_local_files(checkout: &Path) -> Vec<PathBuf> {
    let dot = checkout.join(".cc-ci");
    let names = |dir: &Path, keep: &dyn Fn(&str) -> bool| -> Vec<PathBuf> {
        walk::list(dir, checkout, keep)
            .files
            .into_iter()
            .map(|(n, _)| dir.join(n))
            .collect()
    };
    let mut out = names(&dot, &|n| {
        walk::is_yaml(n)
            || (n.starts_with("test_") && n.ends_with(".py"))
            || n == "install_steps.sh"
    });
    out.extend(names(checkout, &|n| {
        (n.starts_with("test_") && n.ends_with(".py")) || n == "install_steps.sh"
    }));
    out.sort();
    out
}

/// Reads `recipe.yaml` (or `recipe.yml`) of an overlay folder into `d.meta`.
fn read_meta(dir: &Path, root: &Path, rel: &Path, d: &mut Discovery, errors: &mut Vec<SpecError>) {
    let listing = walk::list(dir, root, |n| n == "recipe.yaml" || n == "recipe.yml");
    errors.extend(listing.errors(rel));
    if let Some((name, real)) = listing.files.first() {
        let display = rel.join(name);
        match walk::read_text(real, &display).map(|t| parse_meta_all(&display, &t)) {
            Ok(Ok(m)) => d.meta = m,
            Ok(Err(es)) => errors.extend(es),
            Err(e) => errors.push(e),
        }
        d.meta_path = Some(display);
    }
}

/// Finds and parses everything for `req.recipe`. `grant` is asked for the `repo-local` gate only
/// when repo-local files exist and the allowlist does not allow them.
pub fn discover(req: &DiscoverRequest, grant: &mut dyn FnMut() -> GrantAnswer) -> Discovery {
    let mut errors = Vec::new();
    let mut d = Discovery {
        meta: RecipeMeta::default(),
        meta_path: None,
        generic: Vec::new(),
        overlays: Vec::new(),
        pytest: Vec::new(),
        repo_local: RepoLocal::default(),
        gate: GateDecision {
            allowed: false,
            via: GateVia::NotNeeded,
            reason: String::new(),
            files: Vec::new(),
        },
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    if let Err(e) = walk::validate_recipe_name(req.recipe) {
        d.gate.via = GateVia::Denied;
        d.gate.reason = format!("invalid recipe name; nothing was consulted: {e}");
        d.errors.push(walk::file_error(Path::new(req.recipe), e));
        return d;
    }
    let root = req.project_root;
    walk::read_specs(
        &root.join("generic-tests"),
        root,
        Path::new("generic-tests"),
        &mut d.generic,
        &mut errors,
    );
    let rel = Path::new("overlays").join(req.recipe);
    let dir = root.join(&rel);
    read_meta(&dir, root, &rel, &mut d, &mut errors);
    walk::read_specs(&dir, root, &rel, &mut d.overlays, &mut errors);
    d.pytest = pytest::find(&dir, root, &rel, &mut errors);

    let files = req.checkout.map(repo_local_files).unwrap_or_default();
    let (gate, gate_errors) = if req.checkout.is_none() {
        let g = GateDecision {
            allowed: false,
            via: GateVia::NotNeeded,
            reason: "no recipe checkout; no repo-local files".into(),
            files,
        };
        (g, Vec::new())
    } else {
        decide(req.recipe, req.pr, req.allowlist, files, grant)
    };
    errors.extend(gate_errors);
    if let (true, Some(checkout)) = (gate.allowed, req.checkout) {
        let dot = checkout.join(".cc-ci");
        let shown = Path::new("repo-local/.cc-ci");
        walk::read_specs(&dot, checkout, shown, &mut d.repo_local.specs, &mut errors);
        d.repo_local.pytest = pytest::find(&dot, checkout, shown, &mut errors);
        d.repo_local.pytest.extend(pytest::find(
            checkout,
            checkout,
            Path::new("repo-local"),
            &mut errors,
        ));
        d.repo_local.install_steps = [
            checkout.join(".cc-ci/install_steps.sh"),
            checkout.join("install_steps.sh"),
        ]
        .into_iter()
        .find(|p| gate.files.contains(p));
    }
    d.gate = gate;
    sort(&mut d.generic);
    sort(&mut d.overlays);
    sort(&mut d.repo_local.specs);
    errors.extend(check_set(
        d.overlays.iter().chain(&d.repo_local.specs),
        false,
    ));
    errors.extend(check_set(d.generic.iter(), true));
    d.errors = errors;
    let all: Vec<SpecFile> = d.all_specs().into_iter().cloned().collect();
    d.warnings = lint_set(&all, &d.meta);
    d
}

/// Rules over a set of files that no single file can check: at most one file per tier replaces the
/// op, and generic files (`generic` true) neither seed nor replace ops.
pub fn check_set<'a>(
    specs: impl Iterator<Item = &'a SpecFile> + Clone,
    generic: bool,
) -> Vec<SpecError> {
    let mut out = op_conflicts(specs.clone());
    if generic {
        out.extend(generic_ops(specs));
    }
    out
}

/// At most one file per tier may replace the tier's op (the op runs once).
fn op_conflicts<'a>(specs: impl Iterator<Item = &'a SpecFile>) -> Vec<SpecError> {
    let mut first: BTreeMap<Tier, &Path> = BTreeMap::new();
    let mut out = Vec::new();
    for s in specs.filter(|s| s.op.is_some()) {
        match first.get(&s.tier) {
            Some(p) => out.push(SpecError {
                file: s.path.clone(),
                line: 1,
                column: 1,
                key: Some("op".into()),
                kind: Box::new(SpecErrorKind::InvalidValue {
                    context: "spec file".into(),
                    message: format!("{} already replaces the {} op; the op runs once, so only one file may replace it", p.display(), s.tier),
                    hint: Some("keep one `op:` and move the other file's tests beside it".into()),
                }),
            }),
            None => {
                first.insert(s.tier, &s.path);
            }
        }
    }
    out
}

/// Generic tests assert the floor; they never replace an op or seed.
fn generic_ops<'a>(specs: impl Iterator<Item = &'a SpecFile>) -> Vec<SpecError> {
    specs
        .filter(|s| s.op.is_some() || !s.before_op.is_empty())
        .map(|s| walk::file_error(&s.path, "generic tests may not have `op` or `before_op` (those belong in a recipe's overlay)".into()))
        .collect()
}
