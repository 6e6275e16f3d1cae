use super::*;
use crate::recipe::HeadRefSource;

/// A recipe history: tag `1.0.0+1` ← `main1` ← `main2` (head), and a side branch off the tag.
struct Repo {
    _dir: tempfile::TempDir,
    checkout: Checkout,
    tag: String,
    main1: String,
    head: String,
    side: String,
}

use crate::recipe::testutil::sh;

fn repo() -> Repo {
    let d = tempfile::tempdir().unwrap();
    sh(
        d.path(),
        "git init -q -b main . && git config commit.gpgsign false && \
         git commit -q --allow-empty -m rel && git tag 1.0.0+1 && \
         git commit -q --allow-empty -m main1 && git commit -q --allow-empty -m main2 && \
         git checkout -q -b side 1.0.0+1 && git commit -q --allow-empty -m side && \
         git checkout -q main",
    );
    let rev = |r: &str| sh(d.path(), &format!("git rev-parse {r}"));
    let (tag, main1, head, side) = (rev("1.0.0+1"), rev("main~1"), rev("main"), rev("side"));
    Repo {
        checkout: Checkout {
            path: d.path().to_path_buf(),
            name: "hello".into(),
            head_ref: Some(head.clone()),
            head_ref_source: HeadRefSource::Head,
        },
        _dir: d,
        tag,
        main1,
        head,
        side,
    }
}

fn green(id: &str, head: &str) -> GreenRun {
    GreenRun {
        run_id: id.into(),
        head_ref: head.into(),
        ended: "2026-11-30T00:00:00Z".into(),
        seq: 1,
    }
}

fn choose_with(
    r: &Repo,
    asked: Option<UpgradeFrom>,
    recipe_yaml: Option<&str>,
    runs: Vec<GreenRun>,
    with_release: bool,
) -> Result<UpgradeBase, RunError> {
    let release = r.checkout.releases().unwrap().into_iter().next();
    let mut read = 0;
    let mut green = || {
        read += 1;
        Ok(runs.clone())
    };
    let b = choose(&mut BaseInput {
        asked: asked.as_ref(),
        recipe_yaml,
        recipe: "hello",
        checkout: &r.checkout,
        previous_release: release.as_ref().filter(|_| with_release),
        green: &mut green,
    });
    assert!(read <= 1, "the ledger is read at most once");
    b
}

#[test]
fn the_newest_green_ancestor_is_the_base_and_newer_side_runs_are_passed_over() {
    let r = repo();
    let runs = vec![green("side-run", &r.side), green("main-run", &r.main1)];
    let b = choose_with(&r, None, None, runs, true).unwrap();
    assert_eq!(b.from, BaseFrom::LastGreen);
    assert_eq!(b.commit.as_deref(), Some(r.main1.as_str()));
    assert_eq!(b.run_id.as_deref(), Some("main-run"));
    assert_eq!(b.tag, None);
    assert!(
        b.reason.contains("1 newer green run(s) passed over"),
        "{}",
        b.reason
    );
    assert_eq!(
        install_base(&b).unwrap(),
        InstallBase {
            rev: r.main1.clone(),
            chaos: true
        }
    );
}

#[test]
fn a_green_run_of_the_head_itself_or_a_side_branch_is_not_a_base() {
    let r = repo();
    let runs = vec![green("head-run", &r.head), green("side-run", &r.side)];
    let b = choose_with(&r, None, None, runs, true).unwrap();
    assert_eq!(b.from, BaseFrom::PreviousRelease);
    assert_eq!(b.tag.as_deref(), Some("1.0.0+1"));
    assert_eq!(b.commit.as_deref(), Some(r.tag.as_str()));
    assert!(
        b.reason
            .starts_with("none of the 2 green run(s) of hello on this host"),
        "{}",
        b.reason
    );
    assert_eq!(
        install_base(&b).unwrap(),
        InstallBase {
            rev: "1.0.0+1".into(),
            chaos: false
        }
    );
}

#[test]
fn without_green_runs_or_releases_there_is_no_base_and_the_reason_says_why() {
    let r = repo();
    let b = choose_with(&r, None, None, vec![], false).unwrap();
    assert_eq!(b.from, BaseFrom::None);
    assert_eq!(b.commit, None);
    assert_eq!(
        b.reason,
        "no previous release: no release tag is an ancestor of head_ref (no green run of hello on this host)"
    );
    assert!(install_base(&b).is_err());
}

#[test]
fn previous_overrides_the_green_runs_and_a_green_run_at_a_tag_installs_the_release() {
    let r = repo();
    let asked = Some(UpgradeFrom::Previous);
    let b = choose_with(&r, asked, None, vec![green("g", &r.main1)], true).unwrap();
    assert_eq!(b.from, BaseFrom::PreviousRelease);
    assert!(
        b.reason.starts_with("--upgrade-from previous: "),
        "{}",
        b.reason
    );
    let b = choose_with(&r, None, None, vec![green("g", &r.tag)], true).unwrap();
    assert_eq!(
        (b.from, b.tag.as_deref()),
        (BaseFrom::LastGreen, Some("1.0.0+1"))
    );
}

#[test]
fn an_explicit_ref_wins_over_recipe_yaml_which_wins_over_last_green() {
    let r = repo();
    let runs = vec![green("g", &r.main1)];
    let b = choose_with(&r, None, Some("1.0.0+1"), runs.clone(), true).unwrap();
    assert_eq!(b.from, BaseFrom::Ref);
    assert_eq!(b.reason, "recipe.yaml upgrade_base 1.0.0+1");
    let asked = Some(UpgradeFrom::Ref("side".into()));
    let b = choose_with(&r, asked, Some("1.0.0+1"), runs, true).unwrap();
    assert_eq!(b.commit.as_deref(), Some(r.side.as_str()));
    assert_eq!(
        b.reason,
        "--upgrade-from side (not an ancestor of head_ref)"
    );
}

#[test]
fn an_explicit_ref_that_is_missing_or_the_head_is_a_usage_error() {
    let r = repo();
    for (rev, why) in [
        ("0123abcd", "no such commit or tag"),
        ("main", "it is head_ref itself"),
    ] {
        let asked = Some(UpgradeFrom::Ref(rev.into()));
        let e = choose_with(&r, asked, None, vec![], true).unwrap_err();
        assert_eq!(e.class(), crate::exit::ExitClass::Usage);
        let msg = e.to_string();
        assert!(msg.starts_with(&format!("--upgrade-from {rev}: ")), "{msg}");
        assert!(msg.contains(why), "{msg}");
    }
}
