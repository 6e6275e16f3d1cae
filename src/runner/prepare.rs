//! Everything before the first deploy, in order: the run's identity (`identity.rs`), the recipe
//! checkout, head_ref and the previous release, discovery behind the trust gate (`gate.rs`, in the
//! data dir of `data_dir.rs`), the domain and the run's locks, the generic-skip rule, the upgrade base
//! and the plan. Bad input fails here, before anything is deployed.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use crate::coord::{CoordPaths, Ledger};
use crate::deploy::stack_name;
use crate::discover::Discovery;
use crate::docker::RunLock;
use crate::recipe::{prepare_checkout_limited, Checkout, CheckoutRequest, GitLimits, Release};
use crate::report::{EventBus, EventKind};

use super::config::RunConfig;
use super::data_dir::check_data_dir;
pub use super::data_dir::{data_dir, DataDir};
use super::error::RunError;
use super::gate::discover_gated;
pub use super::gate::gate_event;
use super::identity::Identity;
use super::plan::{self, OverlaySpec, Plan, PlanInput, PytestNode as PlanNode};
use super::trust::{Admission, Pending, Record};

/// What a preparation is for.
#[derive(Clone, Copy)]
pub enum Purpose<'a> {
    /// A run: the run lock is taken, decisions are emitted; a grant use is spent only when a
    /// repo-local file first runs (`trust.rs`).
    Run {
        ledger: &'a Arc<Ledger>,
        bus: &'a Arc<EventBus>,
    },
    /// `--list` / `--collect-only`: it writes nothing to the coord tree, records nothing, consumes no
    /// grant use (a grant is only asked what it would decide), runs no repo-local file that is not
    /// allowlisted, keeps its files under a temporary `runs_root`, and reads a local path source in
    /// place, read-only.
    List,
}

impl Purpose<'_> {
    pub(super) fn emit(&self, kind: EventKind) {
        if let Purpose::Run { bus, .. } = self {
            bus.emit(kind);
        }
    }
}

/// The run, ready to deploy.
pub struct Prepared {
    pub recipe: String,
    pub run_dir: PathBuf,
    /// Held for the whole run; `None` when only listing.
    pub lock: Option<RunLock>,
    /// The stack's lock (one stack, one live run), held for the whole run; `None` when only listing.
    #[allow(dead_code)] // Never read: holding it is its purpose (dropped with the session).
    pub stack_lock: Option<RunLock>,
    pub checkout: Checkout,
    pub head_ref_source: String,
    pub previous_release: Option<Release>,
    /// What install deploys before the upgrade, and why (`None` when upgrade is not selected).
    pub upgrade_base: Option<crate::report::UpgradeBase>,
    pub discovery: Discovery,
    pub plan: Plan,
    pub domain: String,
    pub stack: String,
    pub customization: Vec<String>,
    /// What the selection has to say (`--lf`/`--ff`: what was rerun), in pytest's words.
    pub notes: Vec<String>,
    /// The built-in recipe lint of head_ref (stack deployer; the abra deployer lints with abra later).
    pub lint: Option<crate::report::LintResult>,
    /// The repo-local grant use (or obligation) still to be spent when a repo-local file first runs.
    pub admission: super::trust::Admission,
    /// Repo-local pytest files a listing did not collect (running them would execute them), and why.
    pub held_back: Vec<String>,
    /// The `skip-generic` grant whose use is spent when the run goes ahead.
    pub skip_grant: Option<String>,
    /// Where the generic tests and overlays came from.
    pub data_dir: DataDir,
    /// The stack as it loads before any deploy: compose files, warnings, backup capability.
    pub facts: crate::preflight::Facts,
}

/// A new run id: UTC time plus 6 random hex characters, sortable and unique.
pub fn new_run_id() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year][month][day]t[hour][minute][second]");
    let stamp = now.format(&fmt).unwrap_or_default();
    let rand = uuid::Uuid::new_v4().simple().to_string();
    format!("{stamp}-{}", &rand[..6])
}

/// Prepares the run. `run_id` is already recorded as the run's identity.
pub fn prepare(
    cfg: &RunConfig,
    paths: &CoordPaths,
    runs_root: &Path,
    run_id: &str,
    purpose: Purpose,
) -> Result<Prepared, RunError> {
    let id = super::identity::identity(cfg, runs_root, run_id)?;
    let run_dir = id.run_dir.clone();
    let prepared = prepare_in(cfg, paths, id, run_id, purpose);
    if prepared.is_err() {
        // Nothing was deployed: a run that cannot start leaves no run dir (nor a checkout) behind.
        let _ = std::fs::remove_dir_all(&run_dir);
    }
    prepared
}

fn prepare_in(
    cfg: &RunConfig,
    paths: &CoordPaths,
    mut id: Identity,
    run_id: &str,
    purpose: Purpose,
) -> Result<Prepared, RunError> {
    let data_dir = data_dir(cfg.data_dir.as_deref())?;
    let data = data_dir.path.clone();
    check_data_dir(&data, cfg.skip_generic).map_err(RunError::DataDir)?;
    let checkout = checkout(cfg, paths, &id, purpose)?;
    // The recipe's own name (TYPE), not the directory's, keys overlays, results and the ledger.
    let preflight_err = |e| RunError::Preflight(Box::new(e), cfg.recipe.clone());
    let recipe_identity =
        crate::preflight::identity(&checkout.path, &id.recipe, cfg.recipe_name.as_deref())
            .map_err(preflight_err)?;
    id.recipe = recipe_identity.name.clone();
    let head_ref_source = head_ref_source(cfg, &checkout);
    let previous_release = checkout.previous_release()?;
    let discovery = discover_gated(cfg, paths, &id.recipe, &data, &checkout, purpose);
    if !discovery.errors.is_empty() {
        let files: std::collections::BTreeSet<&Path> =
            discovery.errors.iter().map(|e| e.file.as_path()).collect();
        return Err(RunError::InvalidSpecs {
            files: files.len(),
            errors: discovery.errors.iter().map(|e| e.to_string()).collect(),
        });
    }
    // Only now, with the domain final, are the run's locks taken: the stack lock names the stack the
    // run will deploy.
    let domain = super::identity::domain(
        cfg.domain.as_deref(),
        discovery.meta.domain.as_deref(),
        &id.recipe,
        run_id,
    );
    let stack = stack_name(&domain);
    let (lock, stack_lock) = match purpose {
        Purpose::Run { .. } => (
            Some(RunLock::acquire(&id.run_dir, run_id, &stack).map_err(RunError::RunLock)?),
            Some(
                crate::docker::acquire_stack(&paths.stacks, &stack, run_id)
                    .map_err(|e| RunError::StackBusy(Box::new(e)))?,
            ),
        ),
        Purpose::List => (None, None),
    };
    if discovery.generic.is_empty() && !cfg.skip_generic {
        return Err(RunError::DataDir(format!(
            "{} holds no generic test specs: the generic tests would be dropped silently (hint: restore it from the cc-ci release, or pass --skip-generic)",
            data.join("generic-tests").display()
        )));
    }
    let facts =
        crate::preflight::inspect(&checkout.path, &stack, &domain, &discovery.meta.env_install)
            .map_err(preflight_err)?;
    let skip = super::grants::generic_skip(cfg, paths, &id.recipe, purpose)?;
    let base = super::base::for_run(
        cfg,
        paths,
        &id.recipe,
        &checkout,
        &previous_release,
        &discovery,
    )?;
    let overlays = overlay_specs(&discovery);
    // Positional paths name files of the data dir or of the recipe (its checkout or where it came from).
    let recipe_roots: Vec<&Path> = [Some(checkout.path.as_path()), id.source.path()]
        .into_iter()
        .flatten()
        .collect();
    let roots = super::select::Roots {
        data: &data,
        recipe: &recipe_roots,
        cwd: cfg.selection.cwd.as_deref(),
    };
    let selection = super::select::resolved(&cfg.selection, &roots)?;
    let admission = admission(paths, &id.recipe, cfg.pr, run_id, &discovery, purpose);
    let input = |pytest| PlanInput {
        stages: &cfg.stages,
        meta: &discovery.meta,
        generic: &discovery.generic,
        overlays: &overlays,
        pytest,
        skip_generic: skip.as_ref().map(|s| s.why.clone()),
        upgrade_base: match &base {
            Some(b) => super::base::install_base(b),
            None => Err("upgrade is not selected".into()),
        },
        selection: &selection,
        install_steps: discovery
            .repo_local
            .install_steps
            .clone()
            .filter(|_| discovery.gate.allowed),
        backup_capable: facts.backup_capable(),
    };
    // The plan must hold before a repo-local pytest file is collected (collecting executes it).
    plan::build(&input(&[]))?;
    let (pytest, held_back) =
        collect_pytest(cfg, &discovery, &data, &id.run_dir, &admission, purpose)?;
    let mut plan = plan::build(&input(&pytest))?;
    let notes =
        super::last_failed::from_ledger(&mut plan, selection.last_failed, paths, &id.recipe)?;
    for message in &notes {
        purpose.emit(EventKind::Warning {
            message: message.clone(),
        });
    }
    let mut customization = vec![
        format!("recipe: {}", recipe_identity.describe()),
        format!("compose files: {}", facts.files.join(", ")),
    ];
    customization.extend(super::manifest::manifest(
        &discovery, &data_dir, &overlays, cfg,
    ));
    // The checkout is at head_ref now; the install op may move it to the previous release.
    let lint = match (purpose, &cfg.deployer) {
        (Purpose::Run { .. }, super::config::DeployerKind::Stack) => {
            Some(crate::lint::lint_recipe(&checkout.path, &stack, &domain))
        }
        _ => None,
    };
    Ok(Prepared {
        recipe: id.recipe,
        run_dir: id.run_dir,
        lock,
        stack_lock,
        checkout,
        head_ref_source,
        previous_release,
        upgrade_base: base,
        discovery,
        plan,
        domain,
        stack,
        customization,
        notes,
        lint,
        admission,
        held_back,
        skip_grant: skip.and_then(|s| s.grant),
        data_dir,
        facts,
    })
}

/// The pytest nodes, and the repo-local files held back. A run collects repo-local files after
/// spending the grant use (collecting imports them); a listing collects them only when the allowlist
/// allowed them, since it never spends a use.
fn collect_pytest(
    cfg: &RunConfig,
    discovery: &Discovery,
    data: &Path,
    run_dir: &Path,
    admission: &Admission,
    purpose: Purpose,
) -> Result<(Vec<PlanNode>, Vec<String>), RunError> {
    let local = &discovery.repo_local.pytest;
    let mut held_back = Vec::new();
    let run_them = match (purpose, admission.pending()) {
        _ if local.is_empty() || !discovery.gate.allowed => false,
        (Purpose::Run { .. }, _) => match admission.admit("collecting its pytest files") {
            Ok(()) => true,
            Err(why) => return Err(RunError::TrustGate(why)),
        },
        (Purpose::List, Pending::Nothing) => true,
        (Purpose::List, _) => {
            held_back.extend(local.iter().map(|f| {
                format!(
                    "{}: a listing does not collect (execute) repo-local pytest files the allowlist does not allow; a run collects them after spending the grant use",
                    f.path.display()
                )
            }));
            false
        }
    };
    let nodes = super::pytest::collect(
        discovery,
        data,
        run_dir,
        run_them,
        cfg.python_path.as_deref(),
    )?;
    Ok((nodes, held_back))
}

/// What is left to spend of the gate's decision, and where a run records the spend.
fn admission(
    paths: &CoordPaths,
    recipe: &str,
    pr: Option<u64>,
    run_id: &str,
    discovery: &Discovery,
    purpose: Purpose,
) -> Admission {
    let record = match purpose {
        Purpose::Run { ledger, bus } => Some(Record {
            paths: paths.clone(),
            ledger: Arc::clone(ledger),
            bus: Arc::clone(bus),
        }),
        Purpose::List => None,
    };
    let files = discovery
        .gate
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    Admission::new(
        Pending::of(&discovery.gate.via),
        recipe,
        pr,
        run_id,
        files,
        record,
    )
}

/// Where head_ref came from: `REF`, `checkout HEAD` or `unknown`.
fn head_ref_source(cfg: &RunConfig, checkout: &Checkout) -> String {
    match (&cfg.git_ref, &checkout.head_ref) {
        (Some(_), _) => "REF",
        (None, Some(_)) => "checkout HEAD",
        (None, None) => "unknown",
    }
    .to_string()
}

/// The recipe's overlay specs, and the repo-local ones when the trust gate allowed them.
fn overlay_specs(discovery: &Discovery) -> Vec<OverlaySpec> {
    let shipped = discovery.overlays.iter().cloned().map(OverlaySpec::shipped);
    let repo_local = discovery
        .repo_local
        .specs
        .iter()
        .filter(|_| discovery.gate.allowed)
        .cloned()
        .map(OverlaySpec::repo_local);
    shipped.chain(repo_local).collect()
}

/// The run's private checkout; a listing of a local path reads it in place.
fn checkout(
    cfg: &RunConfig,
    paths: &CoordPaths,
    id: &Identity,
    purpose: Purpose,
) -> Result<Checkout, RunError> {
    if let (Purpose::List, Some(path), None, None) =
        (purpose, id.source.path(), cfg.pr, &cfg.git_ref)
    {
        return read_in_place(path, &id.recipe);
    }
    // A listing writes nothing to the coord tree: its cache lives in its temporary root.
    let cache = match purpose {
        Purpose::Run { .. } => paths.base.join("cache"),
        Purpose::List => id.run_dir.parent().unwrap_or(&id.run_dir).join("cache"),
    };
    std::fs::create_dir_all(&cache).map_err(|source| RunError::CreateDir {
        path: cache.clone(),
        source,
    })?;
    Ok(prepare_checkout_limited(
        &CheckoutRequest {
            source: &id.source,
            base_url: &cfg.recipe_base_url,
            cache_dir: &cache,
            dest: &id.run_dir.join("checkout"),
            pr: cfg.pr,
            git_ref: cfg.git_ref.as_deref(),
        },
        &GitLimits::with_timeout(cfg.git_timeout),
    )?)
}

/// Passes a prepared run on, unless SIGINT/SIGTERM came while preparing (the run ends interrupted).
pub fn unless_interrupted(p: Prepared) -> Result<Prepared, RunError> {
    if crate::recipe::interrupt_flag().load(std::sync::atomic::Ordering::SeqCst) {
        let _ = std::fs::remove_dir_all(&p.run_dir);
        return Err(RunError::Interrupted);
    }
    Ok(p)
}

/// A local path source read where it is, for a listing only: nothing is cloned or written.
fn read_in_place(path: &Path, recipe: &str) -> Result<Checkout, RunError> {
    let mut c = Checkout {
        path: path.to_path_buf(),
        name: recipe.to_string(),
        head_ref: None,
        head_ref_source: crate::recipe::HeadRefSource::Head,
    };
    c.head_ref = Some(c.current_commit()?);
    Ok(c)
}
