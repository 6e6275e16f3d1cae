//! A pipeline written for pytest runs unchanged: a pytest pipeline's habitual command lines, given to
//! real pytest (`python3 -m pytest`, installed by scripts/test.sh) on a generated mirror whose node ids
//! are cc-ci's trial names and whose markers are cc-ci's marks, and to `cc-ci run --co` on the specs,
//! select the same tests and exit with the same codes. pytest is the oracle; nothing here decides
//! what the right selection is.

use std::collections::BTreeSet;
use std::process::Output;

use crate::support::cli::text;
use crate::support::pytest_mirror::{node_of, py, Legacy, Mirror, Spec};

const SPECS: &[Spec] = &[
    Spec {
        file: "generic-tests/install.yaml",
        tier: "install",
        kind: "generic",
        tests: &[("converged", &[]), ("http_ok", &["http"])],
        failing: &[],
    },
    Spec {
        file: "generic-tests/upgrade.yaml",
        tier: "upgrade",
        kind: "generic",
        tests: &[("deployed_head", &[]), ("reconverged", &[])],
        failing: &[],
    },
    Spec {
        file: "generic-tests/backup.yaml",
        tier: "backup",
        kind: "generic",
        tests: &[("backup_exists", &[])],
        failing: &[],
    },
    Spec {
        file: "generic-tests/restore.yaml",
        tier: "restore",
        kind: "generic",
        tests: &[("healthy_again", &[]), ("http_served", &["http"])],
        failing: &[],
    },
    Spec {
        file: "overlays/hello/data.yaml",
        tier: "backup",
        kind: "overlay",
        tests: &[("seed_in_place", &["slow"])],
        failing: &[],
    },
    Spec {
        file: "overlays/hello/restore.yaml",
        tier: "restore",
        kind: "overlay",
        tests: &[("seed_survived", &["slow"]), ("index_unchanged", &[])],
        failing: &[],
    },
    Spec {
        file: "overlays/hello/site.yaml",
        tier: "custom",
        kind: "overlay",
        tests: &[("greeting", &["http"])],
        failing: &[],
    },
];

/// A legacy pytest overlay in the data dir: cc-ci collects it with pytest (tier from the file name, or
/// a `tier` marker) and `-m` sees its markers.
const LEGACY_DATA: &str = "import pytest\n\n\n@pytest.mark.slow\ndef test_one():\n    pass\n\n\n@pytest.mark.tier(\"restore\")\ndef test_two():\n    pass\n";
/// Its mirror: the same nodes with cc-ci's marks for them as markers (tier and kind beside its own).
const LEGACY_MIRROR: &str = "import pytest\n\n\n@pytest.mark.custom\n@pytest.mark.pytest\n@pytest.mark.slow\ndef test_one():\n    pass\n\n\n@pytest.mark.restore\n@pytest.mark.pytest\n@pytest.mark.tier(\"restore\")\ndef test_two():\n    pass\n";

const LEGACY: Legacy = Legacy {
    file: "overlays/hello/test_extra.py",
    data: LEGACY_DATA,
    mirror: LEGACY_MIRROR,
    markers: &["pytest", "tier"],
};

/// The specs and the legacy overlay, listed by cc-ci and collected by pytest.
pub fn twin() -> Mirror {
    Mirror::new(SPECS, &[LEGACY], false)
}

/// cc-ci's listed trial ids (`tier::file.yaml::name`) as the mirror's node ids (`file.py::name`).
pub fn listed(out: &Output) -> BTreeSet<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("::"))
        .map(node_of)
        .collect()
}

/// Runs `args` (with `--co`) through both and asserts the same exit code and, when both selected, the
/// same tests. Returns the selection.
fn same(t: &Mirror, args: &[&str]) -> BTreeSet<String> {
    same_out(t, args).1
}

/// Like [`same`], also returning cc-ci's output.
fn same_out(t: &Mirror, args: &[&str]) -> (Output, BTreeSet<String>) {
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
    (c, ours)
}

#[test]
fn keyword_expressions_select_what_pytest_selects() {
    let t = twin();
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
    let t = twin();
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
    let t = twin();
    for args in [&["-k", "nomatch"][..], &["-m", "Install"], &["-m", "inst"]] {
        let (out, picked) = same_out(&t, args);
        assert!(picked.is_empty());
        assert_eq!(out.status.code(), Some(5));
    }
    for args in [
        &["-k", "install and"][..],
        &["-k", "converged\n"],
        &["-k", "(seed"],
        &["-m", "a or"],
    ] {
        assert_eq!(same_out(&t, args).0.status.code(), Some(4));
    }
}

#[test]
fn positional_paths_and_node_ids_select_what_pytest_selects() {
    let t = twin();
    assert_eq!(same(&t, &["overlays/"]).len(), 6);
    assert_eq!(
        same(&t, &["overlays/hello/test_extra.py::test_two"]).len(),
        1
    );
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
        let (out, _) = same_out(&t, &[missing]);
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
    let t = twin();
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
    let t = twin();
    let (out, _) = same_out(&t, &["--frobnicate"]);
    assert_eq!(out.status.code(), Some(4));
    let (p, _) = t.pytest(&["--version"]);
    let c = t.cc_ci(&["--version"]);
    assert_eq!((c.status.code(), p.status.code()), (Some(0), Some(0)));
    let shown = String::from_utf8_lossy(&c.stdout);
    assert_eq!(shown.trim(), format!("cc-ci {}", env!("CARGO_PKG_VERSION")));
}
