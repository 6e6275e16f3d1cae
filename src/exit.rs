//! Exit codes, in one place. They follow pytest's so CI engines read them the same way:
//! 0 all passed, 1 some failed, 2 interrupted (or a provisioning failure), 3 internal error,
//! 4 usage error, 5 no tests collected.
//!
//! A run ends in one [`ExitClass`]; [`ExitClass::code`] is the only mapping from a class to a number,
//! and [`ExitClass::of_run`] the only rule that turns a finished run's verdicts into a class.

use std::process::ExitCode;

use serde::{Deserialize, Serialize};

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

/// How a run ended, as a reader and a CI engine care: the class decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitClass {
    /// Every verdict passed, teardown was clean, the app was deployed exactly once.
    Passed,
    /// An assertion or an op failed, teardown left something, or deploy-count ≠ 1.
    Failed,
    /// SIGINT/SIGTERM (teardown still ran) or a panic in the session.
    Interrupted,
    /// The coord tree could not be resolved, provisioned or opened (DESIGN §3: exit 2).
    Provisioning,
    /// The harness could not work: engine unreachable, a file it must write, the ledger record
    /// incomplete.
    Infrastructure,
    /// The command line, a spec or the recipe was wrong; nothing was deployed.
    Usage,
    /// The filters left nothing to run; nothing was deployed.
    NoTests,
}

impl ExitClass {
    /// The process exit code of this class.
    pub fn code(self) -> u8 {
        match self {
            ExitClass::Passed => OK,
            ExitClass::Failed => FAILED,
            ExitClass::Interrupted | ExitClass::Provisioning => INTERRUPTED,
            ExitClass::Infrastructure => INTERNAL,
            ExitClass::Usage => USAGE,
            ExitClass::NoTests => NO_TESTS,
        }
    }

    /// The word the ledger's `run_end` event records for this class.
    pub fn word(self) -> &'static str {
        match self {
            ExitClass::Passed => "passed",
            ExitClass::Failed => "failed",
            ExitClass::Interrupted => "interrupted",
            ExitClass::Provisioning | ExitClass::Infrastructure => "error",
            ExitClass::Usage => "refused",
            ExitClass::NoTests => "no_tests",
        }
    }

    /// The class of a run that went ahead: interrupted beats an incomplete record or a gone engine
    /// (infrastructure), which beat a failed verdict.
    pub fn of_run(facts: RunFacts) -> ExitClass {
        if facts.interrupted {
            ExitClass::Interrupted
        } else if facts.record_incomplete || facts.infrastructure {
            ExitClass::Infrastructure
        } else if facts.failed {
            ExitClass::Failed
        } else {
            ExitClass::Passed
        }
    }
}

/// What decides the class of a run that went ahead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunFacts {
    /// A tier failed, teardown was not clean, or deploy-count ≠ 1.
    pub failed: bool,
    /// A signal or a panic stopped the session.
    pub interrupted: bool,
    /// A ledger event could not be recorded.
    pub record_incomplete: bool,
    /// The engine stopped answering and did not come back: not the recipe's fault.
    pub infrastructure: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_map_to_pytest_exit_codes() {
        assert_eq!(ExitClass::Passed.code(), 0);
        assert_eq!(ExitClass::Failed.code(), 1);
        assert_eq!(ExitClass::Interrupted.code(), 2);
        assert_eq!(ExitClass::Provisioning.code(), 2);
        assert_eq!(ExitClass::Infrastructure.code(), 3);
        assert_eq!(ExitClass::Usage.code(), 4);
        assert_eq!(ExitClass::NoTests.code(), 5);
    }

    #[test]
    fn an_interrupted_run_is_interrupted_even_when_it_also_failed() {
        let f = RunFacts {
            failed: true,
            interrupted: true,
            record_incomplete: true,
            infrastructure: true,
        };
        assert_eq!(ExitClass::of_run(f), ExitClass::Interrupted);
    }

    #[test]
    fn an_incomplete_record_outranks_a_failed_verdict() {
        let f = RunFacts {
            failed: true,
            record_incomplete: true,
            ..Default::default()
        };
        assert_eq!(ExitClass::of_run(f), ExitClass::Infrastructure);
        assert_eq!(ExitClass::of_run(RunFacts::default()), ExitClass::Passed);
        let failed = RunFacts {
            failed: true,
            ..Default::default()
        };
        assert_eq!(ExitClass::of_run(failed), ExitClass::Failed);
        let gone = RunFacts {
            failed: true,
            infrastructure: true,
            ..Default::default()
        };
        assert_eq!(ExitClass::of_run(gone), ExitClass::Infrastructure);
    }
}
