//! `cc-ci check`: the preflight of a recipe, without Docker — what will run, what will not and why,
//! what to fix. A thin shell over [`crate::preflight::check`].

use std::path::PathBuf;
use std::process::ExitCode;

use crate::coord::CoordPaths;
use crate::exit;
use crate::preflight::{self, CheckRequest};

/// Checks a recipe before any deploy: name, compose files, tiers, overlays, trust gate, lint.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Recipe: a name (cloned from CCCI_RECIPE_BASE_URL), a git URL, or a local path (read in place).
    #[arg(long, env = "RECIPE")]
    pub recipe: Option<String>,
    /// Check this commit (clones the recipe privately).
    #[arg(long = "ref", env = "REF")]
    pub git_ref: Option<String>,
    /// Pull request number: check its head (clones the recipe privately).
    #[arg(long, env = "PR")]
    pub pr: Option<u64>,
    /// The app's domain the stack is resolved for (default: recipe.yaml's `domain:`, else `<recipe>.ci.local`).
    #[arg(long, env = "CCCI_DOMAIN")]
    pub domain: Option<String>,
    /// Where generic-tests/ and overlays/ live.
    #[arg(long, env = "CCCI_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The recipe's name, when `TYPE` in `.env.sample` is not it.
    #[arg(long, env = "CCCI_RECIPE_NAME")]
    pub recipe_name: Option<String>,
    /// The upgrade base to show, as `cc-ci run --upgrade-from` takes it: `last-green`, `previous` or a
    /// commit/tag. Default: recipe.yaml's `upgrade_base`, else `last-green` (the ledger is only read).
    #[arg(long, env = "CCCI_UPGRADE_FROM", value_name = "previous|last-green|REF",
          value_parser = |s: &str| s.parse::<crate::runner::UpgradeFrom>())]
    pub upgrade_from: Option<crate::runner::UpgradeFrom>,
    /// `text` (default) or `json`.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// Print only the resolved stack, as `docker stack config` prints it.
    #[arg(long)]
    pub stack_config: bool,
    /// The coord tree (its recipe cache and grants; nothing is written but the cache).
    #[arg(long, env = "CCCI_COORD_DIR")]
    pub coord_dir: Option<PathBuf>,
    /// The repo-local allowlist file.
    #[arg(long, env = "CCCI_REPO_LOCAL_APPROVED_FILE")]
    pub allowlist: Option<PathBuf>,
    /// Base URL recipe names are cloned from.
    #[arg(
        long,
        env = "CCCI_RECIPE_BASE_URL",
        default_value = "https://git.coopcloud.tech/coop-cloud"
    )]
    pub recipe_base_url: String,
}

/// Exit 0 when the recipe is clean, 1 when the lint found problems, 4 when it is not a recipe or
/// does not load.
pub fn run(a: CheckArgs) -> anyhow::Result<ExitCode> {
    let usage = |m: String| {
        eprintln!("cc-ci check: {m}");
        Ok(exit::code(exit::USAGE))
    };
    let Some(source) = a.recipe.filter(|r| !r.is_empty()) else {
        return usage("no recipe given (hint: pass --recipe NAME|PATH|URL or set RECIPE)".into());
    };
    let coord = match CoordPaths::resolve(a.coord_dir.as_deref()) {
        Ok(c) => c,
        Err(e) => return usage(format!("coord: {e}")),
    };
    let data = match crate::runner::data_dir(a.data_dir.as_deref()) {
        Ok(d) => d.path,
        Err(e) => return usage(e.to_string()),
    };
    let scratch = tempfile::tempdir()?;
    let rule = |recipe: &str,
                checkout: &crate::recipe::Checkout,
                previous: Option<&crate::recipe::Release>,
                meta: &crate::spec::RecipeMeta| {
        crate::runner::upgrade_base_for_check(
            &coord,
            a.upgrade_from.as_ref(),
            recipe,
            checkout,
            previous,
            meta,
        )
        .map_err(|e| e.to_string())
    };
    let req = CheckRequest {
        source: &source,
        git_ref: a.git_ref.as_deref().filter(|r| !r.is_empty()),
        pr: a.pr,
        domain: a.domain.as_deref(),
        data_dir: &data,
        recipe_name: a.recipe_name.as_deref().filter(|n| !n.is_empty()),
        recipe_base_url: &a.recipe_base_url,
        coord: &coord,
        allowlist: a.allowlist.as_deref(),
        scratch: scratch.path(),
        upgrade_base: &rule,
    };
    let (report, spec) = match preflight::check(&req) {
        Ok(r) => r,
        Err(e) => return usage(e.to_string()),
    };
    let mut out = std::io::stdout().lock();
    if a.stack_config {
        print!("{}", crate::deploy::compose::render_yaml(&spec));
        return Ok(exit::code(exit::OK));
    }
    if a.format == "json" {
        preflight::render_json(&report, &mut out)?;
    } else {
        preflight::render_text(&report, &mut out)?;
    }
    Ok(exit::code(if report.lint_failed() {
        exit::FAILED
    } else {
        exit::OK
    }))
}
