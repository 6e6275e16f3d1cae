//! The trust gate end to end: repo-local files from the recipe repository run only when the recipe is
//! allowlisted or a repo-local grant covers it. Proven with a canary the repo-local script would create.

use crate::support::cli::text;
use crate::support::run::RunFixture;

/// Adds a repo-local install_steps.sh (creates the canary) and a repo-local spec to the recipe's head.
fn with_repo_local(f: &RunFixture, canary: &std::path::Path) {
    let repo = &f.repo.path;
    std::fs::create_dir_all(repo.join(".cc-ci")).unwrap();
    std::fs::write(
        repo.join("install_steps.sh"),
        format!("#!/bin/sh\ntouch '{}'\n", canary.display()),
    )
    .unwrap();
    std::fs::write(
        repo.join(".cc-ci/local.yaml"),
        "tier: install\ntests:\n  - name: repo_local_check\n    exec:\n      service: app\n      command: \"true\"\n",
    )
    .unwrap();
    crate::support::fixture::commit_all(repo, "repo-local tests");
}

fn ids(f: &RunFixture) -> Vec<String> {
    let r = f.results();
    r["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| {
            t["tests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn repo_local_files_of_a_recipe_not_on_the_allowlist_never_run() {
    let f = RunFixture::new("deny");
    let canary = f.dir.path().join("canary");
    with_repo_local(&f, &canary);
    let allow = f.dir.path().join("allow.txt");
    std::fs::write(&allow, "# approved recipes\nsome-other-recipe\n").unwrap();
    let out = f.run(&[
        "--stages",
        "install",
        "--allowlist",
        allow.to_str().unwrap(),
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        !canary.exists(),
        "the repo-local script ran although the recipe is not allowlisted"
    );
    assert!(
        !ids(&f).iter().any(|i| i.contains("repo_local_check")),
        "{:?}",
        ids(&f)
    );
    let gate = &f.results()["gate"];
    assert_eq!(gate[0]["allowed"], false, "{gate:#}");
    f.assert_nothing_left();
}

#[test]
fn repo_local_files_run_for_an_allowlisted_recipe() {
    let f = RunFixture::new("allow");
    let canary = f.dir.path().join("canary");
    with_repo_local(&f, &canary);
    let allow = f.dir.path().join("allow.txt");
    std::fs::write(&allow, "hello\n").unwrap();
    let out = f.run(&[
        "--stages",
        "install",
        "--allowlist",
        allow.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        canary.exists(),
        "the allowlisted recipe's install_steps.sh did not run"
    );
    assert_eq!(f.outcome("repo_local_check"), "passed");
    f.assert_nothing_left();
}

#[test]
fn repo_local_files_run_under_a_valid_grant_and_the_grant_check_is_recorded() {
    let f = RunFixture::new("grant");
    let canary = f.dir.path().join("canary");
    with_repo_local(&f, &canary);
    let allow = f.dir.path().join("empty-allow.txt");
    std::fs::write(&allow, "").unwrap();
    let prov = crate::support::cli::cc_ci(f.dir.path())
        .args(["coord", "provision", "--coord-dir"])
        .arg(&f.coord)
        .output()
        .unwrap();
    assert_eq!(prov.status.code(), Some(0), "{}", text(&prov));
    let mint = crate::support::cli::cc_ci(f.dir.path())
        .args([
            "grant",
            "mint",
            "--gate",
            "repo-local",
            "--recipe",
            "hello",
            "--ttl",
            "1h",
            "--reason",
            "e2e test",
            "--coord-dir",
        ])
        .arg(&f.coord)
        .output()
        .unwrap();
    assert_eq!(mint.status.code(), Some(0), "{}", text(&mint));
    let out = f.run(&[
        "--stages",
        "install",
        "--allowlist",
        allow.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        canary.exists(),
        "a granted recipe's install_steps.sh did not run"
    );
    let events = f.ledger_export();
    assert!(events.contains("grant_check"), "{events}");
    f.assert_nothing_left();
}

/// `coord provision`, then a `repo-local` grant of `uses` use(s) for `hello`; returns its id.
fn mint_repo_local(f: &RunFixture, uses: u32) -> String {
    let cc = || crate::support::cli::cc_ci(f.dir.path());
    let prov = cc()
        .args(["coord", "provision", "--coord-dir"])
        .arg(&f.coord)
        .output()
        .unwrap();
    assert_eq!(prov.status.code(), Some(0), "{}", text(&prov));
    let mint = cc()
        .args(["grant", "mint", "--gate", "repo-local", "--recipe", "hello"])
        .args([
            "--ttl",
            "1h",
            "--uses",
            &uses.to_string(),
            "--reason",
            "e2e",
        ])
        .arg("--coord-dir")
        .arg(&f.coord)
        .output()
        .unwrap();
    assert_eq!(mint.status.code(), Some(0), "{}", text(&mint));
    String::from_utf8_lossy(&mint.stdout).trim().to_string()
}

/// The grant's line of `cc-ci grant list` (state and `uses=N/M`).
fn grant_line(f: &RunFixture, id: &str) -> String {
    let out = crate::support::cli::cc_ci(f.dir.path())
        .args(["grant", "list", "--coord-dir"])
        .arg(&f.coord)
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout).into_owned();
    list.lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("{id} not in `grant list`: {list}"))
        .to_string()
}

/// The ledger's `gate_decision` outcomes and whether any grant check allowed.
fn gate_outcomes(f: &RunFixture) -> (Vec<String>, bool) {
    let events = f.ledger_export();
    let mut decisions = Vec::new();
    let mut allowed_check = false;
    for line in events.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        match v["kind"].as_str() {
            Some("gate_decision") => decisions.push(v["outcome"].as_str().unwrap().to_string()),
            Some("grant_check") => allowed_check |= v["outcome"] == "allow",
            _ => {}
        }
    }
    (decisions, allowed_check)
}

#[test]
fn a_run_that_stops_before_any_repo_local_file_runs_spends_no_grant_use_and_says_would_allow() {
    let f = RunFixture::new("unspent");
    let canary = f.dir.path().join("canary");
    with_repo_local(&f, &canary);
    // A pytest file that leaves a mark when it is imported: a listing must not collect (run) it.
    let imported = f.dir.path().join("imported");
    std::fs::write(
        f.repo.path.join("test_install.py"),
        format!(
            "open({:?}, 'w').close()\n\ndef test_install_pr():\n    pass\n",
            imported.display().to_string()
        ),
    )
    .unwrap();
    crate::support::fixture::commit_all(&f.repo.path, "a repo-local pytest file");
    let allow = f.dir.path().join("empty-allow.txt");
    std::fs::write(&allow, "").unwrap();
    let id = mint_repo_local(&f, 1);
    let allow_args = ["--allowlist", allow.to_str().unwrap()];

    // A typo in an overlay spec: refused (exit 4) before anything runs.
    let bad = f.data.join("overlays/hello/typo.yaml");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(&bad, "tier: install\ntests:\n  - name: t\n    helthy: {}\n").unwrap();
    let out = f.run(&[&["--stages", "install"][..], &allow_args].concat());
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    std::fs::remove_file(&bad).unwrap();

    // A listing says the decision and what it holds back, and runs no repo-local file.
    let out = f.run(&[&["--collect-only", "-v"][..], &allow_args].concat());
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("trust gate: would allow  repo-local"),
        "{shown}"
    );
    assert!(
        shown.contains("held back: repo-local/test_install.py"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("data dir {}", f.data.display())),
        "{shown}"
    );
    assert!(
        shown.contains("install::repo-local/.cc-ci/local.yaml::repo_local_check"),
        "{shown}"
    );

    // Filters that leave nothing: exit 5, and the gate's decision is printed all the same. (Without
    // the pytest file: collecting one runs it, and so spends the use — docs/operations.md.)
    std::fs::remove_file(f.repo.path.join("test_install.py")).unwrap();
    crate::support::fixture::commit_all(&f.repo.path, "no pytest file");
    let out = f.run(&[&["-k", "no_such_test"][..], &allow_args].concat());
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(5), "{shown}");
    assert!(shown.contains("would allow  repo-local"), "{shown}");

    assert!(
        !canary.exists() && !imported.exists(),
        "a repo-local file ran"
    );
    assert!(
        grant_line(&f, &id).contains("uses=0/1"),
        "{}",
        grant_line(&f, &id)
    );
    let (decisions, allowed_check) = gate_outcomes(&f);
    assert_eq!(
        decisions,
        ["would_allow", "would_allow"],
        "typo run, empty run"
    );
    assert!(!allowed_check, "a grant check allowed (and spent a use)");

    // The dashboard lists the refused and the empty run, with the outcome and why from their run_end.
    let site = f.dir.path().join("site");
    let o = crate::support::cli::cc_ci(f.dir.path())
        .args(["dashboard", "--out"])
        .arg(&site)
        .arg("--coord-dir")
        .arg(&f.coord)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    let rows: Vec<&str> = index.split("<tr class=\"ended\"").skip(1).collect();
    assert_eq!(rows.len(), 2, "newest first: empty, refused: {index}");
    assert!(
        rows[0].contains(">empty</span></td><td>nothing selected"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].contains(">refused</span>") && rows[1].contains("typo.yaml"),
        "{}",
        rows[1]
    );
    assert!(rows[1].contains(" UTC</time>"), "{}", rows[1]);
}

#[test]
fn a_grant_use_is_spent_when_the_first_repo_local_file_runs_and_only_then() {
    let f = RunFixture::new("spent");
    let repo = &f.repo.path;
    std::fs::create_dir_all(repo.join(".cc-ci")).unwrap();
    std::fs::write(
        repo.join(".cc-ci/local.yaml"),
        "tier: install\ntests:\n  - name: repo_local_check\n    exec:\n      service: app\n      command: \"true\"\n",
    )
    .unwrap();
    crate::support::fixture::commit_all(repo, "a repo-local test");
    let allow = f.dir.path().join("empty-allow.txt");
    std::fs::write(&allow, "").unwrap();
    let id = mint_repo_local(&f, 1);
    let allow_args = ["--allowlist", allow.to_str().unwrap()];

    // The filter deselects the only repo-local test: the app is deployed, no repo-local file runs.
    let out = f.run(&[&["--stages", "install", "-k", "generic"][..], &allow_args].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        grant_line(&f, &id).contains("uses=0/1"),
        "{}",
        grant_line(&f, &id)
    );

    let out = f.run(&[&["--stages", "install"][..], &allow_args].concat());
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert_eq!(f.outcome("repo_local_check"), "passed");
    assert!(
        grant_line(&f, &id).contains("uses=1/1"),
        "{}",
        grant_line(&f, &id)
    );
    assert!(shown.contains("would allow  repo-local"), "{shown}");
    let gate = &f.results()["gate"];
    assert_eq!(gate[0]["decision"], "allow", "{gate:#}");
    assert!(
        gate[0]["reason"].as_str().unwrap().contains("spent before"),
        "{gate:#}"
    );
    let (decisions, allowed_check) = gate_outcomes(&f);
    assert_eq!(decisions, ["would_allow", "would_allow", "allow"]);
    assert!(allowed_check);
    f.assert_nothing_left();
}
