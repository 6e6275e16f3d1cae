//! `cc-ci overlay new`: the overlays of a recipe, scaffolded — generic (a commented recipe.yaml and an
//! install smoke test) or, with `--from`, fitted to the recipe read by the preflight. Writes only into
//! `--dir`, never over an existing file; never touches Docker.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::discover::validate_recipe_name;
use crate::exit;

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

pub fn new(
    recipe: &str,
    dir: &Path,
    service: &str,
    from: Option<&str>,
) -> anyhow::Result<ExitCode> {
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
    // A --dir that cannot hold the overlays (a file, a read-only place) is a usage error.
    if let Err(e) = std::fs::create_dir_all(&target) {
        eprintln!(
            "cc-ci: error: cannot create {}: {e} (hint: --dir names the folder that holds every recipe's overlays)",
            target.display()
        );
        return Ok(exit::code(exit::USAGE));
    }
    for (p, text) in &files {
        if let Err(e) = std::fs::write(p, text) {
            eprintln!("cc-ci: error: cannot write {}: {e}", p.display());
            return Ok(exit::code(exit::USAGE));
        }
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
