//! Unit tests of the trust gate and of discovery's use of it, on real files in temp folders.

use std::cell::Cell;
use std::path::Path;

use super::*;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// A project with one overlay for `hello` and a checkout holding a repo-local spec.
    fn new(allowlist: Option<&str>) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::create_dir_all(p.join("project/overlays/hello")).unwrap();
        std::fs::create_dir_all(p.join("project/generic-tests")).unwrap();
        std::fs::create_dir_all(p.join("checkout/.cc-ci")).unwrap();
        std::fs::write(
            p.join("project/generic-tests/install.yaml"),
            "tier: install\ntests:\n  - name: converged\n    converged: {}\n",
        )
        .unwrap();
        std::fs::write(
            p.join("project/overlays/hello/data.yaml"),
            "tier: backup\ntests:\n  - name: b\n    backup_exists: {}\n",
        )
        .unwrap();
        std::fs::write(
            p.join("checkout/.cc-ci/mine.yaml"),
            "tier: custom\ntests:\n  - name: pr_test\n    healthy: {}\n",
        )
        .unwrap();
        std::fs::write(p.join("checkout/test_install.py"), "def test_x(): pass\n").unwrap();
        if let Some(text) = allowlist {
            std::fs::write(p.join("allow.txt"), text).unwrap();
        }
        Fixture { dir }
    }

    fn run(&self, pr: Option<u64>, grant: crate::discover::GrantAnswer) -> (Discovery, usize) {
        let p = self.dir.path();
        let (project, checkout, allow) =
            (p.join("project"), p.join("checkout"), p.join("allow.txt"));
        let calls = Cell::new(0);
        let req = DiscoverRequest {
            project_root: &project,
            recipe: "hello",
            checkout: Some(&checkout),
            allowlist: &allow,
            pr,
        };
        let d = discover(&req, &mut || {
            calls.set(calls.get() + 1);
            grant.clone()
        });
        (d, calls.get())
    }
}

fn deny() -> crate::discover::GrantAnswer {
    Ok(Granted {
        allowed: false,
        reason: "no grant for gate repo-local".into(),
        grant_id: None,
    })
}

#[test]
fn allowlisted_recipe_reads_repo_local_files_without_asking_for_a_grant() {
    let f = Fixture::new(Some("# approved\nother\nhello\n"));
    let (d, calls) = f.run(Some(7), deny());
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    assert!(d.gate.allowed);
    assert_eq!(d.gate.via, GateVia::Allowlist);
    assert_eq!(
        calls, 0,
        "grant callback must not be called when allowlisted"
    );
    assert!(d.gate.reason.contains("line 3"), "{}", d.gate.reason);
    assert_eq!(d.repo_local.specs.len(), 1);
    assert_eq!(
        d.repo_local.specs[0].path,
        Path::new("repo-local/.cc-ci/mine.yaml")
    );
    assert_eq!(d.repo_local.pytest.len(), 1);
    assert_eq!(d.gate.files.len(), 2);
}

#[test]
fn grant_allows_when_not_allowlisted() {
    let f = Fixture::new(Some("other\n"));
    let (d, calls) = f.run(
        None,
        Ok(Granted {
            allowed: true,
            reason: "reviewed by ops".into(),
            grant_id: Some("g-123".into()),
        }),
    );
    assert_eq!(calls, 1);
    assert!(d.gate.allowed);
    assert_eq!(d.gate.via, GateVia::Grant("g-123".into()));
    assert!(
        d.gate.reason.contains("g-123") && d.gate.reason.contains("reviewed by ops"),
        "{}",
        d.gate.reason
    );
    assert_eq!(d.repo_local.specs.len(), 1);
}

#[test]
fn off_switch_is_a_grant_without_id() {
    let f = Fixture::new(None);
    let (d, _) = f.run(
        None,
        Ok(Granted {
            allowed: true,
            reason: "CCCI_REPO_LOCAL_OFF set".into(),
            grant_id: None,
        }),
    );
    assert_eq!(d.gate.via, GateVia::OffSwitch);
    assert!(d.gate.allowed);
}

#[test]
fn default_deny_ignores_repo_local_files() {
    let f = Fixture::new(Some("other\n"));
    let (d, calls) = f.run(None, deny());
    assert_eq!(calls, 1);
    assert!(!d.gate.allowed);
    assert_eq!(d.gate.via, GateVia::Denied);
    assert!(d.repo_local.specs.is_empty() && d.repo_local.pytest.is_empty());
    assert!(
        d.gate.reason.contains("not on the allowlist"),
        "{}",
        d.gate.reason
    );
    assert_eq!(
        d.gate.files.len(),
        2,
        "found files are still listed for the record"
    );
    assert_eq!(d.overlays.len(), 1, "project overlays are not gated");
}

#[test]
fn empty_allowlist_denies() {
    let f = Fixture::new(Some("# nobody yet\n\n"));
    let (d, _) = f.run(None, deny());
    assert!(!d.gate.allowed);
    assert!(
        d.gate.reason.contains("has no entries"),
        "{}",
        d.gate.reason
    );
}

#[test]
fn missing_allowlist_denies() {
    let f = Fixture::new(None);
    let (d, _) = f.run(None, deny());
    assert!(!d.gate.allowed);
    assert!(d.gate.reason.contains("is missing"), "{}", d.gate.reason);
}

#[test]
fn failing_grant_check_denies() {
    let f = Fixture::new(None);
    let (d, _) = f.run(None, Err("ledger unavailable".into()));
    assert!(!d.gate.allowed);
    assert!(d.gate.reason.contains("ledger unavailable"));
}

#[test]
fn pr_restricted_entry_allows_only_that_pr() {
    let f = Fixture::new(Some("hello#12 # only the migration PR\n"));
    assert!(f.run(Some(12), deny()).0.gate.allowed);
    assert!(!f.run(Some(13), deny()).0.gate.allowed);
    assert!(!f.run(None, deny()).0.gate.allowed);
}

#[test]
fn no_repo_local_files_means_no_grant_is_asked() {
    let f = Fixture::new(None);
    std::fs::remove_dir_all(f.dir.path().join("checkout/.cc-ci")).unwrap();
    std::fs::remove_file(f.dir.path().join("checkout/test_install.py")).unwrap();
    let (d, calls) = f.run(
        None,
        Ok(Granted {
            allowed: true,
            reason: "x".into(),
            grant_id: Some("g".into()),
        }),
    );
    assert_eq!(calls, 0);
    assert_eq!(d.gate.via, GateVia::NotNeeded);
}

#[test]
fn malformed_allowlist_lines_are_errors_with_positions() {
    let (entries, errors) = parse_allowlist(
        Path::new("allow.txt"),
        "hello\n  ../x\nfoo#bar\nok # fine\n",
    );
    assert_eq!(
        entries
            .iter()
            .map(|e| e.recipe.as_str())
            .collect::<Vec<_>>(),
        ["hello", "ok"]
    );
    assert_eq!(errors.len(), 2);
    assert_eq!((errors[0].line, errors[0].column), (2, 3));
    assert!(
        errors[1].to_string().starts_with("allow.txt:3:1: "),
        "{}",
        errors[1]
    );
}

#[test]
fn invalid_recipe_name_is_an_error_and_consults_nothing() {
    let f = Fixture::new(Some("hello\n"));
    let p = f.dir.path();
    let (project, checkout, allow) = (p.join("project"), p.join("checkout"), p.join("allow.txt"));
    let req = DiscoverRequest {
        project_root: &project,
        recipe: "../hello",
        checkout: Some(&checkout),
        allowlist: &allow,
        pr: None,
    };
    let d = discover(&req, &mut || panic!("grant must not be asked"));
    assert_eq!(d.errors.len(), 1);
    assert!(!d.gate.allowed && d.generic.is_empty());
}
