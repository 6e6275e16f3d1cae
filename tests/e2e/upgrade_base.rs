//! The upgrade base on the real engine, across runs sharing one ledger: with no green run the base is
//! the previous release; after a green run of main, a PR on top of main upgrades from main's commit; a
//! newer green run whose head is not an ancestor (a side branch) is passed over; `--upgrade-from
//! previous` overrides. Each base is named with its reason in the summary, results.json, the Markdown
//! comment and the ledger.

use crate::support::cli::text;
use crate::support::fixture::{commit_all, git};
use crate::support::run::RunFixture;

/// A run of install and upgrade at `git_ref` with `extra` flags; returns its results.json after
/// checking it passed and left nothing.
fn run(f: &RunFixture, git_ref: &str, extra: &[&str]) -> (serde_json::Value, String) {
    let md = f.dir.path().join("summary.md");
    let mut args = vec!["--stages", "install,upgrade", "--ref", git_ref];
    let md_s = md.display().to_string();
    args.extend(["--summary-md", &md_s]);
    args.extend(extra);
    let out = f.run(&args);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    f.assert_nothing_left();
    let r = f.results();
    let markdown = std::fs::read_to_string(&md).unwrap();
    (r, format!("{shown}\n--- summary.md ---\n{markdown}"))
}

fn short(sha: &str) -> &str {
    &sha[..8]
}

/// The `upgrade_base` ledger event of `run_id`.
fn ledger_base(f: &RunFixture, run_id: &str) -> serde_json::Value {
    let ledger = f.ledger_export();
    let line = ledger
        .lines()
        .find(|l| l.contains("\"kind\":\"upgrade_base\"") && l.contains(run_id))
        .unwrap_or_else(|| panic!("no upgrade_base event of {run_id}:\n{ledger}"));
    serde_json::from_str(line).unwrap()
}

#[test]
fn the_upgrade_base_is_the_last_green_ancestor_else_the_previous_release() {
    let f = RunFixture::new("base");
    let repo = &f.repo.path;
    let main = f.repo.head.clone();
    let release = git(repo, &["rev-parse", "1.1.0+1.36.1^{commit}"]);

    // 1. No green run yet: from the previous release.
    let (a, shown) = run(&f, &main, &[]);
    let base = &a["upgrade_base"];
    assert_eq!(base["from"], "previous_release", "{shown}");
    assert_eq!(base["tag"], "1.1.0+1.36.1", "{shown}");
    assert_eq!(base["commit"], release.as_str());
    assert_eq!(
        base["reason"],
        "no green run of hello on this host; the newest release tag that is an ancestor of head_ref"
    );
    assert!(
        shown.contains("  upgrade base      ")
            && shown.contains(&format!(
                "{} (previous release 1.1.0+1.36.1)",
                short(&release)
            )),
        "{shown}"
    );
    let run_a = a["run_id"].as_str().unwrap().to_string();
    assert_eq!(ledger_base(&f, &run_a)["outcome"], "previous_release");

    // 2. A side branch off the release: main's green run is not its ancestor.
    git(repo, &["checkout", "-q", "-b", "side", "1.1.0+1.36.1"]);
    std::fs::write(repo.join("README.md"), "a side branch\n").unwrap();
    let side = commit_all(repo, "side: a change beside main");
    git(repo, &["checkout", "-q", "main"]);
    let (b, shown) = run(&f, &side, &[]);
    assert_eq!(b["upgrade_base"]["from"], "previous_release", "{shown}");
    assert!(
        b["upgrade_base"]["reason"].as_str().unwrap().starts_with(
            "none of the 1 green run(s) of hello on this host has a head that is an ancestor"
        ),
        "{shown}"
    );

    // 3. A PR on top of main: main's green run is the base; the side branch's newer one is passed over.
    std::fs::write(repo.join("README.md"), "the PR\n").unwrap();
    let pr = commit_all(repo, "the PR on top of main");
    // `cc-ci check` shows the base a run would take, from the same ledger (read only).
    let check = |extra: &[&str]| {
        let out = crate::support::cli::cc_ci(f.dir.path())
            .args(["check", "--format", "json", "--ref", &pr, "--recipe"])
            .arg(repo)
            .arg("--coord-dir")
            .arg(&f.coord)
            .arg("--data-dir")
            .arg(&f.data)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let checked = check(&[]);
    assert_eq!(checked["upgrade_base"]["from"], "last_green", "{checked:#}");
    assert_eq!(checked["upgrade_base"]["commit"], main.as_str());
    assert_eq!(checked["upgrade_base"]["run_id"], run_a.as_str());
    let checked = check(&["--upgrade-from", "previous"]);
    assert_eq!(
        checked["upgrade_base"]["tag"], "1.1.0+1.36.1",
        "{checked:#}"
    );
    let (c, shown) = run(&f, &pr, &[]);
    let base = &c["upgrade_base"];
    assert_eq!(base["from"], "last_green", "{shown}");
    assert_eq!(base["commit"], main.as_str(), "{shown}");
    assert_eq!(base["run_id"], run_a.as_str(), "{shown}");
    assert!(
        base["reason"]
            .as_str()
            .unwrap()
            .ends_with("(1 newer green run(s) passed over: head not an ancestor)"),
        "{base}"
    );
    assert!(
        shown.contains(&format!(
            "  upgrade base      {} (last green run {run_a})",
            short(&main)
        )),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "**Upgrade base:** `{}` (last green run {run_a})",
            short(&main)
        )),
        "{shown}"
    );
    // Install deployed main's commit (a chaos deploy), the upgrade the PR head.
    let proof = &c["upgrade_proof"];
    assert_eq!(proof["chaos_version_before"], short(&main), "{shown}");
    assert_eq!(proof["chaos_version"], short(&pr), "{shown}");
    assert_eq!(proof["verdict"], "chaos-version matches head_ref");
    let ev = ledger_base(&f, c["run_id"].as_str().unwrap());
    assert_eq!(ev["outcome"], "last_green");
    assert_eq!(ev["data"]["commit"], main.as_str());

    // 4. `--upgrade-from previous` overrides the green runs.
    let (d, shown) = run(&f, &pr, &["--upgrade-from", "previous"]);
    assert_eq!(d["upgrade_base"]["from"], "previous_release", "{shown}");
    assert_eq!(d["upgrade_base"]["tag"], "1.1.0+1.36.1", "{shown}");
    assert!(
        d["upgrade_base"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("--upgrade-from previous: "),
        "{shown}"
    );
}
