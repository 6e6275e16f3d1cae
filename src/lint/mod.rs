//! The L5 lint rung: checks of a recipe's files on the exact checked-out ref, as a [`LintResult`].
//!
//! Two linters: [`lint_recipe`], cc-ci's built-in checks (the compose files through the project's own
//! loader, `.env.sample` through its env parser — never a second parser), and [`abra_lint`], Co-op
//! Cloud's `abra recipe lint` run as a child process. Both only read: they never deploy, never write
//! into the checkout, and never fetch or check out another ref. A linter that cannot run says so in
//! `LintResult::not_run` (the rung is then unverified), never as a pass or a fail.

mod abra;
mod rules;
mod table;

use std::path::Path;

use crate::report::LintResult;

pub use abra::{abra_lint, abra_lint_args, ABRA_TOOL};
pub use rules::{lint_messages, Findings};
pub use table::{parse_table, TableRow};

/// The `tool` of the built-in lint.
pub const BUILTIN_TOOL: &str = "cc-ci built-in lint";

/// Runs the built-in checks on the recipe checked out at `checkout`, interpolated for the app
/// `stack` at `domain`. Passes when no check has anything to say; fails on any message (compose keys
/// the loader refuses are keys `docker stack deploy` refuses too: a recipe problem); `not_run` when
/// the checkout is missing.
pub fn lint_recipe(checkout: &Path, stack: &str, domain: &str) -> LintResult {
    if !checkout.is_dir() {
        return LintResult::could_not_run(
            BUILTIN_TOOL,
            format!(
                "{}: not a directory (hint: lint runs on the run's recipe checkout)",
                checkout.display()
            ),
        );
    }
    let found = lint_messages(checkout, stack, domain);
    LintResult::ran(BUILTIN_TOOL, found.messages.is_empty(), found.messages)
}
