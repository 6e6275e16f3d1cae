//! `abra recipe lint` through the abra double (tests/support/abra-double): the argv contract (a
//! terminal on stdin and stdout, the run's ABRA_DIR), a pass, a failing rule, a fatal error about the recipe,
//! a non-zero exit beside a table, and the ways it can fail to run at all (missing binary, timeout,
//! other fatal errors, no table), which are `not_run`, never a verdict.

use std::path::Path;
use std::time::Duration;

use crate::support::abra::double;
use crate::support::abra_log::read_log;
use crate::support::recipe_repo::project_root;
use cc_ci::lint::{abra_lint, abra_lint_args, ABRA_TOOL};

const TIMEOUT: Duration = Duration::from_secs(60);

/// An ABRA_DIR whose `recipes/hello` is a copy of the example recipe, with `compose.yml` passed
/// through `edit`.
fn abra_dir(edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let recipe = d.path().join("recipes/hello");
    std::fs::create_dir_all(&recipe).unwrap();
    let src = project_root().join("examples/recipes/hello");
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), recipe.join(e.file_name())).unwrap();
    }
    let compose = recipe.join("compose.yml");
    let text = std::fs::read_to_string(&compose).unwrap();
    std::fs::write(&compose, edit(text)).unwrap();
    d
}

/// The calls the double logged.
fn calls(abra_dir: &Path) -> Vec<crate::support::abra_log::Call> {
    read_log(&abra_dir.join("abra-double.log"))
}

fn knobs(abra_dir: &Path, lines: &str) {
    crate::support::abra_log::knobs(abra_dir, lines)
}

#[test]
fn example_recipe_passes_and_abra_gets_the_documented_argv() {
    let d = abra_dir(|t| t);
    let r = abra_lint(&double(), d.path(), "hello", TIMEOUT);
    assert_eq!(r.tool, ABRA_TOOL);
    assert!(r.passed, "{r:?}");
    assert_eq!(r.not_run, None);
    assert!(r.messages.is_empty(), "{:#?}", r.messages);
    let calls = calls(d.path());
    assert_eq!(calls.len(), 1, "{calls:?}");
    let argv = calls[0].argv.clone();
    assert_eq!(argv, abra_lint_args("hello"));
    assert_eq!(
        argv,
        [
            "recipe",
            "lint",
            "hello",
            "--chaos",
            "--offline",
            "--no-input"
        ]
    );
    assert_eq!(
        calls[0].env.get("ABRA_DIR").map(String::as_str),
        d.path().to_str()
    );
    // abra's lint refuses to run without a terminal, even with --no-input.
    assert!(
        calls[0].tty.stdin && calls[0].tty.stdout,
        "lint runs on a terminal: {:?}",
        calls[0].tty
    );
}

#[test]
fn unsatisfied_error_rule_fails_and_a_warning_does_not() {
    let d = abra_dir(|t| t.replace("  app:\n", "  web:\n"));
    let r = abra_lint(&double(), d.path(), "hello", TIMEOUT);
    assert!(!r.passed, "{r:?}");
    assert_eq!(r.not_run, None);
    assert_eq!(
        r.messages,
        ["error: R009 one service named 'app': not satisfied (hint: name a service 'app')"]
    );

    let d = abra_dir(|t| t.replace("version: \"3.8\"", "version: \"3.7\""));
    let r = abra_lint(&double(), d.path(), "hello", TIMEOUT);
    assert!(r.passed, "{r:?}");
    assert_eq!(r.messages.len(), 1);
    assert!(
        r.messages[0].starts_with("warning: R001"),
        "{:?}",
        r.messages
    );
}

#[test]
fn fatal_error_about_the_recipe_config_fails() {
    let d = abra_dir(|t| t);
    knobs(
        d.path(),
        "ABRA_LINT_DOUBLE_FATA=unable to validate recipe: services.app.image must be a string\n",
    );
    let r = abra_lint(&double(), d.path(), "hello", TIMEOUT);
    assert!(!r.passed);
    assert_eq!(r.not_run, None, "the recipe's config is broken: a failure");
    let m = r.messages.last().unwrap();
    assert!(
        m.contains("exited with code 1") && m.contains("services.app.image must be a string"),
        "{m}"
    );
}

#[test]
fn non_zero_exit_with_a_rule_table_fails() {
    let d = abra_dir(|t| t);
    knobs(d.path(), "ABRA_LINT_DOUBLE_EXIT=3\n");
    let r = abra_lint(&double(), d.path(), "hello", TIMEOUT);
    assert!(!r.passed);
    assert_eq!(r.not_run, None);
    assert!(
        r.messages.last().unwrap().contains("exited with code 3"),
        "{r:?}"
    );
}

#[test]
fn other_fatal_errors_could_not_run() {
    let d = abra_dir(|t| t);
    let r = abra_lint(&double(), d.path(), "missing", TIMEOUT);
    assert!(!r.passed);
    let why = r.not_run.as_deref().unwrap();
    assert!(
        why.contains("could not lint (exit code 1)")
            && why.contains("missing recipe does not exist"),
        "{why}"
    );
    knobs(
        d.path(),
        "ABRA_LINT_DOUBLE_FATA=inappropriate ioctl for device\n",
    );
    let r = abra_lint(&double(), d.path(), "hello", TIMEOUT);
    let why = r.not_run.as_deref().unwrap();
    assert!(why.contains("(hint: this abra wants a terminal"), "{why}");
}

#[test]
fn missing_abra_could_not_run() {
    let d = abra_dir(|t| t);
    let r = abra_lint(&d.path().join("no-such-abra"), d.path(), "hello", TIMEOUT);
    assert!(!r.passed);
    let why = r.not_run.as_deref().unwrap();
    assert!(
        why.starts_with("cannot start ") && why.contains("(hint: "),
        "{why}"
    );
}

#[test]
fn abra_over_its_timeout_is_killed_and_could_not_run() {
    let d = abra_dir(|t| t);
    knobs(d.path(), "ABRA_LINT_DOUBLE_SLEEP=120\n");
    let r = abra_lint(&double(), d.path(), "hello", Duration::from_millis(1500));
    assert!(!r.passed);
    assert!(
        r.not_run
            .as_deref()
            .unwrap()
            .contains("did not finish within 1s 500ms"),
        "{r:?}"
    );
}

#[test]
fn output_without_a_rule_table_could_not_run() {
    let d = abra_dir(|t| t);
    knobs(d.path(), "ABRA_LINT_DOUBLE_SILENT=1\n");
    let r = abra_lint(&double(), d.path(), "hello", TIMEOUT);
    assert!(!r.passed);
    assert!(
        r.not_run
            .as_deref()
            .unwrap()
            .contains("printed no rule table"),
        "{r:?}"
    );
}

#[test]
fn option_like_recipe_names_are_refused_before_abra_runs() {
    let d = abra_dir(|t| t);
    let r = abra_lint(&double(), d.path(), "--help", TIMEOUT);
    assert!(r.not_run.is_some(), "{r:?}");
    assert!(calls(d.path()).is_empty());
}
