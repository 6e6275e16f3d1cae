//! Everything before the first deploy: the run's identity and private directory, the recipe checkout,
//! head_ref and the previous release, discovery with the trust gate, the generic-skip rule, and the
//! plan. Bad input fails here, before anything is deployed.

use std::path::{Path, PathBuf};

use crate::coord::{check_grant, record_obligation, CoordPaths, GrantQuery};
use crate::deploy::stack_name;
use crate::discover::{self, DiscoverRequest, Discovery};
use crate::docker::RunLock;
use crate::recipe::{prepare_checkout, Checkout, CheckoutRequest, RecipeSource, Release};
use crate::report::GateRecord;

use super::config::RunConfig;
use super::ledger::Recorder;
use super::plan::{self, Plan, PlanInput};

/// A failure before deploying, with the exit code it maps to.
#[derive(Debug)]
pub struct Refusal {
    pub code: u8,
    pub message: String,
}

impl Refusal {
    pub(super) fn usage(m: impl Into<String>) -> Self {
        Self {
            code: crate::exit::USAGE,
            message: m.into(),
        }
    }
    pub(super) fn internal(m: impl Into<String>) -> Self {
        Self {
            code: crate::exit::INTERNAL,
            message: m.into(),
        }
    }
}

/// The run, ready to deploy.
pub struct Prepared {
    pub recipe: String,
    pub run_dir: PathBuf,
    /// Held for the whole run; `None` when only listing.
    pub lock: Option<RunLock>,
    pub checkout: Checkout,
    pub head_ref_source: String,
    pub previous_release: Option<Release>,
    pub discovery: Discovery,
    pub plan: Plan,
    pub domain: String,
    pub stack: String,
    pub customization: Vec<String>,
    pub gate: Vec<GateRecord>,
    /// The built-in recipe lint of head_ref (stack deployer; the abra deployer lints with abra later).
    pub lint: Option<crate::report::LintResult>,
}

/// A new run id: UTC time plus 6 random hex characters, sortable and unique.
pub fn new_run_id() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year][month][day]t[hour][minute][second]");
    let stamp = now.format(&fmt).unwrap_or_default();
    let rand = uuid::Uuid::new_v4().simple().to_string();
    format!("{stamp}-{}", &rand[..6])
}

/// Where generic-tests/ and overlays/ are: --data-dir / CCCI_DATA_DIR, else the working directory,
/// else next to the binary (`../share/cc-ci`), else this source tree.
pub fn data_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    let has = |p: &Path| p.join("generic-tests").is_dir();
    if let Ok(cwd) = std::env::current_dir() {
        if has(&cwd) {
            return cwd;
        }
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(share) = exe
            .parent()
            .and_then(|b| b.parent())
            .map(|p| p.join("share/cc-ci"))
        {
            if has(&share) {
                return share;
            }
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Prepares the run. `run_id` is already recorded as the run's identity.
///
/// With `rec: None` it only prepares a listing (`--list`, `--collect-only`): it writes nothing to the
/// coord tree, records nothing, consumes no grant use (a grant is only peeked at), keeps its files
/// under `runs_root` (a temporary directory), and reads a local path source in place, read-only.
pub fn prepare(
    cfg: &RunConfig,
    paths: &CoordPaths,
    runs_root: &Path,
    run_id: &str,
    rec: Option<&Recorder>,
) -> Result<Prepared, Refusal> {
    let source = RecipeSource::parse(&cfg.recipe).map_err(|e| Refusal::usage(e.to_string()))?;
    let recipe = source.name();
    let run_dir = runs_root.join(run_id);
    std::fs::create_dir_all(&run_dir)
        .map_err(|e| Refusal::internal(format!("cannot create {}: {e}", run_dir.display())))?;
    let short = run_id.rsplit('-').next().unwrap_or(run_id).to_string();
    let data = data_dir(cfg.data_dir.as_deref());
    let domain = cfg
        .domain
        .clone()
        .unwrap_or_else(|| format!("{recipe}-{short}.ci.local"));
    let stack = stack_name(&domain);
    let lock = match rec {
        Some(_) => Some(
            RunLock::acquire(&run_dir, run_id, &stack)
                .map_err(|e| Refusal::internal(e.to_string()))?,
        ),
        None => None,
    };
    let checkout = match (rec, source.path(), cfg.pr, &cfg.git_ref) {
        (None, Some(path), None, None) => read_in_place(path, &recipe)?,
        _ => {
            let cache = paths.base.join("cache");
            std::fs::create_dir_all(&cache).map_err(|e| {
                Refusal::internal(format!("cannot create {}: {e}", cache.display()))
            })?;
            prepare_checkout(&CheckoutRequest {
                source: &source,
                base_url: &cfg.recipe_base_url,
                cache_dir: &cache,
                dest: &run_dir.join("checkout"),
                pr: cfg.pr,
                git_ref: cfg.git_ref.as_deref(),
            })
            .map_err(|e| Refusal::usage(e.to_string()))?
        }
    };
    let head_ref_source = match (&cfg.git_ref, &checkout.head_ref) {
        (Some(_), _) => "REF",
        (None, Some(_)) => "checkout HEAD",
        (None, None) => "unknown",
    }
    .to_string();
    let previous_release = checkout
        .previous_release()
        .map_err(|e| Refusal::usage(e.to_string()))?;

    let allowlist = cfg
        .allowlist
        .clone()
        .unwrap_or_else(|| data.join("overlays/repo-local-approved.txt"));
    let mut gate = Vec::new();
    let discovery = {
        let mut grant = || -> Result<(bool, String, Option<String>), String> {
            let Some(rec) = rec else {
                return Ok(super::grants::peek_grant(paths, &recipe, cfg.pr));
            };
            if cfg.trust_gate_off {
                record_obligation(
                    rec.ledger(),
                    "repo-local",
                    &recipe,
                    cfg.pr,
                    Some(run_id),
                    "CCCI_TRUST_GATE_OFF=1 used instead of a grant",
                )
                .map_err(|e| e.to_string())?;
                return Ok((
                    true,
                    "emergency off-switch CCCI_TRUST_GATE_OFF=1 (obligation recorded: mint a repo-local grant)".into(),
                    None,
                ));
            }
            let d = check_grant(
                paths,
                rec.ledger(),
                &GrantQuery {
                    gate: "repo-local".into(),
                    recipe: recipe.clone(),
                    pr: cfg.pr,
                    run_id: Some(run_id.to_string()),
                },
            )
            .map_err(|e| e.to_string())?;
            Ok((d.allowed, d.reason, d.grant_id))
        };
        discover::discover(
            &DiscoverRequest {
                project_root: &data,
                recipe: &recipe,
                checkout: Some(&checkout.path),
                allowlist: &allowlist,
                pr: cfg.pr,
            },
            &mut grant,
        )
    };
    let d = &discovery.gate;
    if let Some(rec) = rec {
        rec.event(
            "gate_decision",
            &format!("repo-local:{recipe}"),
            if d.allowed { "allow" } else { "deny" },
            serde_json::json!({ "reason": d.reason, "files": d.files, "pr": cfg.pr }),
        );
    }
    gate.push(GateRecord {
        subject: "repo-local".into(),
        allowed: d.allowed,
        reason: d.reason.clone(),
    });
    if !discovery.errors.is_empty() {
        let list: Vec<String> = discovery.errors.iter().map(|e| e.to_string()).collect();
        return Err(Refusal::usage(format!(
            "{} invalid spec file(s); nothing was deployed:\n{}",
            list.len(),
            list.join("\n")
        )));
    }

    let skip_generic = super::grants::generic_skip(cfg, paths, &recipe, run_id, rec, &mut gate)?;
    let mut overlays: Vec<(crate::spec::SpecFile, bool)> = discovery
        .overlays
        .iter()
        .map(|s| (s.clone(), false))
        .collect();
    if d.allowed {
        overlays.extend(discovery.repo_local.specs.iter().map(|s| (s.clone(), true)));
    }
    let pytest =
        super::pytest::collect(&discovery, &data, &checkout.path).map_err(Refusal::internal)?;
    // Positional paths name files of the data dir or of the recipe (its checkout or where it came from).
    let recipe_roots: Vec<&Path> = [Some(checkout.path.as_path()), source.path()]
        .into_iter()
        .flatten()
        .collect();
    let selection = super::select::resolved(
        &cfg.selection,
        &super::select::Roots {
            data: &data,
            recipe: &recipe_roots,
            cwd: cfg.selection.cwd.as_deref(),
        },
    )
    .map_err(|e| Refusal::usage(e.to_string()))?;
    let plan = plan::build(&PlanInput {
        stages: &cfg.stages,
        meta: &discovery.meta,
        generic: &discovery.generic,
        overlays: &overlays,
        pytest: &pytest,
        skip_generic,
        previous_release: previous_release.as_ref().map(|r| r.tag.clone()),
        selection: &selection,
        install_steps: discovery
            .repo_local
            .install_steps
            .clone()
            .filter(|_| d.allowed),
    })
    .map_err(Refusal::usage)?;
    let customization = super::manifest::manifest(&discovery, &data, &overlays, cfg);
    // The checkout is at head_ref now; the install op may move it to the previous release.
    let lint = match (rec, &cfg.deployer) {
        (Some(_), super::config::DeployerKind::Stack) => {
            Some(crate::lint::lint_recipe(&checkout.path, &stack, &domain))
        }
        _ => None,
    };
    Ok(Prepared {
        recipe,
        run_dir,
        lock,
        checkout,
        head_ref_source,
        previous_release,
        discovery,
        plan,
        domain,
        stack,
        customization,
        gate,
        lint,
    })
}

/// A local path source read where it is, for a listing only: nothing is cloned or written.
fn read_in_place(path: &Path, recipe: &str) -> Result<Checkout, Refusal> {
    let mut c = Checkout {
        path: path.to_path_buf(),
        name: recipe.to_string(),
        head_ref: None,
        head_ref_source: crate::recipe::HeadRefSource::Head,
    };
    c.head_ref = Some(
        c.current_commit()
            .map_err(|e| Refusal::usage(e.to_string()))?,
    );
    Ok(c)
}
