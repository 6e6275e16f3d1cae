//! Exit codes, in one place. They follow pytest's so CI engines read them the same way:
//! 0 all passed, 1 some failed, 2 interrupted (or a provisioning failure), 3 internal error,
//! 4 usage error, 5 no tests collected.

use std::process::ExitCode;

/// Every test passed, or a command did what it was asked.
pub const OK: u8 = 0;
/// Some tests failed, a check denied, or verification found tampering.
pub const FAILED: u8 = 1;
/// The run was interrupted (SIGINT/SIGTERM), or provisioning could not create or write something.
pub const INTERRUPTED: u8 = 2;
/// An internal error: a bug or an environment the harness cannot work in.
pub const INTERNAL: u8 = 3;
/// The command line or an input file was wrong.
pub const USAGE: u8 = 4;
/// Nothing was collected to run.
pub const NO_TESTS: u8 = 5;

/// Turns one of the constants into a process exit code.
pub fn code(c: u8) -> ExitCode {
    ExitCode::from(c)
}
