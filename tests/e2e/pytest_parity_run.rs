//! The flags of a pytest pipeline that act on a real run, held against real pytest on a mirror of the
//! same tests (`support::pytest_mirror`): `-x` and `--maxfail` stop where pytest stops, `--lf` reruns
//! and `--ff` reorders what pytest does after the same failures (read here from the ledger, there from
//! pytest's cache), `--durations` shows the slowest; `-s` shows what ran in the app. Each run deploys
//! the `hello` example once on the engine (install tier only) and tears it down.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::support::cli::text;
use crate::support::pytest_mirror::{node_of, Mirror, Spec};
use crate::support::run::outcome_kind;

/// Six assertions of the install tier, three of them failing, in two files.
const SPECS: &[Spec] = &[
    Spec {
        file: "generic-tests/install.yaml",
        tier: "install",
        kind: "generic",
        tests: &[("converged", &[]), ("boom_one", &[])],
        failing: &["boom_one"],
    },
    Spec {
        file: "overlays/hello/checks.yaml",
        tier: "install",
        kind: "overlay",
        tests: &[
            ("ok_two", &[]),
            ("boom_two", &[]),
            ("boom_three", &[]),
            ("ok_three", &[]),
        ],
        failing: &["boom_two", "boom_three"],
    },
];

/// A run of cc-ci on the engine: `--stages install`, the artifacts in `<dir>/<name>`.
fn cc_run(m: &Mirror, name: &str, args: &[&str]) -> (Output, serde_json::Value) {
    let artifacts = m.dir().join(name);
    let a = artifacts.display().to_string();
    let mut all = vec!["--stages", "install", "--artifacts", &a];
    all.extend_from_slice(args);
    let out = m.cc_ci_within(&all, Duration::from_secs(600));
    let results = std::fs::read_to_string(artifacts.join("results.json"))
        .unwrap_or_else(|e| panic!("no results.json ({e}): {}", text(&out)));
    (out, serde_json::from_str(&results).unwrap())
}

/// Each trial of results.json as the mirror's node id, with `passed`, `failed` or `not_run`, in order.
fn outcomes(results: &serde_json::Value) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for t in results["tiers"].as_array().unwrap() {
        for test in t["tests"].as_array().unwrap() {
            let id = test["id"].as_str().unwrap();
            let kind = outcome_kind(&test["outcome"]).to_lowercase();
            v.push((node_of(id), kind.replace("notrun", "not_run")));
        }
    }
    v
}

/// cc-ci (given `args` and `--test-threads=1`, so that verdicts come in order) and pytest (given
/// `args`) end with the same code and the same verdicts; what pytest never ran (it stopped) cc-ci
/// reports as not run. Returns cc-ci's output and verdicts, in the order they came.
fn same_run(m: &Mirror, name: &str, args: &[&str]) -> (Output, Vec<(String, String)>) {
    let mut cc = vec!["--test-threads=1"];
    cc.extend_from_slice(args);
    let (c, results) = cc_run(m, name, &cc);
    let (p, selected) = m.pytest(args);
    assert_eq!(
        c.status.code(),
        p.status.code(),
        "{args:?}\ncc-ci {}\npytest {}",
        text(&c),
        text(&p)
    );
    let ours = outcomes(&results);
    let theirs: BTreeMap<String, String> = m.pytest_outcomes().into_iter().collect();
    let selected = selected.unwrap_or_default();
    for (node, outcome) in &ours {
        let expected = match theirs.get(node) {
            Some(o) => o.as_str(),
            None if selected.contains(node) => "not_run",
            None => "deselected",
        };
        assert_eq!(outcome, expected, "{args:?}: {node}\ncc-ci {}", text(&c));
    }
    assert_eq!(
        ours.len(),
        selected.len(),
        "{args:?}: {ours:?} vs {selected:?}"
    );
    (c, ours)
}

fn ran(v: &[(String, String)]) -> Vec<&str> {
    v.iter()
        .filter(|(_, o)| o != "not_run")
        .map(|(n, _)| n.rsplit("::").next().unwrap())
        .collect()
}

#[test]
fn x_and_maxfail_stop_where_pytest_stops() {
    let m = Mirror::new(SPECS, &[], false);
    let (out, v) = same_run(&m, "x", &["-x"]);
    assert_eq!(ran(&v), ["converged", "boom_one"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stopped after the first failure (-x)"),
        "{}",
        text(&out)
    );
    let (_, v) = same_run(&m, "maxfail2", &["--maxfail=2"]);
    assert_eq!(ran(&v), ["converged", "boom_one", "ok_two", "boom_two"]);
    // The last of -x and --maxfail wins, as in pytest.
    let (_, v) = same_run(&m, "x-then-3", &["-x", "--maxfail=3"]);
    assert_eq!(ran(&v).len(), 5, "{v:?}");
}

#[test]
fn lf_and_ff_rerun_what_pytest_reruns_and_durations_and_s_show_what_ran() {
    let m = Mirror::new(SPECS, &[], true);
    // The first run fails three assertions: the ledger (cc-ci) and the cache (pytest) remember them.
    let first = ["-s", "--durations=2"];
    let (out, v) = same_run(&m, "first", &first);
    assert_eq!(ran(&v).len(), 6);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("── slowest 2 durations ──"), "{stdout}");
    assert!(stdout.contains(" op       install::deploy"), "{stdout}");
    let (p, _) = m.pytest(&first);
    assert!(String::from_utf8_lossy(&p.stdout).contains("slowest 2 durations"));
    assert!(
        stdout.contains("exec in app: test -e /cc-ci-no-such-file:\n(exit 1)"),
        "-s shows each exec as it finishes: {stdout}"
    );

    // A listing reads the ledger too (read-only), and lists what pytest's cache would rerun.
    let listed = m.cc_ci(&["--co", "--lf", "--stages", "install"]);
    let (p, selected) = m.pytest(&["--co", "-q", "--lf"]);
    let ids: std::collections::BTreeSet<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|l| l.contains("::"))
        .map(node_of)
        .collect();
    assert_eq!(Some(ids), selected, "{}", text(&listed));
    assert_eq!((listed.status.code(), p.status.code()), (Some(0), Some(0)));
    let (out, v) = same_run(&m, "lf", &["--lf"]);
    assert_eq!(ran(&v), ["boom_one", "boom_two", "boom_three"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("run-last-failure: rerun previous 3 failures"),
        "{err}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("exec in app:"),
        "without -s no exec output is shown"
    );

    // --ff: the last failures first (here within the one tier, as pytest orders them overall).
    let (_, v) = same_run(&m, "ff", &["--ff"]);
    let order: Vec<&str> = ran(&v);
    let pytest_order: Vec<String> = m
        .pytest_outcomes()
        .into_iter()
        .map(|(n, _)| n.rsplit("::").next().unwrap().to_string())
        .collect();
    assert_eq!(order, pytest_order, "the same order as pytest --ff");
    assert_eq!(&order[..3], ["boom_one", "boom_two", "boom_three"]);
    assert!(Path::new(&m.coord).join("ledger.db").is_file());
}
