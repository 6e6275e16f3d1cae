//! docs/overlays.md is run, not only read: every `$ ` command of its `console` blocks, in the order the
//! page gives them, from a copy of this checkout (generic-tests/, overlays/, examples/), with §5's
//! "every check" example added as an overlay of the example recipe. Each must exit 0; the files the page
//! says are created are created, and the runs pass on the real engine. Paths under /tmp/ in the page
//! become paths under a private temporary directory, and `cc-ci` is the binary under test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::recipe_repo::project_root;
use crate::support::run::copy_dir;

/// One documented command and the output lines the page shows after it.
struct Step {
    command: String,
    shown: Vec<String>,
}

/// The commands of every ```console block, in order, with the lines shown after each.
fn documented_steps(page: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut in_console = false;
    for line in page.lines() {
        if line.starts_with("```") {
            in_console = line == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        match line.strip_prefix("$ ") {
            Some(cmd) => steps.push(Step {
                command: cmd.to_string(),
                shown: Vec::new(),
            }),
            None => {
                if let Some(s) = steps.last_mut() {
                    s.shown.push(line.to_string());
                }
            }
        }
    }
    steps
}

/// §5's first YAML block: the "every check, by example" install-tier spec.
fn every_check_example(page: &str) -> String {
    let section = page
        .split("## 5. Every check, by example")
        .nth(1)
        .expect("docs/overlays.md has §5");
    let block = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("§5 starts with a YAML example");
    block.to_string()
}

fn sh(line: &str, cwd: &Path, bin_dir: &Path, home: &Path) -> std::process::Output {
    let mut cmd = Command::new("timeout");
    cmd.args(["600", "sh", "-c", line])
        .current_dir(cwd)
        .stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("CCCI_") || k.starts_with("XDG_") || k == "CI" {
            cmd.env_remove(&k);
        }
    }
    let path = std::env::var("PATH").unwrap_or_default();
    cmd.env("PATH", format!("{}:{path}", bin_dir.display()))
        .env("HOME", home);
    cmd.output().expect("sh runs a documented command")
}

#[test]
fn the_overlay_walkthrough_runs_as_written_on_the_example_recipe() {
    let page = std::fs::read_to_string(project_root().join("docs/overlays.md")).unwrap();
    let steps = documented_steps(&page);
    assert!(
        steps.len() >= 7,
        "too few documented commands: {}",
        steps.len()
    );

    let work = tempfile::tempdir().unwrap();
    let checkout = work.path().join("cc-ci");
    for d in ["generic-tests", "overlays", "examples"] {
        copy_dir(&project_root().join(d), &checkout.join(d));
    }
    std::fs::write(
        checkout.join("overlays/hello/every-check.yaml"),
        every_check_example(&page),
    )
    .unwrap();
    let bin_dir = work.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_cc-ci"), bin_dir.join("cc-ci")).unwrap();
    let home = work.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let tmp: PathBuf = work.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let private = |s: &str| s.replace("/tmp/", &format!("{}/", tmp.display()));

    let mut ran = Vec::new();
    for step in &steps {
        let line = private(&step.command);
        let out = sh(&line, &checkout, &bin_dir, &home);
        let shown = format!(
            "$ {line}\n--- exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "{shown}");
        for expected in step.shown.iter().filter(|l| l.starts_with("created ")) {
            let expected = private(expected);
            assert!(
                shown.contains(&expected),
                "the page shows {expected:?}: {shown}"
            );
        }
        ran.push(shown);
    }
    let all = ran.join("\n");
    // The run found §5's example and the walk-through's own files, and every test of them passed.
    assert!(all.contains("overlays/hello/every-check.yaml"), "{all}");
    assert!(
        all.contains("install::overlays/hello/every-check.yaml::backed_up_by_backupbot"),
        "{all}"
    );
    assert!(
        all.contains("restore::overlays/hello/restore.yaml::seed_survived"),
        "{all}"
    );
}
