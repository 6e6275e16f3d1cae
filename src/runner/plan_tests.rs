//! Planning without Docker: ops once and in order, filters never drop ops, not-applicable tiers,
//! overlay op overrides, generic skips.

use std::path::Path;

use crate::spec::{parse_meta, parse_spec, RecipeMeta, SpecFile, Tier};

use super::config::{parse_stages, Selection};
use super::plan::{
    build, InstallBase, NotApplicable, OpPlan, OverlaySpec, Plan, PlanInput, INSTALL_STEPS,
};

fn spec(path: &str, yaml: &str) -> SpecFile {
    parse_spec(Path::new(path), yaml).unwrap()
}

fn generic() -> Vec<SpecFile> {
    vec![
        spec("generic-tests/install.yaml", "tier: install\ntests:\n  - name: converged\n    converged: {}\n  - name: http\n    http: {}\n"),
        spec("generic-tests/upgrade.yaml", "tier: upgrade\ntests:\n  - name: deployed_head\n    deployed_head: {}\n"),
        spec("generic-tests/backup.yaml", "tier: backup\ntests:\n  - name: backup_exists\n    backup_exists: {}\n"),
        spec("generic-tests/restore.yaml", "tier: restore\ntests:\n  - name: converged\n    converged: {}\n"),
    ]
}

fn selection(args: &[&str], k: Option<&str>, x: bool) -> Selection {
    let mut argv = vec!["cc-ci"];
    argv.extend_from_slice(args);
    Selection {
        keyword: k.map(|k| crate::discover::Keyword::parse(k).unwrap()),
        maxfail: x.then_some(1),
        libtest: libtest_mimic::Arguments::from_iter(argv),
        ..Selection::default()
    }
}

struct Case {
    stages: Vec<Tier>,
    meta: RecipeMeta,
    generic: Vec<SpecFile>,
    overlays: Vec<OverlaySpec>,
    prev: Result<InstallBase, String>,
    sel: Selection,
    skip: Option<String>,
    install_steps: Option<std::path::PathBuf>,
    backup_capable: bool,
}

impl Case {
    fn new() -> Self {
        Self {
            stages: parse_stages(None).unwrap(),
            meta: RecipeMeta::default(),
            generic: generic(),
            overlays: Vec::new(),
            prev: Ok(InstallBase {
                rev: "1.1.0+1.36.1".into(),
                chaos: false,
            }),
            sel: selection(&[], None, false),
            skip: None,
            install_steps: None,
            backup_capable: true,
        }
    }

    fn plan(&self) -> Result<Plan, super::plan::PlanError> {
        build(&PlanInput {
            stages: &self.stages,
            meta: &self.meta,
            generic: &self.generic,
            overlays: &self.overlays,
            pytest: &[],
            skip_generic: self.skip.clone(),
            upgrade_base: self.prev.clone(),
            selection: &self.sel,
            install_steps: self.install_steps.clone(),
            backup_capable: self.backup_capable,
        })
    }
}

fn ops(p: &Plan) -> Vec<(Tier, String)> {
    p.tiers
        .iter()
        .filter(|t| t.op_runs())
        .map(|t| (t.tier, t.op.name().to_string()))
        .collect()
}

#[test]
fn every_op_runs_once_in_tier_order() {
    let p = Case::new().plan().unwrap();
    assert_eq!(
        ops(&p),
        vec![
            (Tier::Install, "deploy".into()),
            (Tier::Upgrade, "upgrade".into()),
            (Tier::Backup, "backup".into()),
            (Tier::Restore, "restore".into()),
        ]
    );
    assert!(matches!(
        &p.tier(Tier::Install).unwrap().op,
        OpPlan::Install { base: Some(b) } if b.rev == "1.1.0+1.36.1" && !b.chaos
    ));
}

#[test]
fn filters_select_assertions_but_never_drop_an_op() {
    let mut c = Case::new();
    c.sel = selection(&[], Some("restore"), false);
    let p = c.plan().unwrap();
    assert_eq!(ops(&p).len(), 4, "every op still runs");
    let ids: Vec<&str> = p.tests().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["restore::generic-tests/restore.yaml::converged"]);
    assert_eq!(p.tier(Tier::Install).unwrap().deselected, 2);
    c.sel = selection(&["no-such-test"], None, false);
    let p = c.plan().unwrap();
    assert_eq!(p.tests().count(), 0);
    assert_eq!(ops(&p).len(), 4);
}

#[test]
fn without_an_upgrade_base_upgrade_is_unsupported_and_install_deploys_the_head() {
    let mut c = Case::new();
    c.prev = Err("no green run; no release tag is an ancestor of head_ref".into());
    let p = c.plan().unwrap();
    let up = p.tier(Tier::Upgrade).unwrap();
    let NotApplicable { reason, declared } = up.not_applicable.clone().unwrap();
    assert_eq!(
        reason,
        "no green run; no release tag is an ancestor of head_ref"
    );
    assert!(!declared);
    assert!(matches!(
        p.tier(Tier::Install).unwrap().op,
        OpPlan::Install { base: None }
    ));
}

#[test]
fn the_upgrade_base_is_what_install_deploys() {
    let mut c = Case::new();
    let base = InstallBase {
        rev: "0123abcd".into(),
        chaos: true,
    };
    c.prev = Ok(base.clone());
    let p = c.plan().unwrap();
    assert!(
        matches!(&p.tier(Tier::Install).unwrap().op, OpPlan::Install { base: Some(b) } if *b == base)
    );
}

#[test]
fn install_deploys_the_head_with_chaos_when_upgrade_is_not_selected() {
    let mut c = Case::new();
    c.stages = parse_stages(Some("install,backup")).unwrap();
    let p = c.plan().unwrap();
    assert!(matches!(
        p.tier(Tier::Install).unwrap().op,
        OpPlan::Install { base: None }
    ));
    assert!(p.tier(Tier::Upgrade).is_none());
}

#[test]
fn restore_alone_still_takes_the_backup_it_needs_and_install_always_deploys() {
    let mut c = Case::new();
    c.stages = parse_stages(Some("restore")).unwrap();
    let p = c.plan().unwrap();
    let names: Vec<String> = ops(&p).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["deploy", "backup", "restore"]);
    assert!(!p.tier(Tier::Install).unwrap().selected);
    assert!(p.tier(Tier::Install).unwrap().tests.is_empty());
    assert!(p.tier(Tier::Backup).unwrap().tests.is_empty());
}

#[test]
fn declared_not_applicable_tiers_have_no_op_and_no_tests() {
    let mut c = Case::new();
    c.meta = parse_meta(
        Path::new("overlays/x/recipe.yaml"),
        "not_applicable:\n  backup: the app keeps no state\n",
    )
    .unwrap();
    let p = c.plan().unwrap();
    let b = p.tier(Tier::Backup).unwrap();
    assert_eq!(
        b.not_applicable,
        Some(NotApplicable {
            reason: "the app keeps no state".into(),
            declared: true
        })
    );
    assert!(!b.op_runs() && b.tests.is_empty());
}

#[test]
fn generic_skip_is_explicit_and_overlays_still_run() {
    let mut c = Case::new();
    c.skip = Some("--skip-generic".into());
    c.overlays = vec![OverlaySpec::shipped(spec(
        "overlays/x/a.yaml",
        "tier: install\ntests:\n  - name: mine\n    converged: {}\n",
    ))];
    let p = c.plan().unwrap();
    let ids: Vec<&str> = p.tests().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["install::overlays/x/a.yaml::mine"]);
    assert_eq!(
        p.tier(Tier::Install).unwrap().generic.to_string(),
        "skipped: --skip-generic"
    );
    assert_eq!(ops(&p).len(), 4, "skipping generic tests never skips an op");
}

#[test]
fn overlay_may_replace_an_op_but_never_the_install_and_only_once_per_tier() {
    let mut c = Case::new();
    let skip =
        "tier: backup\nop:\n  skip: dumps are external\ntests:\n  - name: t\n    converged: {}\n";
    c.overlays = vec![OverlaySpec::shipped(spec("overlays/x/b.yaml", skip))];
    let p = c.plan().unwrap();
    assert!(
        matches!(&p.tier(Tier::Backup).unwrap().op, OpPlan::Skipped { reason } if reason == "dumps are external")
    );
    c.overlays
        .push(OverlaySpec::shipped(spec("overlays/x/c.yaml", skip)));
    let e = c.plan().unwrap_err().to_string();
    assert!(e.contains("two overlays replace the backup op"), "{e}");
}

#[test]
fn repo_local_tests_depend_on_the_recipes_install_steps() {
    let mut c = Case::new();
    c.install_steps = Some("/tmp/checkout/install_steps.sh".into());
    c.overlays = vec![OverlaySpec::repo_local(spec(
        "repo-local/.cc-ci/a.yaml",
        "tier: install\ntests:\n  - name: local\n    converged: {}\n",
    ))];
    let p = c.plan().unwrap();
    let install = p.tier(Tier::Install).unwrap();
    assert_eq!(install.seeds[0].file, INSTALL_STEPS);
    let local = install.tests.iter().find(|t| t.name == "local").unwrap();
    assert_eq!(local.seed, Some(0));
    let generic = install
        .tests
        .iter()
        .find(|t| t.name == "converged")
        .unwrap();
    assert_eq!(
        generic.seed, None,
        "a failing custom set-up never fails a generic test"
    );
}

#[test]
fn without_a_backup_label_backup_and_restore_are_unsupported_with_the_reason() {
    let mut c = Case::new();
    c.backup_capable = false;
    let p = c.plan().unwrap();
    for t in [Tier::Backup, Tier::Restore] {
        let na = p.tier(t).unwrap().not_applicable.clone().unwrap();
        assert!(
            na.reason.contains("backupbot.backup=true") && !na.declared,
            "{na:?}"
        );
        assert!(p.tier(t).unwrap().tests.is_empty());
    }
    let wont: Vec<Tier> = p.will_not_run().into_iter().map(|(t, _)| t).collect();
    assert_eq!(wont, [Tier::Backup, Tier::Restore]);
}

#[test]
fn every_tier_that_will_not_run_has_a_reason_even_when_stages_leave_it_out() {
    let mut c = Case::new();
    c.stages = vec![Tier::Upgrade];
    c.prev = Err(crate::preflight::NO_RELEASE.into());
    let p = c.plan().unwrap();
    assert_eq!(p.tests().count(), 0);
    let wont = p.will_not_run();
    let reasons: Vec<(Tier, &str)> = wont.iter().map(|(t, r)| (*t, r.as_str())).collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons[0].0 == Tier::Upgrade && reasons[0].1.contains("no previous release"));
    assert!(
        reasons[1].1.contains("not selected (STAGES=upgrade)"),
        "{reasons:?}"
    );
}
