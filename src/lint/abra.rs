//! `abra recipe lint` as a linter: the command line, a bounded run (on a pseudo-terminal, which abra
//! needs even with `--no-input`, under a wall-clock timeout that kills the whole process group) and the verdict from abra's exit code and
//! rule table (read by `table.rs`). It never decides more than abra said: output it cannot read is
//! never a pass.

use std::path::Path;
use std::time::Duration;

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
    // The same bounded runner the abra deployer uses, on a terminal (abra's lint refuses to run
    // without one: "inappropriate ioctl for device"), with a timeout that kills abra's process group.
    let env = [("ABRA_DIR".to_string(), abra_dir.display().to_string())];
    let raw = match crate::deploy::abra::run_bounded(
        abra,
        &abra_lint_args(recipe),
        &env,
        timeout,
        &crate::redact::Redactor::new(),
        crate::deploy::abra::Io::Terminal,
    ) {
        Ok(r) => r,
        Err(crate::deploy::DeployError::Timeout { .. }) => {
            return LintResult::could_not_run(
                ABRA_TOOL,
                format!(
                    "{ABRA_TOOL} {recipe} did not finish within {} and was killed",
                    humantime::format_duration(timeout)
                ),
            )
        }
        // Not started at all: the runner's message names the binary and the OS error.
        Err(crate::deploy::DeployError::Command {
            code: None, tail, ..
        }) => return LintResult::could_not_run(ABRA_TOOL, tail),
        Err(e) => return LintResult::could_not_run(ABRA_TOOL, e.to_string()),
    };
    let stdout = strip_ansi(&raw.stdout);
    let stderr = strip_ansi(&raw.stderr);
    let Some(code) = raw.code else {
        return LintResult::could_not_run(
            ABRA_TOOL,
            format!("{ABRA_TOOL} {recipe} was killed by a signal"),
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
