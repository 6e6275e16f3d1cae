//! `cc-ci run`: what was typed and what the CI pipeline set in the environment (`RunArgs`), turned into
//! a resolved [`RunConfig`](crate::runner::RunConfig). Nothing downstream reads the environment again.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::report::durations::Durations;
use crate::report::junit_empty::{write_empty, Empty, StoppedRunJunit};
use crate::report::{console, ProgressLine, Subscriber, TerminalReporter, TrialFormat, TrialStyle};
use crate::runner::{self, DeployerKind, RunConfig};
use crate::spec::Tier;

use super::run_flags::TestArgs;

/// Runs the tiers against a recipe. Accepts libtest's arguments and the pytest flags a pipeline
/// passes by habit (docs/pytest.md). A flag given twice counts (`-vv`) or the last one wins, as in pytest.
#[derive(Debug, clap::Args)]
#[command(args_override_self = true)]
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
    /// How the app is deployed.
    #[arg(long, env = "CCCI_DEPLOYER", value_enum, default_value_t = DeployerArg::Stack)]
    pub deployer: DeployerArg,
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
    /// Write JUnit XML here (pytest's `--junit-xml` spelling works too).
    #[arg(long, visible_alias = "junit-xml", value_name = "PATH")]
    pub junitxml: Option<PathBuf>,
    /// Write the Markdown summary (a PR comment) here.
    #[arg(long)]
    pub summary_md: Option<PathBuf>,
    /// Directory for results.json and badges (default: the run's directory).
    #[arg(long)]
    pub artifacts: Option<PathBuf>,
    /// What install deploys before the upgrade: `last-green` (the newest green run on this host whose
    /// head is an ancestor of the PR head, else the previous release), `previous` (the previous
    /// release), or a commit/tag. Default: recipe.yaml's `upgrade_base`, else `last-green`.
    #[arg(long, env = "CCCI_UPGRADE_FROM", value_name = "previous|last-green|REF",
          value_parser = |s: &str| s.parse::<runner::UpgradeFrom>())]
    pub upgrade_from: Option<runner::UpgradeFrom>,
    /// A screenshot of the app's health page after install and upgrade, saved among the artifacts:
    /// `auto` (when Chromium is found) or `off`.
    #[arg(long, env = "CCCI_SCREENSHOTS", default_value = "auto", value_name = "auto|off",
          value_parser = |s: &str| s.parse::<runner::ScreenshotMode>())]
    pub screenshots: runner::ScreenshotMode,
    /// The Chromium binary for screenshots (default: `chromium`, else `chromium-browser`, on PATH).
    #[arg(long, env = "CCCI_CHROMIUM", value_name = "PATH")]
    pub chromium: Option<PathBuf>,
    /// Wait for Enter on a terminal after this tier's assertions (refused when CI is set).
    #[arg(long, value_enum, value_name = "TIER")]
    pub pause_after: Option<TierArg>,
    /// Create the external `proxy` network when it is missing (both deployers; it is never removed).
    #[arg(long, env = "CCCI_CREATE_PROXY_NETWORK", default_value_t = true, action = clap::ArgAction::Set)]
    pub create_proxy_network: bool,
    /// The external network of the host's reverse proxy (traefik) that web recipes join.
    #[arg(long, env = "CCCI_PROXY_NETWORK", default_value = crate::deploy::PROXY_NETWORK)]
    pub proxy_network: String,
    /// How long engine calls ride out an engine that stopped answering (a restart) before the run
    /// ends as an infrastructure failure (exit 3), e.g. `60s` (1s to 10m).
    #[arg(long, env = "CCCI_ENGINE_WAIT", default_value = "60s",
          value_parser = crate::duration::clap_parser(ENGINE_WAIT_MIN, ENGINE_WAIT_MAX))]
    pub engine_wait: std::time::Duration,
    /// Deadline of each git call (clone, fetch) of the recipe, e.g. `2m` (1s to 1h).
    #[arg(long, env = "CCCI_GIT_TIMEOUT", default_value = "120s",
          value_parser = crate::duration::clap_parser(GIT_TIMEOUT_MIN, GIT_TIMEOUT_MAX))]
    pub git_timeout: std::time::Duration,
    /// Print cc-ci's version and exit.
    #[arg(id = "show_version", short = 'V', long = "version")]
    pub version: bool,
    #[command(flatten)]
    pub tests: TestArgs,
}

/// `--deployer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeployerArg {
    /// The built-in deployer (through the engine API).
    Stack,
    /// The `abra` CLI.
    Abra,
}

/// A tier named on the command line (`--pause-after`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TierArg {
    Install,
    Upgrade,
    Backup,
    Restore,
    Custom,
}

impl From<TierArg> for Tier {
    fn from(t: TierArg) -> Tier {
        match t {
            TierArg::Install => Tier::Install,
            TierArg::Upgrade => Tier::Upgrade,
            TierArg::Backup => Tier::Backup,
            TierArg::Restore => Tier::Restore,
            TierArg::Custom => Tier::Custom,
        }
    }
}

/// Bounds of `--engine-wait`.
const ENGINE_WAIT_MIN: std::time::Duration = std::time::Duration::from_secs(1);
const ENGINE_WAIT_MAX: std::time::Duration = std::time::Duration::from_secs(600);

/// Bounds of `--git-timeout`.
const GIT_TIMEOUT_MIN: std::time::Duration = std::time::Duration::from_secs(1);
const GIT_TIMEOUT_MAX: std::time::Duration = crate::duration::HOUR;

/// Runs `cc-ci run`: a listing, or a run reported on the terminal (stdout, the progress line on
/// stderr). `matches` is the parsed command (it tells which of -x and --maxfail came last).
pub fn run(a: RunArgs, matches: Option<&clap::ArgMatches>) -> anyhow::Result<ExitCode> {
    if a.version {
        println!("cc-ci {}", env!("CARGO_PKG_VERSION"));
        return Ok(crate::exit::code(crate::exit::OK));
    }
    let started = std::time::Instant::now();
    // Known before anything can go wrong: a usage error from here on still leaves a JUnit file.
    let junit = Junit {
        path: a.junitxml.clone(),
        recipe: a.recipe.clone().unwrap_or_default(),
    };
    let durations = a.tests.durations_shown();
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    let trust_gate_off = std::env::var("CCCI_TRUST_GATE_OFF").is_ok_and(|v| v == "1");
    let (config, notes) = match build_config(a, matches, ci, trust_gate_off) {
        Ok(c) => c,
        Err(msg) => return Ok(junit.usage_error(msg)),
    };
    for n in notes {
        eprintln!("cc-ci run: note: {n}");
    }
    if config.selection.libtest.list || config.selection.collect_only {
        return Ok(list(&config, &junit, started));
    }
    let logfile: Option<Box<dyn std::io::Write + Send>> = match &config.selection.libtest.logfile {
        None => None,
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Some(Box::new(f)),
            Err(e) => {
                return Ok(junit.usage_error(format!("cannot create the --logfile {path}: {e}")))
            }
        },
    };
    let unwritten = crate::report::Unwritten::default();
    let terminal = TerminalReporter::new(Box::new(std::io::stdout()), Box::new(std::io::stderr()))
        .with_trials(trial_style(&config.selection.libtest), logfile)
        .with_unwritten(unwritten.clone());
    let mut subscribers: Vec<Box<dyn Subscriber>> = Vec::new();
    if let Some((count, min_ms)) = durations {
        // Before the terminal: the slowest durations come ahead of the summary, as in pytest.
        let out = Box::new(std::io::stdout());
        subscribers.push(Box::new(Durations::new(count, min_ms, out)));
    }
    subscribers.extend::<[Box<dyn Subscriber>; 2]>([
        Box::new(terminal),
        Box::new(ProgressLine::new(
            Box::new(std::io::stderr()),
            std::io::stderr().is_terminal(),
        )),
    ]);
    if let Some(path) = junit.path {
        subscribers.push(Box::new(StoppedRunJunit::new(
            path,
            junit.recipe,
            Box::new(std::io::stderr()),
        )));
    }
    let outputs = runner::Outputs {
        subscribers,
        file_errors: Box::new(std::io::stderr()),
        unwritten,
    };
    Ok(crate::exit::code(runner::run(config, outputs)))
}

/// `--junitxml`, as pytest honours it: written even when there is no run to report.
struct Junit {
    path: Option<PathBuf>,
    /// The recipe as given (the report's name).
    recipe: String,
}

impl Junit {
    /// Writes the report without test cases, if one was asked for.
    fn write(&self, why: &Empty) {
        if let Some(path) = &self.path {
            if let Err(e) = write_empty(path, &self.recipe, why) {
                eprintln!("cc-ci run: cannot write JUnit XML: {e}");
            }
        }
    }

    /// A usage error: said on stderr, the report written, exit 4.
    fn usage_error(&self, msg: String) -> ExitCode {
        eprintln!("cc-ci run: {msg}");
        self.write(&Empty::Stopped(msg));
        crate::exit::code(crate::exit::USAGE)
    }
}

/// libtest's `--format`, `-q` and `--color` (auto: colour on a terminal unless `NO_COLOR` is set).
fn trial_style(a: &libtest_mimic::Arguments) -> TrialStyle {
    use libtest_mimic::{ColorSetting, FormatSetting};
    let format = match (a.quiet, a.format) {
        (true, _) | (false, Some(FormatSetting::Terse)) => TrialFormat::Terse,
        (false, Some(FormatSetting::Json)) => TrialFormat::Json,
        (false, _) => TrialFormat::Pretty,
    };
    let color = match a.color {
        Some(ColorSetting::Always) => true,
        Some(ColorSetting::Never) => false,
        _ => {
            a.logfile.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    TrialStyle { format, color }
}

/// `--list` / `--collect-only`: exit 5 when nothing is collected. The JUnit file, when asked for,
/// holds no test case (pytest's `--co --junitxml`).
fn list(config: &RunConfig, junit: &Junit, started: std::time::Instant) -> ExitCode {
    match runner::list(config) {
        Ok(listing) => {
            // The trust gate's decision is always said; stdout keeps libtest's/pytest's format.
            if config.selection.verbose {
                eprintln!("cc-ci run: data dir {}", listing.data_dir);
            }
            eprintln!("cc-ci run: trust gate: {}", listing.gate);
            for h in &listing.held_back {
                eprintln!("cc-ci run: held back: {h}");
            }
            for n in &listing.notes {
                eprintln!("cc-ci run: {n}");
            }
            let ids: Vec<&str> = listing.ids.iter().map(String::as_str).collect();
            let out = &mut std::io::stdout();
            let elapsed = started.elapsed().as_secs_f64();
            let pytest_style = config.selection.collect_only;
            let _ = console::list(&ids, listing.deselected, pytest_style, elapsed, out);
            // Every tier that will not run says why (`--collect-only` with -v, or when it is empty).
            if !config.selection.collect_only || config.selection.verbose || ids.is_empty() {
                for line in &listing.will_not_run {
                    println!("{line}");
                }
            }
            let collected = console::collected(ids.len(), listing.deselected);
            junit.write(&Empty::Listing(collected));
            crate::exit::code(if ids.is_empty() {
                crate::exit::NO_TESTS
            } else {
                crate::exit::OK
            })
        }
        Err(e) => {
            eprintln!("cc-ci run: {e}");
            junit.write(&Empty::Stopped(e.to_string()));
            crate::exit::code(e.class().code())
        }
    }
}

fn build_config(
    a: RunArgs,
    matches: Option<&clap::ArgMatches>,
    ci: bool,
    trust_gate_off: bool,
) -> Result<(RunConfig, Vec<String>), String> {
    let recipe = a.recipe.ok_or_else(|| {
        "no recipe given (hint: pass --recipe NAME|PATH|URL or set RECIPE)".to_string()
    })?;
    let deployer = match a.deployer {
        DeployerArg::Stack => DeployerKind::Stack,
        DeployerArg::Abra => DeployerKind::Abra {
            abra: a.abra,
            server: a.server,
        },
    };
    let stages = runner::parse_stages(a.stages.as_deref()).map_err(|e| e.to_string())?;
    let pause_after = match a.pause_after {
        None => None,
        Some(_) if ci => {
            return Err("--pause-after waits for a person and is refused when CI is set".into())
        }
        Some(t) => Some(Tier::from(t)),
    };
    let cwd = std::env::current_dir().ok();
    let (selection, notes) = a.tests.selection(cwd, matches).map_err(|e| e.to_string())?;
    let config = RunConfig {
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
        // Recorded in results.json and the ledger: absolute, so they mean the same from anywhere.
        junitxml: a.junitxml.map(absolute),
        summary_md: a.summary_md.map(absolute),
        artifacts: a.artifacts.map(absolute),
        pause_after,
        upgrade_from: a.upgrade_from,
        create_proxy_network: a.create_proxy_network,
        screenshots: a.screenshots,
        // Found here, once: the runner reads no environment.
        chromium: a.chromium.map(absolute).or_else(|| {
            let path = std::env::var_os("PATH");
            super::run_flags::on_path(&["chromium", "chromium-browser"], path.as_deref())
        }),
        proxy_network: a.proxy_network,
        engine_wait: a.engine_wait,
        git_timeout: a.git_timeout,
        ci,
        trust_gate_off,
        selection,
        python_path: std::env::var_os("PYTHONPATH"),
        debug_panic_in_check: if cfg!(debug_assertions) {
            std::env::var("CCCI_DEBUG_PANIC_IN_CHECK").ok()
        } else {
            None
        },
    };
    Ok((config, notes))
}

/// `p` against the working directory (unchanged when it cannot be resolved).
fn absolute(p: PathBuf) -> PathBuf {
    std::path::absolute(&p).unwrap_or(p)
}
