//! `abra recipe lint` as a linter: the command line, a bounded run (null stdin, captured output, a
//! wall-clock timeout that kills the whole process group) and the verdict from abra's exit code and
//! rule table (read by `table.rs`). It never decides more than abra said: output it cannot read is
//! never a pass.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use crate::report::LintResult;

use super::table::{parse_table, TableRow};

/// The `tool` of abra's lint.
pub const ABRA_TOOL: &str = "abra recipe lint";

/// How many lines of abra's output a failure message carries.
const TAIL_LINES: usize = 20;

/// abra's fatal error when the recipe's own compose config is invalid: a lint failure, not a lint
/// that could not run.
const CONTENT_FATAL: &str = "unable to validate recipe";

/// The arguments cc-ci passes to abra: lint `recipe` as it is checked out (`--chaos`: no clean-tree
/// check, no checkout of the latest release), without fetching (`--offline`) or prompting.
pub fn abra_lint_args(recipe: &str) -> Vec<String> {
    [
        "recipe",
        "lint",
        recipe,
        "--chaos",
        "--offline",
        "--no-input",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Runs `abra recipe lint <recipe>` with `ABRA_DIR=abra_dir` (where `recipes/<recipe>` is the run's
/// checkout) for at most `timeout`. Fails on an unsatisfied error-level rule, on a non-zero exit that
/// comes with a rule table, and on abra's `unable to validate recipe` fatal error. `not_run` when abra
/// cannot be started, times out, dies from a signal, exits non-zero with any other fatal error (no
/// terminal, tag fetch, missing recipe: nothing was linted), or prints no rule table.
pub fn abra_lint(abra: &Path, abra_dir: &Path, recipe: &str, timeout: Duration) -> LintResult {
    if recipe.is_empty() || recipe.starts_with('-') || recipe.contains('/') {
        return LintResult::could_not_run(
            ABRA_TOOL,
            format!("`{recipe}` is not a recipe name abra can lint (hint: pass the catalogue name, e.g. `hello`)"),
        );
    }
    let mut cmd = Command::new(abra);
    cmd.args(abra_lint_args(recipe))
        .env("ABRA_DIR", abra_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return LintResult::could_not_run(
                ABRA_TOOL,
                format!(
                    "cannot start {}: {e} (hint: install abra or point --abra at it)",
                    abra.display()
                ),
            )
        }
    };
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    let status = match child.wait_timeout(timeout) {
        Ok(Some(s)) => s,
        Ok(None) | Err(_) => {
            kill_group(child.id());
            let _ = child.kill();
            let _ = child.wait();
            let _ = (out.join(), err.join());
            return LintResult::could_not_run(
                ABRA_TOOL,
                format!(
                    "{ABRA_TOOL} {recipe} did not finish within {} and was killed",
                    humantime::format_duration(timeout)
                ),
            );
        }
    };
    let stdout = strip_ansi(&out.join().unwrap_or_default());
    let stderr = strip_ansi(&err.join().unwrap_or_default());
    let Some(code) = status.code() else {
        return LintResult::could_not_run(
            ABRA_TOOL,
            format!("{ABRA_TOOL} {recipe} was killed by a signal ({status})"),
        );
    };
    let rows = parse_table(&stdout);
    let mut messages: Vec<String> = rows.iter().filter_map(TableRow::message).collect();
    let failing = rows.iter().any(TableRow::fails);
    let output = tail(&format!("{stdout}\n{stderr}"), TAIL_LINES);
    if code != 0 {
        // abra exits non-zero only when it cannot lint (a FATA line); the rule verdicts live in the
        // table. A FATA about the recipe's own config, or a table next to the exit, is the recipe's
        // failure; any other FATA (no terminal, tag fetch, missing recipe) means nothing was linted.
        if rows.is_empty() && !output.contains(CONTENT_FATAL) {
            let hint = if output.to_lowercase().contains("inappropriate ioctl") {
                " (hint: this abra wants a terminal even with --no-input; run it under a PTY)"
            } else {
                ""
            };
            return LintResult::could_not_run(
                ABRA_TOOL,
                format!("{ABRA_TOOL} {recipe} could not lint (exit code {code}){hint}:\n{output}"),
            );
        }
        messages.push(format!(
            "{ABRA_TOOL} {recipe} exited with code {code}:\n{output}"
        ));
        return LintResult::ran(ABRA_TOOL, false, messages);
    }
    if rows.is_empty() {
        return LintResult::could_not_run(
            ABRA_TOOL,
            format!(
                "{ABRA_TOOL} {recipe} printed no rule table, so nothing was verified:\n{output}"
            ),
        );
    }
    LintResult::ran(ABRA_TOOL, !failing, messages)
}

/// Removes ANSI escape sequences (colours, cursor moves).
pub(crate) fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Kills the process group led by `pid` (abra and anything it started).
fn kill_group(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
