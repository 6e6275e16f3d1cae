//! A cc-ci data dir and its pytest mirror, for holding `cc-ci run` against real pytest: each spec file
//! `X.yaml` becomes a module `X.py` whose functions are the spec's tests (failing where the spec's check
//! fails) and whose markers are cc-ci's marks for them (tier, kind, tags). pytest (`python3 -m pytest`,
//! installed by scripts/test.sh) runs the mirror with a small plugin that writes what it selected and
//! how each test ended; cc-ci runs the specs against the `hello` example recipe.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use super::cli::cc_ci;
use super::process::output_within;
use super::recipe_repo;

/// One spec file: its path in the data dir, tier, kind, and tests with their tags. The tests named in
/// `failing` fail at once (a file check of a path the app does not have; `assert False` in the
/// mirror); the others pass (`converged`; `pass`).
pub struct Spec {
    pub file: &'static str,
    pub tier: &'static str,
    pub kind: &'static str,
    pub tests: &'static [(&'static str, &'static [&'static str])],
    pub failing: &'static [&'static str],
}

/// A legacy pytest overlay: its path, its text in the data dir, and its mirror's text (the same nodes
/// with cc-ci's marks for them as markers).
pub struct Legacy {
    pub file: &'static str,
    pub data: &'static str,
    pub mirror: &'static str,
    /// Markers it uses besides the specs' marks (registered in the mirror's ini).
    pub markers: &'static [&'static str],
}

/// The data dir, the mirror beside it, the recipe and a coord tree, in one temporary directory.
pub struct Mirror {
    dir: tempfile::TempDir,
    pub data: PathBuf,
    pub mirror: PathBuf,
    pub recipe: PathBuf,
    pub coord: PathBuf,
}

/// Loaded with `-p mirror_plugin` from outside the mirror (a conftest.py would be collected as a test
/// module): writes the selected node ids and each test's outcome (`nodeid<TAB>passed|failed`).
const PLUGIN: &str = r#"import os

def pytest_collection_finish(session):
    out = os.environ.get('MIRROR_SELECTED')
    if out:
        with open(out, 'w') as f:
            for item in session.items:
                f.write(item.nodeid + '\n')

def pytest_runtest_logreport(report):
    out = os.environ.get('MIRROR_OUTCOMES')
    if out and (report.when == 'call' or report.failed):
        with open(out, 'a') as f:
            f.write(report.nodeid + '\t' + report.outcome + '\n')
"#;

impl Mirror {
    /// Writes `specs` and `legacy` into a data dir and the mirror. With `cache`, pytest keeps its
    /// cache (for `--lf`/`--ff`) inside the temporary directory.
    pub fn new(specs: &[Spec], legacy: &[Legacy], cache: bool) -> Mirror {
        assert!(
            Command::new("python3")
                .args(["-m", "pytest", "--version"])
                .output()
                .is_ok_and(|o| o.status.success()),
            "python3 -m pytest is missing: scripts/test.sh installs it (python3 -m pip install pytest)"
        );
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mirror = dir.path().join("mirror");
        let mut marks = BTreeSet::new();
        for s in specs {
            write(&data.join(s.file), &spec_yaml(s));
            write(&mirror.join(py(s.file)), &mirror_py(s));
            marks.extend([s.tier, s.kind]);
            marks.extend(s.tests.iter().flat_map(|(_, tags)| tags.iter().copied()));
        }
        for l in legacy {
            write(&data.join(l.file), l.data);
            write(&mirror.join(l.file), l.mirror);
            marks.extend(l.markers.iter().copied());
        }
        let markers: Vec<String> = marks.iter().map(|m| format!("    {m}")).collect();
        let cache_opt = if cache {
            format!("cache_dir = {}", dir.path().join("pytest-cache").display())
        } else {
            String::new()
        };
        let no_cache = if cache { "" } else { " -p no:cacheprovider" };
        write(
            &mirror.join("pytest.ini"),
            &format!(
                "[pytest]\npython_files = *.py\npython_functions = *\n{cache_opt}\naddopts = --import-mode=importlib{no_cache} -p mirror_plugin\nmarkers =\n{}\n",
                markers.join("\n")
            ),
        );
        write(&dir.path().join("plugin/mirror_plugin.py"), PLUGIN);
        let recipe = recipe_repo::build("hello", &dir.path().join("hello")).path;
        Mirror {
            data,
            mirror,
            recipe,
            coord: dir.path().join("coord"),
            dir,
        }
    }

    /// The temporary directory everything lives in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `cc-ci run ARGS` in the data dir, on the recipe, with this coord tree; killed after `limit`.
    pub fn cc_ci_within(&self, args: &[&str], limit: Duration) -> Output {
        let mut cmd = cc_ci(self.dir.path());
        cmd.current_dir(&self.data)
            .args(["run", "--recipe"])
            .arg(&self.recipe)
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--coord-dir")
            .arg(&self.coord)
            .args(args);
        output_within(&mut cmd, limit)
    }

    /// `cc-ci run ARGS` that deploys nothing (a listing, a refusal).
    pub fn cc_ci(&self, args: &[&str]) -> Output {
        self.cc_ci_within(args, Duration::from_secs(120))
    }

    /// `python3 -m pytest ARGS` in the mirror; the ids it selected (after deselection) or `None` when
    /// it stopped before selecting.
    pub fn pytest(&self, args: &[&str]) -> (Output, Option<BTreeSet<String>>) {
        let out_file = self.dir.path().join("pytest-selected.txt");
        let _ = std::fs::remove_file(&out_file);
        let _ = std::fs::remove_file(self.outcomes_file());
        let mut cmd = Command::new("python3");
        cmd.current_dir(&self.mirror)
            .env("MIRROR_SELECTED", &out_file)
            .env("MIRROR_OUTCOMES", self.outcomes_file())
            .env("PYTHONPATH", self.dir.path().join("plugin"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("PYTEST_ADDOPTS")
            .args(["-m", "pytest"])
            .args(args)
            .stdin(std::process::Stdio::null());
        let out = output_within(&mut cmd, Duration::from_secs(120));
        let ids = std::fs::read_to_string(&out_file)
            .ok()
            .map(|s| s.lines().map(str::to_string).collect());
        (out, ids)
    }

    fn outcomes_file(&self) -> PathBuf {
        self.dir.path().join("pytest-outcomes.txt")
    }

    /// How each test of pytest's last run ended, in the order they ran: `(node id, passed|failed)`.
    pub fn pytest_outcomes(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(self.outcomes_file())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(id, o)| (id.to_string(), o.to_string()))
            .collect()
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `generic-tests/install.yaml` → `generic-tests/install.py`.
pub fn py(arg: &str) -> String {
    arg.replace(".yaml", ".py")
}

/// A cc-ci trial id (`tier::file.yaml::name`) as the mirror's node id (`file.py::name`).
pub fn node_of(trial_id: &str) -> String {
    trial_id
        .split_once("::")
        .map(|(_, rest)| py(rest))
        .unwrap_or_else(|| trial_id.to_string())
}

fn spec_yaml(s: &Spec) -> String {
    let mut y = format!("tier: {}\ntests:\n", s.tier);
    for (name, tags) in s.tests {
        y.push_str(&format!("  - name: {name}\n"));
        if !tags.is_empty() {
            y.push_str(&format!("    tags: [{}]\n", tags.join(", ")));
        }
        if s.failing.contains(name) {
            y.push_str("    file: {service: app, path: /cc-ci-no-such-file}\n");
        } else {
            y.push_str("    converged: {}\n");
        }
    }
    y
}

fn mirror_py(s: &Spec) -> String {
    let mut p = String::from("import pytest\n");
    for (name, tags) in s.tests {
        p.push('\n');
        for m in [s.tier, s.kind].iter().chain(tags.iter()) {
            p.push_str(&format!("@pytest.mark.{m}\n"));
        }
        let body = if s.failing.contains(name) {
            "assert False"
        } else {
            "pass"
        };
        p.push_str(&format!("def {name}():\n    {body}\n"));
    }
    p
}
