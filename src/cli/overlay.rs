//! `cc-ci overlay new|check|doc`: scaffold a recipe's overlays, validate specs without deploying
//! anything, and print the spec reference. Reads and writes files only; never touches Docker.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::discover::{check_set, is_yaml, parse_allowlist, validate_recipe_name, MAX_SPEC_BYTES};
use crate::exit;
use crate::spec::{
    lint_set, parse_meta_all, parse_spec_all, reference, RecipeMeta, SpecError, SpecErrorKind,
    SpecFile,
};

#[derive(Debug, clap::Subcommand)]
pub enum OverlayCmd {
    /// Scaffold overlays/RECIPE/ with a commented recipe.yaml and one passing example overlay; with
    /// `--from`, fitted to the recipe (main service, HTTP port, health path, backup/restore seeds).
    New {
        /// The recipe's name (e.g. `hello`): its `TYPE`, lowercase.
        recipe: String,
        /// Folder that holds every recipe's overlays.
        #[arg(long, default_value = "overlays")]
        dir: PathBuf,
        /// The recipe's main service, used by the example exec check (without `--from`).
        #[arg(long, default_value = "app")]
        service: String,
        /// Read the recipe (a local path, read in place, or a git URL) and fit the scaffold to it.
        #[arg(long)]
        from: Option<String>,
    },
    /// Validate specs and recipe.yaml files without deploying (default: overlays/ and generic-tests/).
    Check {
        /// Files or folders to check.
        paths: Vec<PathBuf>,
    },
    /// Print the reference of every step and check kind (Markdown).
    Doc,
}

pub fn run(cmd: OverlayCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        OverlayCmd::New {
            recipe,
            dir,
            service,
            from,
        } => new(&recipe, &dir, &service, from.as_deref()),
        OverlayCmd::Check { paths } => check(paths),
        OverlayCmd::Doc => {
            print!("{}", reference());
            Ok(exit::code(exit::OK))
        }
    }
}

const RECIPE_YAML: &str =
    "# Metadata for the recipe `{recipe}`. Every key is optional; uncomment what you need.
# Full list: `cc-ci overlay doc` (docs/spec-reference.md).
#
# tiers: [install, upgrade, backup, restore]   # tiers the recipe supports (default: all)
# not_applicable:
#   backup: the app keeps no state               # an honest N/A, recorded as such
# deploy_timeout: 5m
# http_timeout: 30s
# health_path: /
# accepted_statuses: [200]                       # 404 never counts
# http_port: 80
# main_service: {service}
# readiness: {http: {path: /, port: 80}}         # or {tcp: {port: 5432}}
# env_install: {SOME_SETTING: value}
# env_upgrade: {}
";

const SMOKE_YAML: &str =
    "# A first overlay for `{recipe}`: runs after the install op (the first deploy).
# Add tests below; each has a `name` and exactly one check. Validate with `cc-ci overlay check`.
tier: install
tests:
  - name: converged
    converged: {}
  # Runs a command in a running `{service}` container; passes when it exits 0.
  - name: exec_works
    exec:
      service: {service}
      command: \"true\"
";

fn new(recipe: &str, dir: &Path, service: &str, from: Option<&str>) -> anyhow::Result<ExitCode> {
    if let Err(e) = crate::recipe::validate_name(recipe)
        .map_err(|e| e.to_string())
        .and_then(|_| validate_recipe_name(service).map_err(|e| e.replace("recipe", "service")))
    {
        eprintln!("cc-ci: error: {e}");
        return Ok(exit::code(exit::USAGE));
    }
    let target = dir.join(recipe);
    let files: Vec<(PathBuf, String)> = match from {
        None => vec![
            (target.join("recipe.yaml"), RECIPE_YAML.to_string()),
            (target.join("smoke.yaml"), SMOKE_YAML.to_string()),
        ]
        .into_iter()
        .map(|(p, t)| {
            (
                p,
                t.replace("{recipe}", recipe).replace("{service}", service),
            )
        })
        .collect(),
        Some(src) => match fitted(recipe, src) {
            Ok(f) => f
                .into_iter()
                .map(|f| (target.join(f.name), f.text))
                .collect(),
            Err(e) => {
                eprintln!("cc-ci: error: {e}");
                return Ok(exit::code(exit::USAGE));
            }
        },
    };
    for (p, _) in &files {
        if p.exists() {
            eprintln!("cc-ci: error: {} already exists; refusing to overwrite (hint: edit it, or move it away first)", p.display());
            return Ok(exit::code(exit::FAILED));
        }
    }
    std::fs::create_dir_all(&target)
        .with_context(|| format!("cannot create {}", target.display()))?;
    for (p, text) in &files {
        std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?;
        println!("created {}", p.display());
    }
    println!(
        "next: add tests to {}, then run `cc-ci overlay check {}`",
        target.join("smoke.yaml").display(),
        target.display()
    );
    Ok(exit::code(exit::OK))
}

/// The scaffold fitted to the recipe at `src` (a path read in place, or a URL cloned to a scratch
/// directory). The recipe's own name must be `recipe`, or the overlays would never be found.
fn fitted(recipe: &str, src: &str) -> Result<Vec<crate::preflight::ScaffoldFile>, String> {
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let source = crate::recipe::RecipeSource::parse(src).map_err(|e| e.to_string())?;
    let checkout = match source.path() {
        Some(p) => crate::recipe::Checkout {
            path: p.to_path_buf(),
            name: source.name(),
            head_ref: None,
            head_ref_source: crate::recipe::HeadRefSource::Unknown,
        },
        None => crate::recipe::prepare_checkout(&crate::recipe::CheckoutRequest {
            source: &source,
            base_url: crate::recipe::DEFAULT_BASE_URL,
            cache_dir: &scratch.path().join("cache"),
            dest: &scratch.path().join("checkout"),
            pr: None,
            git_ref: None,
        })
        .map_err(|e| e.to_string())?,
    };
    let id = crate::preflight::identity(&checkout.path, &source.name(), None)
        .map_err(|e| e.to_string())?;
    if id.name != recipe {
        return Err(format!(
            "{src} is the recipe `{}` ({}), not `{recipe}`: its overlays belong in a folder named `{}` (hint: cc-ci overlay new {} --from {src})",
            id.name,
            id.describe(),
            id.name,
            id.name
        ));
    }
    let domain = format!("{recipe}.ci.local");
    let facts = crate::preflight::inspect(
        &checkout.path,
        &crate::deploy::stack_name(&domain),
        &domain,
        &Default::default(),
    )
    .map_err(|e| e.to_string())?;
    let has_release =
        checkout.path.join(".git").exists() && checkout.previous_release().ok().flatten().is_some();
    let fit = crate::preflight::fit(&facts);
    println!(
        "fitted to {src}: main service `{}`, http port {}, health path {}, backup seed {}",
        fit.main_service,
        fit.http_port
            .map(|p| p.to_string())
            .unwrap_or_else(|| "unknown".into()),
        fit.health_path.as_deref().unwrap_or("/"),
        fit.seed
            .as_ref()
            .map(|(s, v, t)| format!("in volume `{v}` of `{s}` ({t})"))
            .unwrap_or_else(|| "none".into())
    );
    Ok(crate::preflight::scaffold(recipe, src, &facts, has_release))
}

/// Every YAML file under `p` (or `p` itself), plus allowlist files, sorted.
fn collect(p: &Path, yaml: &mut Vec<PathBuf>, allowlists: &mut Vec<PathBuf>) {
    if p.is_file() {
        if p.file_name()
            .is_some_and(|n| n == "repo-local-approved.txt")
        {
            allowlists.push(p.to_path_buf());
        } else {
            yaml.push(p.to_path_buf());
        }
        return;
    }
    let Ok(rd) = std::fs::read_dir(p) else { return };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() && !name.starts_with('.') {
            collect(&e.path(), yaml, allowlists);
        } else if t.is_file() && is_yaml(&name) {
            yaml.push(e.path());
        } else if t.is_file() && name == "repo-local-approved.txt" {
            allowlists.push(e.path());
        }
    }
}

fn is_meta(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n == "recipe.yaml" || n == "recipe.yml")
}

/// Reads a file to check, as a positioned error when it is too large or not UTF-8 text.
fn read(p: &Path) -> Result<String, SpecError> {
    let io = |message: String| SpecError {
        file: p.to_path_buf(),
        line: 0,
        column: 0,
        key: None,
        kind: Box::new(SpecErrorKind::Io { message }),
    };
    let len = std::fs::metadata(p)
        .map_err(|e| io(format!("cannot read: {e}")))?
        .len();
    if len > MAX_SPEC_BYTES {
        return Err(io(format!(
            "is larger than {MAX_SPEC_BYTES} bytes; a spec file is small (hint: split it)"
        )));
    }
    std::fs::read_to_string(p).map_err(|e| io(format!("cannot read: {e}")))
}

fn check(paths: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    let paths = if paths.is_empty() {
        let d: Vec<PathBuf> = ["overlays", "generic-tests"]
            .iter()
            .map(PathBuf::from)
            .filter(|p| p.exists())
            .collect();
        if d.is_empty() {
            eprintln!("cc-ci: error: neither overlays/ nor generic-tests/ exists here (hint: run from the project root or name paths)");
            return Ok(exit::code(exit::USAGE));
        }
        d
    } else {
        paths
    };
    let (mut files, mut allowlists) = (Vec::new(), Vec::new());
    for p in &paths {
        if !p.exists() {
            eprintln!("cc-ci: error: {} does not exist", p.display());
            return Ok(exit::code(exit::USAGE));
        }
        collect(p, &mut files, &mut allowlists);
    }
    files.dedup();
    let mut errors: Vec<SpecError> = Vec::new();
    // Specs grouped by folder, each folder linted against its own recipe.yaml.
    let mut groups: Vec<(PathBuf, Vec<SpecFile>)> = Vec::new();
    for f in files.iter().filter(|f| !is_meta(f)) {
        let text = match read(f) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let parent = f.parent().unwrap_or(Path::new("")).to_path_buf();
        match parse_spec_all(f, &text) {
            Ok(s) => match groups.iter_mut().find(|(d, _)| *d == parent) {
                Some((_, v)) => v.push(s),
                None => groups.push((parent, vec![s])),
            },
            Err(es) => errors.extend(es),
        }
    }
    let mut metas: Vec<(PathBuf, RecipeMeta)> = Vec::new();
    let mut meta_files: Vec<PathBuf> = files.iter().filter(|f| is_meta(f)).cloned().collect();
    for (d, _) in &groups {
        let m = d.join("recipe.yaml");
        if m.is_file() && !meta_files.contains(&m) {
            meta_files.push(m);
        }
    }
    for m in &meta_files {
        let text = match read(m) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match parse_meta_all(m, &text) {
            Ok(meta) => metas.push((m.parent().unwrap_or(Path::new("")).to_path_buf(), meta)),
            Err(es) if files.contains(m) => errors.extend(es),
            Err(_) => {}
        }
    }
    for a in &allowlists {
        let text = match read(a) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        errors.extend(parse_allowlist(a, &text).1);
    }
    let mut warnings = Vec::new();
    for (dir, specs) in &groups {
        let generic = dir.file_name().is_some_and(|n| n == "generic-tests");
        errors.extend(check_set(specs.iter(), generic));
        let meta = metas
            .iter()
            .find(|(d, _)| d == dir)
            .map(|(_, m)| m.clone())
            .unwrap_or_default();
        warnings.extend(lint_set(specs, &meta));
    }
    for e in &errors {
        println!("{e}");
    }
    for w in &warnings {
        println!("{w}");
    }
    let n = files.len() + allowlists.len();
    println!(
        "checked {n} file(s): {} error(s), {} warning(s)",
        errors.len(),
        warnings.len()
    );
    Ok(exit::code(if errors.is_empty() {
        exit::OK
    } else {
        exit::FAILED
    }))
}
