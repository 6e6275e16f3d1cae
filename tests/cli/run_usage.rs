//! `cc-ci run` before anything is deployed, through the real binary and without the engine: bad
//! input exits 4 naming what is wrong, a listing writes nothing to the coord tree (not even the recipe
//! cache) and refuses in CI as a run would, and a git remote that never answers is cut off by its
//! deadline or by SIGTERM/SIGINT (exit 2) without leaving a git process behind.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::support::cli::{cc_ci, text};
use crate::support::process::output_within;
use crate::support::recipe_repo::{self, project_root};

/// A temporary home, a recipe repository, a data dir with the generic tests and a coord base.
struct Fix {
    dir: tempfile::TempDir,
    recipe: PathBuf,
    data: PathBuf,
    coord: PathBuf,
}

impl Fix {
    fn new() -> Fix {
        let dir = tempfile::tempdir().unwrap();
        let recipe = recipe_repo::build("hello", &dir.path().join("hello")).path;
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("overlays")).unwrap();
        std::fs::create_dir_all(data.join("generic-tests")).unwrap();
        for e in std::fs::read_dir(project_root().join("generic-tests")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), data.join("generic-tests").join(e.file_name())).unwrap();
        }
        let coord = dir.path().join("coord");
        Fix {
            dir,
            recipe,
            data,
            coord,
        }
    }

    fn cmd(&self, recipe: &str, args: &[&str]) -> Command {
        let mut c = cc_ci(self.dir.path());
        c.args(["run", "--recipe", recipe, "--coord-dir"])
            .arg(&self.coord)
            .args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        let recipe = self.recipe.to_string_lossy().into_owned();
        output_within(&mut self.cmd(&recipe, args), Duration::from_secs(120))
    }
}

fn expect(out: &Output, code: i32, needle: &str) {
    assert_eq!(out.status.code(), Some(code), "{}", text(out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(needle),
        "stderr lacks {needle:?}: {}",
        text(out)
    );
}

#[test]
fn a_data_dir_that_is_missing_a_file_or_without_generic_tests_exits_4_naming_it() {
    let f = Fix::new();
    let missing = f.dir.path().join("no-such-dir");
    let file = f.dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let bare = f.dir.path().join("bare");
    std::fs::create_dir_all(bare.join("overlays")).unwrap();
    for (dir, why) in [
        (&missing, "No such file"),
        (&file, "is not a directory"),
        (&bare, "has no generic-tests/ folder"),
    ] {
        let d = dir.to_string_lossy().into_owned();
        let out = f.run(&["--list", "--data-dir", &d]);
        expect(&out, 4, &d);
        expect(&out, 4, why);
    }
}

#[test]
fn an_empty_generic_tests_folder_is_refused_rather_than_listing_nothing() {
    let f = Fix::new();
    for e in std::fs::read_dir(f.data.join("generic-tests")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let d = f.data.to_string_lossy().into_owned();
    let out = f.run(&["--list", "--data-dir", &d]);
    expect(&out, 4, "holds no generic test specs");
}

#[test]
fn stages_of_only_commas_conflicting_ignore_flags_and_zero_threads_are_usage_errors() {
    let f = Fix::new();
    let d = f.data.to_string_lossy().into_owned();
    let cases: [(&[&str], &str); 3] = [
        (&["--stages", ",,,"], "names no stage"),
        (&["--ignored", "--include-ignored"], "conflict"),
        (&["--test-threads", "0"], "--test-threads 0"),
    ];
    for (args, why) in cases {
        let mut all = vec!["--list", "--data-dir", &d];
        all.extend_from_slice(args);
        expect(&f.run(&all), 4, why);
    }
}

#[test]
fn git_timeouts_out_of_bounds_exit_4_naming_the_limit() {
    let f = Fix::new();
    expect(
        &f.run(&["--list", "--git-timeout", "0s"]),
        4,
        "minimum of 1s",
    );
    expect(
        &f.run(&["--list", "--git-timeout", "99999999999h"]),
        4,
        "limit of 1h",
    );
}

#[test]
fn listing_a_url_recipe_writes_nothing_under_the_coord_tree() {
    let f = Fix::new();
    let url = format!("file://{}", f.recipe.display());
    let d = f.data.to_string_lossy().into_owned();
    let out = output_within(
        &mut f.cmd(&url, &["--list", "--data-dir", &d]),
        Duration::from_secs(120),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("install::generic-tests/install.yaml"),
        "{}",
        text(&out)
    );
    assert!(!f.coord.exists(), "a listing created {}", f.coord.display());
}

#[test]
fn a_listing_in_ci_that_skips_generic_tests_without_a_grant_refuses_as_a_run_would() {
    let f = Fix::new();
    // The shipped overlay, so that something is left to list without the generic tests.
    let overlay = f.data.join("overlays/hello");
    std::fs::create_dir_all(&overlay).unwrap();
    for e in std::fs::read_dir(project_root().join("overlays/hello")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), overlay.join(e.file_name())).unwrap();
    }
    let d = f.data.to_string_lossy().into_owned();
    let recipe = f.recipe.to_string_lossy().into_owned();
    let mut cmd = f.cmd(&recipe, &["--list", "--skip-generic", "--data-dir", &d]);
    cmd.env("CI", "1");
    let out = output_within(&mut cmd, Duration::from_secs(120));
    expect(&out, 4, "a run would refuse to start");
    expect(
        &out,
        4,
        "cc-ci grant mint --gate skip-generic --recipe hello",
    );
}

/// A git:// remote on 127.0.0.1 that accepts and never answers.
fn silent_remote() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "git://127.0.0.1:{}/hello.git",
        l.local_addr().unwrap().port()
    );
    (l, url)
}

/// Accepts the client's connection and waits until every process holding it has closed it.
fn closed_by_client(l: &TcpListener) -> bool {
    let (mut conn, _) = l.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = Vec::new();
    conn.read_to_end(&mut buf).is_ok()
}

fn no_partial_cache(root: &Path) {
    let cache = root.join("cache");
    assert!(!cache.exists(), "a listing wrote {}", cache.display());
}

#[test]
fn a_silent_remote_is_cut_off_by_the_git_deadline() {
    let f = Fix::new();
    let (l, url) = silent_remote();
    let d = f.data.to_string_lossy().into_owned();
    let mut cmd = f.cmd(&url, &["--list", "--data-dir", &d, "--git-timeout", "2s"]);
    let out = output_within(&mut cmd, Duration::from_secs(60));
    expect(&out, 3, "did not finish within 2s");
    assert!(closed_by_client(&l), "git still holds the connection");
    no_partial_cache(&f.coord);
}

#[test]
fn sigterm_or_sigint_during_a_listings_clone_exits_2_and_kills_git() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let f = Fix::new();
        let (l, url) = silent_remote();
        let d = f.data.to_string_lossy().into_owned();
        let mut child = f
            .cmd(&url, &["--list", "--data-dir", &d])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The clone is under way once the remote has a connection.
        let (mut conn, _) = l.accept().unwrap();
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, sig) };
        let out = output_of(&mut child, Duration::from_secs(60));
        expect(&out, 2, "interrupted");
        conn.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut buf = Vec::new();
        assert!(
            conn.read_to_end(&mut buf).is_ok(),
            "signal {sig}: git still holds the connection"
        );
        no_partial_cache(&f.coord);
    }
}

/// Waits for a spawned child within `limit` (killing it and failing the test otherwise).
fn output_of(child: &mut std::process::Child, limit: Duration) -> Output {
    use wait_timeout::ChildExt;
    let status = match child.wait_timeout(limit).unwrap() {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cc-ci did not exit within {limit:?} of the signal");
        }
    };
    let mut stderr = Vec::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_end(&mut stderr);
    }
    Output {
        status,
        stdout: Vec::new(),
        stderr,
    }
}

#[test]
fn a_refused_run_prints_a_checkpoint_that_verify_accepts() {
    let f = Fix::new();
    let overlay = f.data.join("overlays/hello");
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::write(overlay.join("bad.yaml"), "tier: install\ntests: nope\n").unwrap();
    let d = f.data.to_string_lossy().into_owned();
    let out = f.run(&["--data-dir", &d]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let cp = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ledger checkpoint "))
        .unwrap_or_else(|| panic!("no checkpoint line: {}", text(&out)))
        .to_string();
    let home = f.dir.path();
    let coord = f.coord.to_string_lossy().into_owned();
    let export = output_within(
        cc_ci(home).args(["ledger", "export", "--coord-dir", &coord]),
        Duration::from_secs(60),
    );
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&export.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The checkpoint is the head the run ended on; its run_end event, the last, records it.
    let (before, last) = (&events[events.len() - 2], &events[events.len() - 1]);
    assert_eq!(last["kind"], "run_end");
    assert_eq!(last["data"]["checkpoint"], cp.as_str());
    assert_eq!(
        cp,
        format!("{}:{}", before["seq"], before["hash"].as_str().unwrap())
    );
    let verify = output_within(
        cc_ci(home).args([
            "ledger",
            "verify",
            "--coord-dir",
            &coord,
            "--checkpoint",
            &cp,
        ]),
        Duration::from_secs(60),
    );
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
}

#[test]
fn run_help_names_the_command_says_what_it_does_and_hides_libtest_flags_that_mean_nothing_here() {
    let d = tempfile::tempdir().unwrap();
    let out = output_within(
        cc_ci(d.path()).args(["run", "--help"]),
        Duration::from_secs(30),
    );
    let help = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(help.contains("Usage: cc-ci run "), "{help}");
    assert!(
        help.lines().next().is_some_and(|l| !l.trim().is_empty()),
        "a description first: {help}"
    );
    for gone in ["--bench", "--show-output", "--logfile", "-Z", "Usefull"] {
        assert!(
            !help.contains(gone),
            "run --help still shows {gone}: {help}"
        );
    }
    assert!(help.contains("--format <pretty|terse|json>"), "{help}");
    // Hidden is not removed: a `cargo test` habit still works.
    let f = Fix::new();
    let data = f.data.to_string_lossy().into_owned();
    let listed = f.run(&["--data-dir", &data, "--list", "--show-output", "--bench"]);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed));
    let bad = f.run(&["--data-dir", &data, "--list", "--format", "xml"]);
    expect(&bad, 4, "expected pretty, terse or json");
}

#[test]
fn without_a_data_dir_a_run_from_a_recipe_checkout_is_refused_never_given_the_source_trees_overlays(
) {
    let f = Fix::new();
    // From the recipe's own checkout (no generic-tests/ there), with no --data-dir / CCCI_DATA_DIR: the
    // binary lives in this source tree's target/, whose overlays must not be used silently.
    let mut cmd = cc_ci(f.dir.path());
    cmd.current_dir(&f.recipe)
        .args(["run", "--recipe", ".", "--list", "--coord-dir"])
        .arg(&f.coord);
    let out = output_within(&mut cmd, Duration::from_secs(120));
    expect(&out, 4, "no data dir");
    expect(&out, 4, "--data-dir");
    // The working directory is the data dir when it holds generic-tests/, and -v says which it is.
    let mut cmd = cc_ci(f.dir.path());
    cmd.current_dir(&f.data)
        .args(["run", "--recipe"])
        .arg(&f.recipe)
        .args(["--collect-only", "-v", "--coord-dir"])
        .arg(&f.coord);
    let out = output_within(&mut cmd, Duration::from_secs(120));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = format!("data dir {} (from the working directory)", f.data.display());
    assert!(text(&out).contains(&said), "{said}: {}", text(&out));
}

#[test]
fn the_readme_usage_block_names_every_option_of_run_help() {
    let d = tempfile::tempdir().unwrap();
    let out = output_within(
        cc_ci(d.path()).args(["run", "--help"]),
        Duration::from_secs(30),
    );
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let readme = std::fs::read_to_string(project_root().join("README.md")).unwrap();
    let block = readme
        .split("cc-ci run --recipe NAME|PATH|URL")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("README has the cc-ci run usage block");
    let long = |line: &str| -> Option<String> {
        let t = line.trim_start();
        let t = t.split_once(", ").map_or(t, |(short, rest)| {
            if short.starts_with('-') && short.len() == 2 {
                rest
            } else {
                t
            }
        });
        t.starts_with("--").then(|| {
            t.split(|c: char| c.is_whitespace() || c == '=' || c == '.')
                .next()
                .unwrap()
                .to_string()
        })
    };
    let options: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Options:"))
        .take_while(|l| !l.starts_with("Selecting"))
        .filter_map(long)
        .filter(|o| o != "--help" && o != "--recipe")
        .collect();
    assert!(options.len() >= 15, "{options:?}: {help}");
    let missing: Vec<&String> = options
        .iter()
        .filter(|o| !block.contains(o.as_str()))
        .collect();
    assert!(missing.is_empty(), "README's usage block lacks {missing:?}");
}
