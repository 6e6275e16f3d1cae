//! The resolved configuration of one run: everything the command line and the environment said,
//! decided once (`PYTHONPATH` for pytest children and the debug-only fault injection included). Below
//! it, the environment is read in four places only, each documented where it is: the coord tree's
//! location (`CoordPaths::resolve`: CCCI_COORD_DIR, XDG_CACHE_HOME, HOME, the grant dir and key), the
//! engine's address (DOCKER_HOST, as the docker CLI reads it), `PATH` when looking for `abra`, and
//! `HOME` for a recipe path starting with `~`.

use std::path::PathBuf;

use crate::spec::Tier;

/// Which deployer performs the ops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployerKind {
    /// The built-in stack deployer (through the engine API).
    Stack,
    /// The `abra` CLI.
    Abra {
        abra: Option<PathBuf>,
        server: String,
    },
}

impl DeployerKind {
    pub fn name(&self) -> &'static str {
        match self {
            DeployerKind::Stack => "stack",
            DeployerKind::Abra { .. } => "abra",
        }
    }
}

/// `--upgrade-from`: what install deploys before the upgrade tier upgrades it to head_ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeFrom {
    /// The newest release tag that is an ancestor of head_ref.
    Previous,
    /// The newest green run of the recipe on this host whose head is an ancestor of head_ref, else
    /// the previous release (the default).
    LastGreen,
    /// This commit or tag.
    Ref(String),
}

impl std::str::FromStr for UpgradeFrom {
    type Err = String;

    /// `previous`, `last-green`, or a commit/tag (checked against the checkout when the run starts).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "previous" => Ok(UpgradeFrom::Previous),
            "last-green" => Ok(UpgradeFrom::LastGreen),
            "" => Err("is empty (expected previous, last-green or a commit/tag)".into()),
            r if r.starts_with('-') => Err(format!(
                "`{r}` is not a commit or tag (expected previous, last-green or a commit/tag)"
            )),
            r => Ok(UpgradeFrom::Ref(r.to_string())),
        }
    }
}

/// `--screenshots`: whether install and upgrade end with a screenshot of the app's health page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ScreenshotMode {
    /// When Chromium is found (else each tier says it was not taken, and why).
    #[default]
    Auto,
    Off,
}

impl std::str::FromStr for ScreenshotMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "auto" => Ok(ScreenshotMode::Auto),
            "off" => Ok(ScreenshotMode::Off),
            other => Err(format!(
                "`{other}` is not a screenshot mode (expected auto or off)"
            )),
        }
    }
}

/// Which assertions run: positional arguments (name filters, paths, node ids), libtest's
/// skip/exact/ignored, pytest's `-k` and `-m`; and `-x`.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub keyword: Option<crate::discover::Keyword>,
    /// `-m`: over each trial's marks (tier, kind, tags).
    pub marks: Option<crate::discover::MarkExpr>,
    /// Positional arguments as typed. `prepare` resolves them into `targets` once the data dir and
    /// the recipe checkout are known (a path may name a file in either).
    pub positional: Vec<String>,
    /// The resolved positional arguments: a trial runs when it matches one of them (or there are none).
    pub targets: Vec<super::select::Target>,
    /// The working directory relative paths among `positional` are tried against first.
    pub cwd: Option<std::path::PathBuf>,
    /// `--maxfail=N` / `-x`: stop the assertions after this many failures; `None`: never.
    pub maxfail: Option<usize>,
    /// `-s` / `--capture=no`: show the output of every command run in the app (and of legacy pytest
    /// overlays) as it finishes.
    pub show_output: bool,
    /// `--lf` / `--ff`: rerun the assertions that failed in the recipe's last run (only / first).
    pub last_failed: LastFailed,
    pub collect_only: bool,
    pub verbose: bool,
    /// libtest's arguments (`--skip`, `--exact`, `--ignored`, `--format`, …). Its `filter` is a name
    /// filter beside `targets` (the command line puts positionals in `positional` instead).
    pub libtest: libtest_mimic::Arguments,
}

/// `--lf` / `--ff`, read against the ledger's record of the recipe's last run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LastFailed {
    #[default]
    Off,
    /// `--lf`: only the assertions that failed last time. With none, every selected assertion runs,
    /// or none with `--lfnf none`.
    Only { none_runs_all: bool },
    /// `--ff`: those first within their tier (tiers and ops keep their order), then the others.
    First,
}

/// Everything a run needs to know, resolved from the command line and environment.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub recipe: String,
    /// `--recipe-name`: the recipe's name when `TYPE` in `.env.sample` is not it.
    pub recipe_name: Option<String>,
    pub git_ref: Option<String>,
    pub pr: Option<u64>,
    pub stages: Vec<Tier>,
    pub deployer: DeployerKind,
    pub domain: Option<String>,
    pub skip_generic: bool,
    pub coord_dir: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub allowlist: Option<PathBuf>,
    pub recipe_base_url: String,
    pub junitxml: Option<PathBuf>,
    pub summary_md: Option<PathBuf>,
    pub artifacts: Option<PathBuf>,
    pub pause_after: Option<Tier>,
    /// `--upgrade-from` / `CCCI_UPGRADE_FROM`; `None`: recipe.yaml's `upgrade_base`, else last-green.
    pub upgrade_from: Option<UpgradeFrom>,
    pub create_proxy_network: bool,
    /// `--screenshots`: a screenshot of the app after install and upgrade (auto) or none (off).
    pub screenshots: ScreenshotMode,
    /// `--chromium`: the browser for screenshots; `None`: `chromium` or `chromium-browser` on PATH.
    pub chromium: Option<PathBuf>,
    /// The external network of the host's reverse proxy (`proxy`), created when missing.
    pub proxy_network: String,
    /// How long engine calls wait for an engine that stopped answering (an engine restart) before
    /// the run ends as an infrastructure failure.
    pub engine_wait: std::time::Duration,
    /// Deadline of each git call (clone, fetch) while preparing the checkout.
    pub git_timeout: std::time::Duration,
    /// The `CI` variable is set: skipping generic tests needs a grant; pausing is refused.
    pub ci: bool,
    /// The deprecated emergency off-switch `CCCI_TRUST_GATE_OFF=1` was used.
    pub trust_gate_off: bool,
    pub selection: Selection,
    /// `PYTHONPATH` of cc-ci's own environment: pytest children get it behind the harness's support dir.
    pub python_path: Option<std::ffi::OsString>,
    /// Debug builds only (`CCCI_DEBUG_PANIC_IN_CHECK`): the id of a check made to panic, so tests can
    /// prove a panicking check fails its trial and the run still tears down. Release builds ignore it.
    pub debug_panic_in_check: Option<String>,
}

/// A `STAGES` value that names something other than a tier, or no tier at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    #[error("unknown stage `{stage}` in STAGES={value:?} (expected a comma-separated subset of install,upgrade,backup,restore,custom)")]
    Unknown { stage: String, value: String },
    #[error("STAGES={value:?} names no stage (expected a comma-separated subset of install,upgrade,backup,restore,custom; leave it unset for every tier)")]
    Empty { value: String },
}

/// Parses `STAGES` (comma-separated tier names). Empty or absent means every tier, in order.
pub fn parse_stages(s: Option<&str>) -> Result<Vec<Tier>, StageError> {
    let s = s.map(str::trim).unwrap_or("");
    if s.is_empty() {
        return Ok(Tier::ALL.to_vec());
    }
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let t: Tier = part.parse().map_err(|_| StageError::Unknown {
            stage: part.to_string(),
            value: s.to_string(),
        })?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.is_empty() {
        return Err(StageError::Empty {
            value: s.to_string(),
        });
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrade_from_takes_two_words_or_a_ref_and_refuses_an_option() {
        assert_eq!("previous".parse(), Ok(UpgradeFrom::Previous));
        assert_eq!("last-green".parse(), Ok(UpgradeFrom::LastGreen));
        assert_eq!(
            "1.1.0+1.36.1".parse(),
            Ok(UpgradeFrom::Ref("1.1.0+1.36.1".into()))
        );
        assert!("--all".parse::<UpgradeFrom>().is_err());
        assert!(" ".parse::<UpgradeFrom>().is_err());
    }

    #[test]
    fn screenshot_mode_is_auto_or_off_and_nothing_else() {
        assert_eq!("auto".parse(), Ok(ScreenshotMode::Auto));
        assert_eq!(" off ".parse(), Ok(ScreenshotMode::Off));
        let e = "on".parse::<ScreenshotMode>().unwrap_err();
        assert!(e.contains("`on`") && e.contains("auto or off"), "{e}");
        assert!("".parse::<ScreenshotMode>().is_err());
    }

    #[test]
    fn empty_stages_mean_every_tier_in_order() {
        assert_eq!(parse_stages(None).unwrap(), Tier::ALL.to_vec());
        assert_eq!(parse_stages(Some(" ")).unwrap(), Tier::ALL.to_vec());
    }

    #[test]
    fn stages_are_put_in_tier_order_whatever_order_they_are_given_in() {
        assert_eq!(
            parse_stages(Some("restore, install,backup")).unwrap(),
            vec![Tier::Install, Tier::Backup, Tier::Restore]
        );
    }

    #[test]
    fn stages_of_only_commas_are_a_usage_error() {
        for s in [",,,", " , ", ","] {
            let e = parse_stages(Some(s)).unwrap_err();
            assert!(e.to_string().contains("names no stage"), "{s:?}: {e}");
        }
    }

    #[test]
    fn unknown_stage_names_the_stage_and_the_accepted_ones() {
        let e = parse_stages(Some("install,upgrad"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`upgrad`") && e.contains("install,upgrade,backup,restore"),
            "{e}"
        );
    }
}
