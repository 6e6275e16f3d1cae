//! The overlays this project ships for its fixture recipes (`overlays/<recipe>/` against
//! `examples/recipes/<recipe>/`) pass end to end on the real engine, and each one fails — on exactly
//! the trials that guard what was broken — when its recipe is broken on purpose by a pull request.
//! Everything else still passes and everything is torn down. Runs are kept to the tiers each point
//! needs.

use crate::support::fixture::ids;
use crate::support::run::RunFixture;
use crate::support::shipped::{
    assert_dbapp_restore_failed_naming_the_rows, break_dbapp_restore_hook, dbapp_overlay,
    ShippedRun,
};

const ALL_TIERS: &str = "install,upgrade,backup,restore";

// ---- custom-html: HTTP answer and content -------------------------------------------------------

fn custom_html_overlay() -> Vec<String> {
    ids(
        "custom-html",
        &[
            ("install", "site.yaml", "front_page"),
            ("install", "site.yaml", "robots_txt"),
            ("install", "site.yaml", "unknown_page_is_404"),
            ("install", "site.yaml", "index_on_the_volume"),
        ],
    )
}

#[test]
fn custom_html_overlay_passes_on_its_fixture() {
    let run = ShippedRun::run(RunFixture::shipped("custom-html", "ok"), "install", &[]);
    assert_eq!(run.code, Some(0), "{}", run.shown);
    assert_eq!(run.overlay_passed(), custom_html_overlay(), "{}", run.shown);
    assert!(run.failed.is_empty(), "{:?}\n{}", run.failed, run.shown);
    run.assert_deployed_once_and_torn_down();
}

#[test]
fn custom_html_overlay_fails_when_the_site_serves_the_wrong_content() {
    let f = RunFixture::shipped("custom-html", "bad");
    // The PR ships a default page instead of the site: still 200, wrong content.
    f.commit_head_change(
        "compose.yml",
        r#""<title>$$SITE_TITLE</title>" "<h1>$$SITE_TITLE</h1>""#,
        r#""<title>It works!</title>" "<h1>It works!</h1>""#,
    );
    let run = ShippedRun::run(f, "install", &[]);
    assert_eq!(run.code, Some(1), "{}", run.shown);
    assert_eq!(
        run.failed,
        ids(
            "custom-html",
            &[
                ("install", "site.yaml", "front_page"),
                ("install", "site.yaml", "index_on_the_volume"),
            ]
        ),
        "{}",
        run.shown
    );
    // The generic floor still sees a healthy 200, which is why the overlay is needed.
    assert!(
        run.passed
            .contains(&"install::generic-tests/install.yaml::http".to_string()),
        "{:?}",
        run.passed
    );
    run.assert_deployed_once_and_torn_down();
}

// ---- custom-html-nginx: real nginx; own content survives, the release page changes -----------

fn nginx_upgrade_content_tests() -> Vec<String> {
    ids(
        "custom-html-nginx",
        &[
            ("upgrade", "upgrade.yaml", "own_page_survived_upgrade"),
            ("upgrade", "upgrade.yaml", "own_page_still_served"),
        ],
    )
}

#[test]
fn custom_html_nginx_overlay_passes_through_all_four_tiers_on_nginx() {
    let run = ShippedRun::run(
        RunFixture::shipped("custom-html-nginx", "ok"),
        ALL_TIERS,
        &[],
    );
    assert_eq!(run.code, Some(0), "{}", run.shown);
    let mut expected = nginx_upgrade_content_tests();
    expected.extend(ids(
        "custom-html-nginx",
        &[
            ("install", "site.yaml", "front_page_from_the_fresh_volume"),
            ("install", "site.yaml", "release_page_from_the_recipe"),
            ("install", "site.yaml", "unknown_page_is_404"),
            ("install", "site.yaml", "access_log_on_stdout"),
            (
                "upgrade",
                "upgrade.yaml",
                "release_page_changed_with_the_upgrade",
            ),
            ("restore", "restore.yaml", "own_page_restored"),
            ("restore", "restore.yaml", "front_page_restored"),
        ],
    ));
    expected.sort();
    assert_eq!(run.overlay_passed(), expected, "{}", run.shown);
    assert!(run.failed.is_empty(), "{:?}\n{}", run.failed, run.shown);
    run.assert_deployed_once_and_torn_down();
}

#[test]
fn custom_html_nginx_overlay_fails_when_the_upgrade_moves_the_content_volume() {
    let f = RunFixture::shipped("custom-html-nginx", "bad");
    // The PR mounts the site where Debian's nginx keeps its own (a port mistake): the new release
    // still answers 200 with a default page, the site's own content is gone from what is served.
    f.commit_head_change(
        "compose.yml",
        "- content:/usr/share/nginx/html",
        "- content:/var/www/html",
    );
    let run = ShippedRun::run(f, "install,upgrade", &[]);
    assert_eq!(run.code, Some(1), "{}", run.shown);
    assert_eq!(run.failed, nginx_upgrade_content_tests(), "{}", run.shown);
    for id in [
        "upgrade::overlays/custom-html-nginx/upgrade.yaml::release_page_changed_with_the_upgrade",
        "upgrade::generic-tests/upgrade.yaml::deployed_head",
        "upgrade::generic-tests/upgrade.yaml::http",
    ] {
        assert!(run.passed.contains(&id.to_string()), "{id}: {}", run.shown);
    }
    run.assert_deployed_once_and_torn_down();
}

// ---- dbapp: real PostgreSQL; rows survive the upgrade, the dump holds them, restore brings them back

#[test]
fn dbapp_overlay_passes_through_all_four_tiers_on_postgresql() {
    let run = ShippedRun::run(RunFixture::shipped("dbapp", "ok"), ALL_TIERS, &[]);
    assert_eq!(run.code, Some(0), "{}", run.shown);
    assert_eq!(run.overlay_passed(), dbapp_overlay(), "{}", run.shown);
    assert!(run.failed.is_empty(), "{:?}\n{}", run.failed, run.shown);
    let proof = &run.fixture.results()["upgrade_proof"];
    assert_eq!(
        proof["chaos_version"].as_str(),
        Some(&run.fixture.repo.head[..8]),
        "{proof:#}"
    );
    run.assert_deployed_once_and_torn_down();
}

#[test]
fn dbapp_overlay_fails_naming_the_rows_when_the_restore_hook_does_nothing() {
    let f = RunFixture::shipped("dbapp", "bad");
    break_dbapp_restore_hook(&f);
    let run = ShippedRun::run(f, "install,backup,restore", &[]);
    assert_dbapp_restore_failed_naming_the_rows(&run);
    run.assert_deployed_once_and_torn_down();
}

// ---- hedgedoc-like: state that must survive the upgrade to the PR head -------------------------

fn hedgedoc_upgrade_marker_tests() -> Vec<String> {
    ids(
        "hedgedoc-like",
        &[
            ("upgrade", "notes.yaml", "marker_survived_upgrade"),
            ("upgrade", "notes.yaml", "marker_still_served"),
        ],
    )
}

#[test]
fn hedgedoc_like_overlay_passes_through_all_four_tiers() {
    let run = ShippedRun::run(
        RunFixture::shipped("hedgedoc-like", "ok"),
        "install,upgrade,backup,restore",
        &[],
    );
    assert_eq!(run.code, Some(0), "{}", run.shown);
    let mut expected = hedgedoc_upgrade_marker_tests();
    expected.extend(ids(
        "hedgedoc-like",
        &[
            ("upgrade", "notes.yaml", "runs_the_pr_head"),
            ("restore", "restore.yaml", "marker_survived_restore"),
        ],
    ));
    expected.sort();
    assert_eq!(run.overlay_passed(), expected, "{}", run.shown);
    assert!(run.failed.is_empty(), "{:?}\n{}", run.failed, run.shown);
    let proof = &run.fixture.results()["upgrade_proof"];
    assert_eq!(
        proof["chaos_version"].as_str(),
        Some(&run.fixture.repo.head[..8]),
        "{proof:#}"
    );
    run.assert_deployed_once_and_torn_down();
}

#[test]
fn hedgedoc_like_overlay_fails_when_the_upgrade_wipes_the_notes() {
    let f = RunFixture::shipped("hedgedoc-like", "bad");
    // The PR's migration drops the notes on start; the release installed first does not.
    f.commit_head_change(
        "compose.yml",
        r#"mkdir -p "$$data/notes""#,
        r#"rm -rf "$$data/notes" && mkdir -p "$$data/notes""#,
    );
    let run = ShippedRun::run(f, "install,upgrade", &[]);
    assert_eq!(run.code, Some(1), "{}", run.shown);
    assert_eq!(run.failed, hedgedoc_upgrade_marker_tests(), "{}", run.shown);
    // It is the PR head that runs, healthy: only the overlay sees the data loss.
    for id in [
        "upgrade::overlays/hedgedoc-like/notes.yaml::runs_the_pr_head",
        "upgrade::generic-tests/upgrade.yaml::deployed_head",
        "upgrade::generic-tests/upgrade.yaml::http",
    ] {
        assert!(run.passed.contains(&id.to_string()), "{id}: {}", run.shown);
    }
    run.assert_deployed_once_and_torn_down();
}
