//! One stack, one live run. While a run owns a stack (same `--domain`), a second run of it refuses
//! with exit 4 before touching anything, naming the live run and its pid — whether it shares the coord
//! tree (the stack lock file says so) or not (the stack's services carry the live run's lock) — and
//! the first run passes, unharmed, and leaves nothing behind.

use std::process::Stdio;
use std::time::Instant;

use crate::support::cli::text;
use crate::support::run::RunFixture;
use crate::support::wait::{finish, wait_for_a_service};

#[test]
fn a_second_run_on_a_live_runs_stack_refuses_with_exit_4_and_the_first_run_passes() {
    let first = RunFixture::new("own");
    let mut same_coord = RunFixture::new("own2").with_coord(first.coord.clone());
    same_coord.domain = first.domain.clone();
    let mut other_coord = RunFixture::new("own3");
    other_coord.domain = first.domain.clone();
    let mut child = first
        .command(&["--stages", "install,upgrade"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    wait_for_a_service(&first.stack(), &mut child);
    let lock = first.coord.join("stacks").join(first.stack()).join("lock");
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    let run_id = info["run_id"].as_str().unwrap().to_string();
    for (second, how) in [
        (&same_coord, "same coord tree"),
        (&other_coord, "other coord tree"),
    ] {
        let start = Instant::now();
        let out = second.run(&["--stages", "install,upgrade"]);
        let took = start.elapsed();
        let t = text(&out);
        assert_eq!(out.status.code(), Some(4), "{how}: {t}");
        assert!(
            t.contains(&format!("live run {run_id} (pid {pid}")),
            "{how}: names the live run and its pid: {t}"
        );
        assert!(t.contains("nothing was touched"), "{how}: {t}");
        println!("{how}: refused in {took:?}");
    }
    let out = finish(child);
    assert_eq!(out.status.code(), Some(0), "the first run: {}", text(&out));
    let r = first.results();
    assert_eq!(r["deploy_count"], 1);
    assert_eq!(r["teardown"]["clean"], true, "{r:#}");
    first.assert_nothing_left();
}

#[test]
fn a_domain_pinned_in_recipe_yaml_is_the_runs_domain_and_its_stack_is_locked_like_any_other() {
    let f = RunFixture::new("pinned");
    let overlay = f.data.join("overlays").join("hello");
    std::fs::create_dir_all(&overlay).unwrap();
    let project = crate::support::recipe_repo::project_root();
    let meta = std::fs::read_to_string(project.join("overlays/hello/recipe.yaml")).unwrap();
    std::fs::write(
        overlay.join("recipe.yaml"),
        format!("{meta}domain: {}\n", f.domain),
    )
    .unwrap();
    let run = || {
        f.command_without_domain(f.repo.path.as_os_str(), &["--stages", "install"])
            .output()
            .unwrap()
    };
    let out = run();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    let r = f.results();
    assert_eq!(r["domain"], f.domain.as_str(), "{r:#}");
    assert_eq!(r["stack"], f.stack().as_str(), "{r:#}");
    f.assert_nothing_left();

    // A live run holds the pinned stack's lock: the pinned run refuses before touching anything.
    let run_dirs = || std::fs::read_dir(f.coord.join("runs")).unwrap().count();
    let before = run_dirs();
    let busy = cc_ci::docker::acquire_stack(&f.coord.join("stacks"), &f.stack(), "run-holding-it")
        .expect("take the pinned stack's lock");
    let out = run();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(4), "{t}");
    assert!(t.contains("run-holding-it"), "names the live run: {t}");
    assert_eq!(run_dirs(), before, "a refused run leaves no run dir");
    drop(busy);
}
