//! When a repo-local grant use is spent, on the fake session (`session_fakes.rs`) with a real coord
//! tree: once, when the first repo-local file runs; never when the run stops before that; and a grant
//! used up in between keeps every repo-local file from running.

use std::path::Path;
use std::sync::Arc;

use crate::coord::{
    check_grant, list_grants, mint, provision, CoordPaths, GrantQuery, Ledger, MintRequest,
    ProvisionOptions,
};
use crate::exit::ExitClass;
use crate::report::{EventBus, EventKind};
use crate::spec::parse_spec;

use super::plan::OverlaySpec;
use super::session_fakes::{App, Harness};
use super::trust::{Admission, Pending, Record};

/// A provisioned coord tree under `dir` with one single-use `repo-local` grant for `hello`.
fn coord(dir: &Path) -> (CoordPaths, Arc<Ledger>, String) {
    let paths = CoordPaths::resolve(Some(&dir.join("coord"))).unwrap();
    provision(&paths, &ProvisionOptions::default()).unwrap();
    let ledger = Arc::new(Ledger::open(&paths).unwrap());
    let claims = mint(
        &paths,
        &ledger,
        &MintRequest {
            gate: "repo-local".into(),
            recipe: "hello".into(),
            pr: None,
            ttl: std::time::Duration::from_secs(3600),
            uses: 1,
            reason: "reviewed".into(),
            minter: "test".into(),
        },
    )
    .unwrap();
    (paths, ledger, claims.id)
}

/// Repo-local assertions in the install and custom tiers.
fn repo_local_specs() -> Vec<OverlaySpec> {
    let spec = |p: &str, y: &str| OverlaySpec::repo_local(parse_spec(Path::new(p), y).unwrap());
    vec![
        spec(
            "repo-local/.cc-ci/install.yaml",
            "tier: install\ntests:\n  - name: pr_install\n    healthy: {}\n",
        ),
        spec(
            "repo-local/.cc-ci/custom.yaml",
            "tier: custom\ntests:\n  - name: pr_custom\n    healthy: {}\n",
        ),
    ]
}

/// A run of the fake session whose repo-local files are admitted by `pending`; returns the harness
/// and where its coord tree is.
fn session(app: App, pending: impl Fn(&str) -> Pending) -> (Harness, CoordPaths, Arc<Ledger>) {
    let mut out = None;
    let h = Harness::build(
        &[],
        None,
        app,
        &repo_local_specs(),
        |dir, bus: Arc<EventBus>| {
            let (paths, ledger, id) = coord(dir);
            out = Some((paths.clone(), Arc::clone(&ledger)));
            let record = Record { paths, ledger, bus };
            Admission::new(
                pending(&id),
                "hello",
                None,
                "run-1",
                Vec::new(),
                Some(record),
            )
        },
    );
    let (paths, ledger) = out.unwrap();
    (h, paths, ledger)
}

fn used(paths: &CoordPaths) -> Option<u64> {
    list_grants(paths).unwrap()[0].used
}

/// The repo-local decisions the session emitted: (allowed, reason).
fn spends(h: &Harness) -> Vec<(bool, String)> {
    h.events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::GateDecided(g) => Some((g.allowed, g.reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_grant_use_is_spent_once_when_the_first_repo_local_assertion_runs() {
    let (h, paths, _) = session(App::default(), |id| Pending::Grant(id.to_string()));
    assert_eq!(used(&paths), Some(0), "nothing is spent before the session");
    assert_eq!(h.run(), ExitClass::Passed);
    let v = h.verdicts();
    assert_eq!(
        v["install::repo-local/.cc-ci/install.yaml::pr_install"],
        "passed"
    );
    assert_eq!(
        v["custom::repo-local/.cc-ci/custom.yaml::pr_custom"],
        "passed"
    );
    assert_eq!(
        used(&paths),
        Some(1),
        "two tiers of repo-local tests, one use"
    );
    let s = spends(&h);
    assert_eq!(s.len(), 1, "{s:?}");
    assert!(
        s[0].0
            && s[0]
                .1
                .contains("spent before the install tier's repo-local assertions"),
        "{s:?}"
    );
}

#[test]
fn a_run_whose_deploy_fails_before_any_repo_local_file_runs_spends_nothing() {
    let app = App {
        fail: Some("install"),
        ..App::default()
    };
    let (h, paths, _) = session(app, |id| Pending::Grant(id.to_string()));
    assert_eq!(h.run(), ExitClass::Failed);
    assert_eq!(used(&paths), Some(0));
    assert!(spends(&h).is_empty(), "{:?}", spends(&h));
}

#[test]
fn a_grant_used_up_before_the_first_use_keeps_every_repo_local_test_from_running() {
    let (h, paths, ledger) = session(App::default(), |id| Pending::Grant(id.to_string()));
    // Another run spends the only use between this run's preparation and its first repo-local file.
    let q = GrantQuery {
        gate: "repo-local".into(),
        recipe: "hello".into(),
        pr: None,
        run_id: Some("other-run".into()),
    };
    assert!(check_grant(&paths, &ledger, &q).unwrap().allowed);
    assert_eq!(h.run(), ExitClass::Failed);
    let v = h.verdicts();
    assert_eq!(
        v["install::repo-local/.cc-ci/install.yaml::pr_install"],
        "failed"
    );
    assert_eq!(
        v["custom::repo-local/.cc-ci/custom.yaml::pr_custom"],
        "failed"
    );
    assert_eq!(v["install::generic-tests/install.yaml::healthy"], "passed");
    let r = h.sh.bus.result();
    let failed = r.tiers[0]
        .tests
        .iter()
        .find(|t| t.id.ends_with("pr_install"))
        .unwrap();
    let detail = failed.outcome.detail().unwrap_or_default();
    assert!(
        detail.contains("trust gate") && detail.contains("used up"),
        "{detail}"
    );
    assert_eq!(used(&paths), Some(1), "the refused run spent nothing more");
    let s = spends(&h);
    assert!(s.len() == 1 && !s[0].0, "one deny, said once: {s:?}");
}

#[test]
fn the_off_switch_records_its_obligation_only_when_a_repo_local_file_runs() {
    let obligations = |paths: &CoordPaths| {
        let mut out = Vec::new();
        crate::coord::export(paths, &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"kind\":\"obligation\""))
            .count()
    };
    let failing = App {
        fail: Some("install"),
        ..App::default()
    };
    let (h, paths, _) = session(failing, |_| Pending::OffSwitch);
    assert_eq!(h.run(), ExitClass::Failed);
    assert_eq!(obligations(&paths), 0);
    let (h, paths, _) = session(App::default(), |_| Pending::OffSwitch);
    assert_eq!(h.run(), ExitClass::Passed);
    assert_eq!(obligations(&paths), 1);
}
