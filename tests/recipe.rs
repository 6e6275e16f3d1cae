//! `cargo test --test recipe [-- ARGS]`: a `cargo test`-style entry for maintainers working in this
//! repository. Runs `cc-ci run` on the recipe named by `RECIPE` (a name, URL or path), or on the bundled
//! example recipe built as a git repository, in a private coord tree unless `CCCI_COORD_DIR` is set.
//! Arguments after `--` go to `cc-ci run` (libtest's and pytest's: `-k`, `-x`, `--list`, a filter…).

use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let recipe = match std::env::var("RECIPE") {
        Ok(r) if !r.is_empty() => r,
        _ => {
            let dest = tmp.path().join("hello");
            let st = Command::new("bash")
                .arg(root.join("examples/make-recipe-repo.sh"))
                .arg(root.join("examples/recipes/hello"))
                .arg(&dest)
                .stdout(std::process::Stdio::null())
                .status()
                .expect("run examples/make-recipe-repo.sh");
            if !st.success() {
                eprintln!("recipe: building the example recipe repository failed");
                return ExitCode::from(3);
            }
            dest.display().to_string()
        }
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cc-ci"));
    cmd.arg("run")
        .arg("--recipe")
        .arg(&recipe)
        .arg("--data-dir")
        .arg(&root);
    if std::env::var_os("CCCI_COORD_DIR").is_none() {
        cmd.arg("--coord-dir").arg(tmp.path().join("coord"));
    }
    cmd.args(std::env::args().skip(1));
    match cmd.status() {
        Ok(s) => ExitCode::from(s.code().unwrap_or(2) as u8),
        Err(e) => {
            eprintln!("recipe: cannot run cc-ci: {e}");
            ExitCode::from(3)
        }
    }
}
