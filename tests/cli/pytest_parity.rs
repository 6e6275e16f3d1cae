//! A pipeline written for pytest runs unchanged: a pytest pipeline's habitual command lines, given to
//! real pytest (`python3 -m pytest`, installed by scripts/test.sh) on a generated mirror whose node ids
//! are cc-ci's trial names and whose markers are cc-ci's marks, and to `cc-ci run --co` on the specs,
//! select the same tests and exit with the same codes. pytest is the oracle; nothing here decides
//! what the right selection is.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::support::cli::{cc_ci, text};
use crate::support::process::output_within;
use crate::support::recipe_repo;

/// One spec file: its path in the data dir, tier, kind, and tests with their tags.
struct Spec {
    file: &'static str,
    tier: &'static str,
    kind: &'static str,
    tests: &'static [(&'static str, &'static [&'static str])],
}

const SPECS: &[Spec] = &[
    Spec {
        file: "generic-tests/install.yaml",
        tier: "install",
        kind: "generic",
        tests: &[("converged", &[]), ("http_ok", &["http"])],
    },
    Spec {
        file: "generic-tests/upgrade.yaml",
        tier: "upgrade",
        kind: "generic",
        tests: &[("deployed_head", &[]), ("reconverged", &[])],
    },
    Spec {
        file: "generic-tests/backup.yaml",
        tier: "backup",
        kind: "generic",
        tests: &[("backup_exists", &[])],
    },
    Spec {
        file: "generic-tests/restore.yaml",
        tier: "restore",
        kind: "generic",
        tests: &[("healthy_again", &[]), ("http_served", &["http"])],
    },
    Spec {
        file: "overlays/hello/data.yaml",
        tier: "backup",
        kind: "overlay",
        tests: &[("seed_in_place", &["slow"])],
    },
    Spec {
        file: "overlays/hello/restore.yaml",
        tier: "restore",
        kind: "overlay",
        tests: &[("seed_survived", &["slow"]), ("index_unchanged", &[])],
    },
    Spec {
        file: "overlays/hello/site.yaml",
        tier: "custom",
        kind: "overlay",
        tests: &[("greeting", &["http"])],
    },
];

/// A legacy pytest overlay in the data dir: cc-ci collects it with pytest (tier from the file name, or
/// a `tier` marker) and `-m` sees its markers.
const LEGACY_FILE: &str = "overlays/hello/test_extra.py";
const LEGACY_DATA: &str = "import pytest\n\n\n@pytest.mark.slow\ndef test_one():\n    pass\n\n\n@pytest.mark.tier(\"restore\")\ndef test_two():\n    pass\n";
/// Its mirror: the same nodes with cc-ci's marks for them as markers (tier and kind beside its own).
const LEGACY_MIRROR: &str = "import pytest\n\n\n@pytest.mark.custom\n@pytest.mark.pytest\n@pytest.mark.slow\ndef test_one():\n    pass\n\n\n@pytest.mark.restore\n@pytest.mark.pytest\n@pytest.mark.tier(\"restore\")\ndef test_two():\n    pass\n";

/// The data dir with the specs, the pytest mirror beside it, and the recipe.
pub struct Twin {
    dir: tempfile::TempDir,
    pub data: PathBuf,
    pub mirror: PathBuf,
    pub recipe: PathBuf,
}

impl Twin {
    pub fn new() -> Twin {
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
        for s in SPECS {
            write(&data.join(s.file), &spec_yaml(s));
            write(&mirror.join(py(s.file)), &mirror_py(s));
            marks.extend([s.tier, s.kind]);
            marks.extend(s.tests.iter().flat_map(|(_, tags)| tags.iter().copied()));
        }
        write(&data.join(LEGACY_FILE), LEGACY_DATA);
        write(&mirror.join(LEGACY_FILE), LEGACY_MIRROR);
        marks.extend(["pytest", "tier"]);
        let markers: Vec<String> = marks.iter().map(|m| format!("    {m}")).collect();
        write(
            &mirror.join("pytest.ini"),
            &format!(
                "[pytest]\npython_files = *.py\npython_functions = *\naddopts = --import-mode=importlib -p no:cacheprovider -p mirror_plugin\nmarkers =\n{}\n",
                markers.join("\n")
            ),
        );
        write(&dir.path().join("plugin/mirror_plugin.py"), PLUGIN);
        let recipe = recipe_repo::build("hello", &dir.path().join("hello")).path;
        Twin {
            data,
            mirror,
            recipe,
            dir,
        }
    }

    /// `cc-ci run --co ARGS` in the data dir.
    pub fn cc_ci(&self, args: &[&str]) -> Output {
        let mut cmd = cc_ci(self.dir.path());
        cmd.current_dir(&self.data)
            .args(["run", "--recipe"])
            .arg(&self.recipe)
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--coord-dir")
            .arg(self.dir.path().join("coord"))
            .args(args);
        output_within(&mut cmd, Duration::from_secs(120))
    }

    /// `python3 -m pytest ARGS` in the mirror; the ids it selected (written by the mirror's conftest
    /// after deselection) or `None` when it stopped before selecting.
    pub fn pytest(&self, args: &[&str]) -> (Output, Option<BTreeSet<String>>) {
        let out_file = self.dir.path().join("pytest-selected.txt");
        let _ = std::fs::remove_file(&out_file);
        let mut cmd = Command::new("python3");
        cmd.current_dir(&self.mirror)
            .env("MIRROR_SELECTED", &out_file)
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
}

/// Loaded with `-p mirror_plugin` from outside the mirror (a conftest.py would be collected as tests).
const PLUGIN: &str = "import os\n\ndef pytest_collection_finish(session):\n    out = os.environ.get('MIRROR_SELECTED')\n    if out:\n        with open(out, 'w') as f:\n            for item in session.items:\n                f.write(item.nodeid + '\\n')\n";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `generic-tests/install.yaml` → `generic-tests/install.py`.
pub fn py(arg: &str) -> String {
    arg.replace(".yaml", ".py")
}

fn spec_yaml(s: &Spec) -> String {
    let mut y = format!("tier: {}\ntests:\n", s.tier);
    for (name, tags) in s.tests {
        y.push_str(&format!("  - name: {name}\n"));
        if !tags.is_empty() {
            y.push_str(&format!("    tags: [{}]\n", tags.join(", ")));
        }
        y.push_str("    converged: {}\n");
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
        p.push_str(&format!("def {name}():\n    pass\n"));
    }
    p
}

/// cc-ci's listed trial ids (`tier::file.yaml::name`) as the mirror's node ids (`file.py::name`).
pub fn listed(out: &Output) -> BTreeSet<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once("::").map(|(_, rest)| py(rest)))
        .collect()
}

/// Runs `args` (with `--co`) through both and asserts the same exit code and, when both selected, the
/// same tests. Returns the selection.
fn same(t: &Twin, args: &[&str]) -> BTreeSet<String> {
    let mut cc = vec!["--co"];
    cc.extend_from_slice(args);
    let c = t.cc_ci(&cc);
    let py_args: Vec<String> = std::iter::once("--co".to_string())
        .chain(args.iter().map(|a| py(a)))
        .collect();
    let py_refs: Vec<&str> = py_args.iter().map(String::as_str).collect();
    let (p, ids) = t.pytest(&py_refs);
    assert_eq!(
        c.status.code(),
        p.status.code(),
        "{args:?}: cc-ci and pytest exit differently\ncc-ci {}\npytest {}",
        text(&c),
        text(&p)
    );
    let ours = listed(&c);
    // pytest may list what it collected before it refuses an expression: compare selections only
    // when both selected (0) or both selected nothing (5).
    if let (Some(theirs), Some(0 | 5)) = (ids, p.status.code()) {
        assert_eq!(
            ours,
            theirs,
            "{args:?}: different selections\ncc-ci {}",
            text(&c)
        );
    }
    ours
}

#[test]
fn keyword_expressions_select_what_pytest_selects() {
    let t = Twin::new();
    let all = same(&t, &[]);
    assert_eq!(
        all.len(),
        SPECS.iter().map(|s| s.tests.len()).sum::<usize>() + 2,
        "the specs' tests and the legacy overlay's two nodes"
    );
    for k in [
        "install",
        "not generic",
        "upgrade or restore and seed",
        "not not converged",
        "(install or restore) and not seed",
        "CONVERGED",
        "slow",
        "http and not install",
        "hello",
        "extra",
        "test_two or greeting",
    ] {
        let picked = same(&t, &["-k", k]);
        assert!(
            !picked.is_empty() && picked.len() < all.len(),
            "-k {k:?} should select some: {picked:?}"
        );
    }
}

#[test]
fn mark_expressions_over_tiers_kinds_and_tags_select_what_pytest_selects() {
    let t = Twin::new();
    for m in [
        "install",
        "not generic",
        "slow and not backup",
        "http or custom",
        "restore and overlay",
        "pytest",
        "slow and custom",
        "tier",
        "restore and not pytest",
    ] {
        assert!(!same(&t, &["-m", m]).is_empty(), "-m {m:?}");
    }
    assert!(same(&t, &["-m", "install", "-k", "http"]).len() == 1);
}

#[test]
fn nothing_selected_exits_5_and_a_bad_expression_exits_4_in_both() {
    let t = Twin::new();
    for args in [&["-k", "nomatch"][..], &["-m", "Install"], &["-m", "inst"]] {
        assert!(same(&t, args).is_empty());
        assert_eq!(t.cc_ci(&["--co", args[0], args[1]]).status.code(), Some(5));
    }
    for args in [
        &["-k", "install and"][..],
        &["-k", "converged\n"],
        &["-k", "(seed"],
        &["-m", "a or"],
    ] {
        same(&t, args);
        assert_eq!(t.cc_ci(&["--co", args[0], args[1]]).status.code(), Some(4));
    }
}

#[test]
fn positional_paths_and_node_ids_select_what_pytest_selects() {
    let t = Twin::new();
    assert_eq!(same(&t, &["overlays/"]).len(), 6);
    assert_eq!(same(&t, &["overlays/hello/test_extra.py::test_two"]).len(), 1);
    same(&t, &["overlays/hello", "-k", "seed"]);
    assert_eq!(same(&t, &["generic-tests/install.yaml"]).len(), 2);
    same(
        &t,
        &["generic-tests/restore.yaml", "overlays/hello/site.yaml"],
    );
    assert_eq!(
        same(&t, &["overlays/hello/restore.yaml::index_unchanged"]).len(),
        1
    );
    for missing in [
        "tests/",
        "generic-tests/nope.yaml",
        "overlays/hello/nope.yaml::x",
    ] {
        let out = t.cc_ci(&["--co", missing]);
        same(&t, &[missing]);
        assert_eq!(out.status.code(), Some(4), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains(&format!("file or directory not found: {missing}")),
            "{}",
            text(&out)
        );
    }
}

#[test]
fn habitual_flags_are_accepted_and_change_nothing_in_the_selection() {
    let t = Twin::new();
    let all = same(&t, &[]);
    for args in [
        &["-vv"][..],
        &["-v", "-v"],
        &["-qq"],
        &["-q", "-q"],
        &["-x", "-x"],
        &[
            "-rA",
            "--tb=short",
            "-p",
            "no:cacheprovider",
            "-W",
            "error",
            "-o",
            "junit_family=xunit2",
            "--strict-markers",
            "--import-mode=importlib",
        ],
        &["--disable-warnings", "-l", "--no-header", "--color=yes"],
    ] {
        assert_eq!(same(&t, args), all, "{args:?}");
    }
    assert_eq!(same(&t, &["-k", "install", "-k", "seed"]).len(), 2);
    let out = t.cc_ci(&["--co", "-rA", "--tb=short", "-k", "a", "-k", "seed"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the last one wins (-k \"seed\")"), "{err}");
    assert!(
        err.contains("ignored pytest options: -rA, --tb=short"),
        "{err}"
    );
}

#[test]
fn an_unknown_flag_exits_4_in_both_and_version_exits_0() {
    let t = Twin::new();
    same(&t, &["--frobnicate"]);
    let out = t.cc_ci(&["--frobnicate"]);
    assert_eq!(out.status.code(), Some(4));
    let (p, _) = t.pytest(&["--version"]);
    let c = t.cc_ci(&["--version"]);
    assert_eq!((c.status.code(), p.status.code()), (Some(0), Some(0)));
    let shown = String::from_utf8_lossy(&c.stdout);
    assert_eq!(shown.trim(), format!("cc-ci {}", env!("CARGO_PKG_VERSION")));
}
