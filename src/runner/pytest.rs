//! Legacy pytest overlays: `test_*.py` files are collected with pytest (`--collect-only -q`), every
//! node becomes a trial in its tier (from the file name `test_<tier>*.py` or a `tier` marker), and
//! after the tier's op pytest runs them once; each trial reports its node's result, read from pytest's
//! JUnit XML. Without pytest those trials fail with how to install it — they are never dropped.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::child::Ended;

use crate::discover::Discovery;
use crate::spec::Tier;

use super::config::RunConfig;
use super::context::Live;
use super::plan::{PytestNode, TestBody, TierPlan};

/// What pytest said about one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeOutcome {
    /// Passed, or skipped by pytest.
    Passed,
    /// Failed or errored, with pytest's message (redacted).
    Failed(String),
}

/// Outcome of each pytest trial id, computed once per tier before the trials run.
pub type PytestOutcomes = BTreeMap<String, NodeOutcome>;

/// pytest could not be set up, run or read.
#[derive(Debug, thiserror::Error)]
pub enum PytestError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot run pytest: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("pytest could not collect {}: {output}", file.display())]
    Collect { file: PathBuf, output: String },
    #[error("{}: unknown tier marker `{marker}` on {node}", file.display())]
    Marker {
        file: PathBuf,
        marker: String,
        node: String,
    },
    #[error("pytest {what} did not finish within {}: killed with its process group", crate::duration::show(*deadline))]
    Timeout {
        what: String,
        deadline: std::time::Duration,
    },
    #[error("pytest wrote no JUnit XML ({0})")]
    NoJunit(#[source] std::io::Error),
    #[error("pytest's JUnit XML is unreadable: {0}")]
    Junit(String),
    #[error("pytest's JUnit XML holds no testsuite")]
    NoSuite,
}

const PLUGIN: &str = include_str!("pytest_support/ccci_plugin.py");
/// Deadlines of the pytest processes: `--version`, collecting one file, and running one file's nodes
/// of a tier (each killed with its process group when its deadline passes).
const VERSION_DEADLINE: Duration = Duration::from_secs(30);
const COLLECT_DEADLINE: Duration = Duration::from_secs(300);
const RUN_DEADLINE: Duration = Duration::from_secs(1800);
const NO_PYTEST: &str =
    "pytest is not installed: these legacy overlay tests cannot run (hint: python3 -m pip install pytest)";

/// True when `python3 -m pytest` works.
pub fn available() -> bool {
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "pytest", "--version"]);
    matches!(
        crate::child::output_within(&mut cmd, VERSION_DEADLINE),
        Ok(Ended::Exited(o)) if o.status.success()
    )
}

/// `cmd` under `deadline` in its own process group; a deadline passed is [`PytestError::Timeout`].
fn output(cmd: &mut Command, what: String, deadline: Duration) -> Result<Output, PytestError> {
    match crate::child::output_within(cmd, deadline).map_err(PytestError::Spawn)? {
        Ended::Exited(o) => Ok(o),
        Ended::TimedOut => Err(PytestError::Timeout { what, deadline }),
    }
}

/// Writes the plugin module into `dir` and returns the directory to put on PYTHONPATH.
fn plugin_dir(dir: &Path) -> Result<PathBuf, PytestError> {
    let d = dir.join("pytest-support");
    let io = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| PytestError::Io {
            action,
            path,
            source,
        }
    };
    std::fs::create_dir_all(&d).map_err(io("create", &d))?;
    let plugin = d.join("ccci_plugin.py");
    std::fs::write(&plugin, PLUGIN).map_err(io("write the pytest plugin", &plugin))?;
    Ok(d)
}

/// Collects the nodes of every pytest file the discovery found, and of the repo-local ones when
/// `repo_local` (the gate allowed them and the run may execute them: collecting imports the file).
pub fn collect(
    d: &Discovery,
    data: &Path,
    run_dir: &Path,
    repo_local: bool,
    python_path: Option<&OsStr>,
) -> Result<Vec<PytestNode>, PytestError> {
    let files: Vec<(PathBuf, String, Tier, bool)> = d
        .pytest
        .iter()
        .map(|f| {
            (
                absolute(data, &f.path),
                f.path.display().to_string(),
                f.tier,
                false,
            )
        })
        .chain(
            d.repo_local
                .pytest
                .iter()
                .filter(|_| repo_local && d.gate.allowed)
                .map(|f| {
                    (
                        f.path.clone(),
                        format!("repo-local/{}", file_name(&f.path)),
                        f.tier,
                        true,
                    )
                }),
        )
        .collect();
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let have_pytest = available();
    let support = plugin_dir(run_dir)?;
    let mut nodes = Vec::new();
    for (path, display, tier, repo_local) in files {
        if !have_pytest {
            nodes.push(PytestNode {
                tier,
                file: path,
                display_file: display,
                node: "(collect)".into(),
                repo_local,
                error: Some(NO_PYTEST.into()),
                markers: Vec::new(),
            });
            continue;
        }
        match collect_file(&path, &support, python_path) {
            Ok(found) => nodes.extend(found.into_iter().map(|c| PytestNode {
                tier: c.tier.unwrap_or(tier),
                file: path.clone(),
                display_file: display.clone(),
                node: c.node,
                repo_local,
                error: None,
                markers: c.markers,
            })),
            Err(e) => nodes.push(PytestNode {
                tier,
                file: path.clone(),
                display_file: display.clone(),
                node: "(collect)".into(),
                repo_local,
                error: Some(e.to_string()),
                markers: Vec::new(),
            }),
        }
    }
    Ok(nodes)
}

fn absolute(data: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        data.join(p)
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// `python3 -m pytest` on `file` with the harness's `support` dir first on `PYTHONPATH`, then
/// `inherited` (cc-ci's own `PYTHONPATH`, from the run's configuration).
fn pytest_cmd(file: &Path, support: &Path, inherited: Option<&OsStr>) -> Command {
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut cmd = Command::new("python3");
    let mut pythonpath = support.as_os_str().to_os_string();
    if let Some(p) = inherited.filter(|p| !p.is_empty()) {
        pythonpath.push(":");
        pythonpath.push(p);
    }
    cmd.current_dir(dir)
        .env("PYTHONPATH", pythonpath)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .args([
            "-m",
            "pytest",
            "-p",
            "ccci_plugin",
            "-p",
            "no:cacheprovider",
        ])
        .arg(format!("--rootdir={}", dir.display()))
        .stdin(std::process::Stdio::null());
    cmd
}

/// A collected node: its name (after `file::`), its `tier` marker if any, and the names of all its
/// markers (what `cc-ci run -m` selects by, as pytest's `-m` would).
struct Collected {
    node: String,
    tier: Option<Tier>,
    markers: Vec<String>,
}

/// The nodes of one file, as the plugin lists them (`nodeid<TAB>tier<TAB>marker,marker`).
fn collect_file(
    file: &Path,
    support: &Path,
    inherited: Option<&OsStr>,
) -> Result<Vec<Collected>, PytestError> {
    let out_file = support.join(format!("collect-{}.tsv", file_name(file)));
    let mut cmd = pytest_cmd(file, support, inherited);
    cmd.env("CCCI_PYTEST_COLLECT_OUT", &out_file)
        .args(["--collect-only", "-q"])
        .arg(file_name(file));
    let what = format!("collecting {}", file.display());
    let out = output(&mut cmd, what, COLLECT_DEADLINE)?;
    let listing = std::fs::read_to_string(&out_file).unwrap_or_default();
    if !out.status.success() && listing.is_empty() {
        return Err(PytestError::Collect {
            file: file.to_path_buf(),
            output: tail(&String::from_utf8_lossy(&out.stdout), 15),
        });
    }
    let mut nodes = Vec::new();
    for line in listing.lines() {
        let mut cols = line.split('\t');
        let nodeid = cols.next().unwrap_or(line);
        let marker = cols.next().unwrap_or("");
        let markers: Vec<String> = cols
            .next()
            .unwrap_or("")
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect();
        let node = nodeid.split_once("::").map(|(_, n)| n).unwrap_or(nodeid);
        let tier = if marker.is_empty() {
            None
        } else {
            Some(marker.parse().map_err(|_| PytestError::Marker {
                file: file.to_path_buf(),
                marker: marker.to_string(),
                node: node.to_string(),
            })?)
        };
        nodes.push(Collected {
            node: node.to_string(),
            tier,
            markers,
        });
    }
    Ok(nodes)
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs the tier's pytest nodes (one pytest per file; repo-local ones only when `repo_local`) and
/// returns each trial id's outcome.
pub fn run_tier(tp: &TierPlan, live: &Live, cfg: &RunConfig, repo_local: bool) -> PytestOutcomes {
    let mut by_file: BTreeMap<PathBuf, Vec<(&str, &str)>> = BTreeMap::new();
    let mut outcomes = PytestOutcomes::new();
    let runs =
        |t: &&super::plan::PlannedTest| repo_local || t.source != super::plan::Source::RepoLocal;
    for t in tp.tests.iter().filter(runs) {
        if let TestBody::Pytest { file, node, error } = &t.body {
            match error {
                Some(e) => {
                    outcomes.insert(t.id.clone(), NodeOutcome::Failed(e.clone()));
                }
                None => by_file.entry(file.clone()).or_default().push((&t.id, node)),
            }
        }
    }
    if by_file.is_empty() || !tp.selected {
        return outcomes;
    }
    let support = match plugin_dir(&live.app.run_dir) {
        Ok(s) => s,
        Err(e) => {
            for ids in by_file.values() {
                for (id, _) in ids {
                    outcomes.insert(id.to_string(), NodeOutcome::Failed(e.to_string()));
                }
            }
            return outcomes;
        }
    };
    for (i, (file, ids)) in by_file.iter().enumerate() {
        let xml = support.join(format!("junit-{}-{i}.xml", tp.tier));
        let _ = std::fs::remove_file(&xml);
        let mut cmd = pytest_cmd(file, &support, cfg.python_path.as_deref());
        context_env(&mut cmd, live, cfg, tp.tier);
        cmd.arg(format!("--junitxml={}", xml.display()))
            .args(["-q", "-o", "junit_family=xunit1"]);
        if live.echo.is_some() {
            cmd.arg("-s");
        }
        for (_, node) in ids {
            cmd.arg(format!("{}::{node}", file_name(file)));
        }
        let run = output(
            &mut cmd,
            format!("running {}", file_name(file)),
            RUN_DEADLINE,
        );
        if let (Some(bus), Ok(out)) = (&live.echo, &run) {
            // `-s`: what the overlay printed, as pytest would have shown it (the bus masks secrets).
            bus.emit(crate::report::EventKind::StepOutput {
                source: format!("pytest {}", file_name(file)),
                text: String::from_utf8_lossy(&out.stdout).trim_end().to_string(),
            });
        }
        let parsed = std::fs::read_to_string(&xml)
            .map_err(PytestError::NoJunit)
            .and_then(|x| super::pytest_junit::parse(&x, &file_name(file)));
        for (id, node) in ids {
            let r = match (&run, &parsed) {
                (Err(e), _) => NodeOutcome::Failed(e.to_string()),
                (_, Err(e)) => NodeOutcome::Failed(e.to_string()),
                (_, Ok(map)) => map.get(*node).cloned().unwrap_or_else(|| {
                    NodeOutcome::Failed(format!("pytest reported nothing for {node}"))
                }),
            };
            let r = match r {
                NodeOutcome::Failed(m) => NodeOutcome::Failed(live.app.redactor.redact(&m)),
                passed => passed,
            };
            outcomes.insert(id.to_string(), r);
        }
    }
    outcomes
}

fn context_env(cmd: &mut Command, live: &Live, cfg: &RunConfig, tier: Tier) {
    let bin = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("cc-ci"));
    cmd.env("CCCI_BIN", bin)
        .env("CCCI_RECIPE", &live.app.recipe)
        .env("CCCI_APP_DOMAIN", &live.app.domain)
        .env("CCCI_DOMAIN", &live.app.domain)
        .env("CCCI_STACK", &live.app.stack)
        .env("CCCI_TIER", tier.to_string())
        .env("CCCI_HEAD_REF", live.head_ref.clone().unwrap_or_default())
        .env("CCCI_RUN_ID", &live.app.run_id)
        .env("CCCI_RUN_DIR", &live.app.run_dir);
    if let Some(c) = &cfg.coord_dir {
        cmd.env("CCCI_COORD_DIR", c);
    }
}
