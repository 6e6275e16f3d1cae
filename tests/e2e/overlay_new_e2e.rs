//! What `cc-ci overlay new` scaffolds is a working overlay: run as is against the example recipe on
//! the real engine, its example tests pass.

use crate::support::cli::{cc_ci, text};
use crate::support::run::RunFixture;

#[test]
fn scaffolded_overlay_runs_green_end_to_end() {
    let f = RunFixture::new("scaffold");
    let overlays = f.data.join("overlays");
    let made = cc_ci(f.dir.path())
        .current_dir(f.dir.path())
        .args(["overlay", "new", "hello", "--dir"])
        .arg(&overlays)
        .output()
        .unwrap();
    assert_eq!(made.status.code(), Some(0), "{}", text(&made));
    let smoke = overlays.join("hello/smoke.yaml");
    assert!(smoke.is_file(), "{}", text(&made));
    assert!(overlays.join("hello/recipe.yaml").is_file());

    let out = f.run(&["--stages", "install"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let r = f.results();
    let scaffolded: Vec<(String, String)> = r["tiers"][0]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["source"] == "overlay")
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                crate::support::run::outcome_kind(&t["outcome"]),
            )
        })
        .collect();
    assert_eq!(
        scaffolded,
        [
            (
                "install::overlays/hello/smoke.yaml::converged".to_string(),
                "passed".to_string()
            ),
            (
                "install::overlays/hello/smoke.yaml::exec_works".to_string(),
                "passed".to_string()
            ),
        ],
        "{shown}"
    );
    assert_eq!(r["deploy_count"], 1, "{shown}");
    f.assert_nothing_left();
}
