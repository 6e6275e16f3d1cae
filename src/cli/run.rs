//! `cc-ci run`: what was typed and what the CI pipeline set in the environment (`RunArgs`), turned into
//! a resolved [`RunConfig`](crate::runner::RunConfig). Nothing downstream reads the environment again.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::runner::{self, DeployerKind, RunConfig, Selection};

/// Runs the tiers against a recipe. Accepts libtest's arguments and pytest's common ones.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Recipe: a name (cloned from CCCI_RECIPE_BASE_URL), a git URL, or a local path.
    #[arg(long, env = "RECIPE")]
    pub recipe: Option<String>,
    /// The recipe's name (overlays, results, ledger). Default: `TYPE` in `.env.sample`, else the
    /// source's name.
    #[arg(long, env = "CCCI_RECIPE_NAME")]
    pub recipe_name: Option<String>,
    /// Pin the commit to test (head_ref). Default: the checkout's HEAD.
    #[arg(long = "ref", env = "REF")]
    pub git_ref: Option<String>,
    /// Pull request number: fetch its head.
    #[arg(long, env = "PR")]
    pub pr: Option<u64>,
    /// Tiers to run, comma-separated: install,upgrade,backup,restore,custom.
    #[arg(long, env = "STAGES")]
    pub stages: Option<String>,
    /// How the app is deployed: `stack` (built in) or `abra`.
    #[arg(long, env = "CCCI_DEPLOYER", default_value = "stack")]
    pub deployer: String,
    /// Path of the abra binary (default: found on PATH).
    #[arg(long)]
    pub abra: Option<PathBuf>,
    /// abra server name to deploy to.
    #[arg(long, env = "CCCI_ABRA_SERVER", default_value = "default")]
    pub server: String,
    /// The app's domain (default: recipe.yaml's, else `<recipe>-<run>.ci.local`).
    #[arg(long, env = "CCCI_DOMAIN")]
    pub domain: Option<String>,
    /// Skip the generic tier tests (local development; in CI a `skip-generic` grant is required).
    #[arg(long, env = "CCCI_SKIP_GENERIC", value_parser = clap::builder::FalseyValueParser::new())]
    pub skip_generic: bool,
    /// The coord tree's base directory.
    #[arg(long, env = "CCCI_COORD_DIR")]
    pub coord_dir: Option<PathBuf>,
    /// Where generic-tests/ and overlays/ live (default: found next to the binary or in the working directory).
    #[arg(long, env = "CCCI_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
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
    /// Write JUnit XML here.
    #[arg(long)]
    pub junitxml: Option<PathBuf>,
    /// Write the Markdown summary (a PR comment) here.
    #[arg(long)]
    pub summary_md: Option<PathBuf>,
    /// Directory for results.json and badges (default: the run's directory).
    #[arg(long)]
    pub artifacts: Option<PathBuf>,
    /// Wait for Enter on a terminal after this tier's assertions (refused when CI is set).
    #[arg(long)]
    pub pause_after: Option<String>,
    /// Create the external `proxy` network when it is missing (both deployers; it is never removed).
    #[arg(long, env = "CCCI_CREATE_PROXY_NETWORK", default_value_t = true, action = clap::ArgAction::Set)]
    pub create_proxy_network: bool,
    /// pytest: select tests by keyword expression (and, or, not, parentheses).
    #[arg(short = 'k')]
    pub keyword: Option<String>,
    /// pytest: stop after the first failure (teardown still runs).
    #[arg(short = 'x', long = "exitfirst")]
    pub exitfirst: bool,
    /// pytest: list the tests that would run, without deploying.
    #[arg(long = "collect-only", visible_alias = "co")]
    pub collect_only: bool,
    /// pytest: verbose.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    #[command(flatten)]
    pub libtest: libtest_mimic::Arguments,
}

/// Runs `cc-ci run`.
pub fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    let trust_gate_off = std::env::var("CCCI_TRUST_GATE_OFF").is_ok_and(|v| v == "1");
    let config = match build_config(a, ci, trust_gate_off) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("cc-ci run: {msg}");
            return Ok(crate::exit::code(crate::exit::USAGE));
        }
    };
    Ok(crate::exit::code(runner::run(config)))
}

fn build_config(a: RunArgs, ci: bool, trust_gate_off: bool) -> Result<RunConfig, String> {
    let recipe = a.recipe.ok_or_else(|| {
        "no recipe given (hint: pass --recipe NAME|PATH|URL or set RECIPE)".to_string()
    })?;
    let deployer = match a.deployer.as_str() {
        "stack" => DeployerKind::Stack,
        "abra" => DeployerKind::Abra {
            abra: a.abra,
            server: a.server,
        },
        other => {
            return Err(format!(
                "unknown deployer `{other}` (expected `stack` or `abra`)"
            ))
        }
    };
    let stages = runner::parse_stages(a.stages.as_deref())?;
    let pause_after = match a.pause_after {
        None => None,
        Some(_) if ci => {
            return Err("--pause-after waits for a person and is refused when CI is set".into())
        }
        Some(t) => Some(t.parse().map_err(|e| format!("--pause-after {t}: {e}"))?),
    };
    let keyword = match a.keyword {
        None => None,
        Some(k) => Some(crate::discover::Keyword::parse(&k).map_err(|e| format!("-k {k:?}: {e}"))?),
    };
    let mut libtest = a.libtest;
    if a.collect_only {
        libtest.list = true;
    }
    Ok(RunConfig {
        recipe,
        recipe_name: a.recipe_name.filter(|n| !n.is_empty()),
        git_ref: a.git_ref.filter(|r| !r.is_empty()),
        pr: a.pr,
        stages,
        deployer,
        domain: a.domain,
        skip_generic: a.skip_generic,
        coord_dir: a.coord_dir,
        data_dir: a.data_dir,
        allowlist: a.allowlist,
        recipe_base_url: a.recipe_base_url,
        junitxml: a.junitxml,
        summary_md: a.summary_md,
        artifacts: a.artifacts,
        pause_after,
        create_proxy_network: a.create_proxy_network,
        ci,
        trust_gate_off,
        selection: Selection {
            keyword,
            exitfirst: a.exitfirst,
            collect_only: a.collect_only,
            verbose: a.verbose,
            libtest,
        },
    })
}
