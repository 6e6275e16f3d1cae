//! The test-runner flags of `cc-ci run`: libtest's (what `cargo test` and nextest pass) and pytest's
//! (what a pipeline written for the Python harness passes by habit), parsed the way each parses them:
//! `-v`/`-q`/`-x` count, the last `-k`/`-m` wins, and pytest's reporting flags are accepted and named
//! as ignored. Turns them into a [`Selection`]; holds no logic beyond that.

use crate::discover::{Keyword, MarkExpr};
use crate::runner::{LastFailed, Selection};

/// `--format`: libtest's formats, without libtest's own help text.
fn parse_format(s: &str) -> Result<libtest_mimic::FormatSetting, String> {
    use libtest_mimic::FormatSetting;
    match s {
        "pretty" => Ok(FormatSetting::Pretty),
        "terse" => Ok(FormatSetting::Terse),
        "json" => Ok(FormatSetting::Json),
        _ => Err("expected pretty, terse or json".to_string()),
    }
}

/// libtest's and pytest's flags: which tests, how they are shown.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Selecting and showing tests (libtest and pytest)")]
pub struct TestArgs {
    /// Name filters (substrings of trial ids), paths (a spec file or folder of the data dir or the
    /// recipe) or pytest node ids (`path::name`). A trial runs when it matches any of them.
    #[arg(value_name = "FILTER|PATH")]
    pub positional: Vec<String>,
    /// pytest: select tests by keyword expression (and, or, not, parentheses); the last -k wins.
    #[arg(short = 'k', value_name = "EXPR", action = clap::ArgAction::Append)]
    pub keyword: Vec<String>,
    /// pytest: select tests by marks — the tier, the kind (generic, overlay, repo-local, pytest) and
    /// the spec's tags — e.g. `-m "install and not slow"`; the last -m wins.
    #[arg(short = 'm', value_name = "MARKEXPR", action = clap::ArgAction::Append)]
    pub marks: Vec<String>,
    /// pytest: stop after the first failure (teardown still runs); `--maxfail=1`.
    #[arg(short = 'x', long = "exitfirst", action = clap::ArgAction::Count)]
    pub exitfirst: u8,
    /// pytest: stop the assertions after N failures (0: never); teardown still runs. With -x, the
    /// one given last wins.
    #[arg(long, value_name = "N")]
    pub maxfail: Option<usize>,
    /// pytest: run only the assertions that failed in this recipe's last run (read from the ledger);
    /// ops still run once.
    #[arg(long = "lf", visible_alias = "last-failed")]
    pub last_failed: bool,
    /// pytest: run the assertions that failed in this recipe's last run first within their tier.
    #[arg(long = "ff", visible_alias = "failed-first")]
    pub failed_first: bool,
    /// pytest: with --lf and no previous failures, run everything (all) or nothing (none).
    #[arg(long = "lfnf", visible_alias = "last-failed-no-failures", value_enum, value_name = "all|none", default_value_t = NoFailures::All)]
    pub last_failed_no_failures: NoFailures,
    /// pytest: after the run, show the N slowest ops and trials (0: all).
    #[arg(long, value_name = "N")]
    pub durations: Option<usize>,
    /// pytest: hide durations shorter than this many seconds (0 to 3600; default 0.005) unless -vv.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.005, value_parser = durations_min)]
    pub durations_min: f64,
    /// pytest: show the output of each command run in the app as it finishes (`--capture=no`).
    #[arg(short = 's')]
    pub no_capture: bool,
    /// pytest: `no` (or `tee-sys`) is -s; `fd` and `sys` keep output in the verdicts (the default).
    #[arg(long, value_enum, value_name = "METHOD")]
    pub capture: Option<CaptureArg>,
    /// pytest: list the tests that would run, without deploying.
    #[arg(long = "collect-only", visible_alias = "co")]
    pub collect_only: bool,
    /// pytest: more verbose (counted: -vv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Less verbose: one character per test (libtest's terse format; counted like pytest's -qq).
    #[arg(short = 'q', long = "quiet", action = clap::ArgAction::Count)]
    pub quiet: u8,
    /// libtest: list all tests (`id: test`), without deploying.
    #[arg(long)]
    pub list: bool,
    /// libtest: match name filters exactly rather than by substring.
    #[arg(long)]
    pub exact: bool,
    /// libtest: skip tests whose id contains FILTER (repeatable).
    #[arg(long, value_name = "FILTER", action = clap::ArgAction::Append)]
    pub skip: Vec<String>,
    /// libtest: run only the tests marked `ignore:` in their spec.
    #[arg(long)]
    pub ignored: bool,
    /// libtest: run the ignored tests too.
    #[arg(long)]
    pub include_ignored: bool,
    /// libtest: threads evaluating a tier's assertions (ops always run alone).
    #[arg(long, value_name = "N")]
    pub test_threads: Option<usize>,
    /// libtest: write the test lines to this file instead of stdout (hidden: for `cargo test` habits).
    #[arg(long, value_name = "PATH", hide = true)]
    pub logfile: Option<String>,
    /// Colour: auto, always, never (pytest's yes and no work too).
    #[arg(long, value_enum, value_name = "WHEN")]
    pub color: Option<ColorArg>,
    /// How test lines are shown: pretty (one line per test), terse (one character per test) or json
    /// (one JSON object per event, libtest's).
    #[arg(long, value_name = "pretty|terse|json", value_parser = parse_format)]
    pub format: Option<libtest_mimic::FormatSetting>,
    /// libtest: the same as -s.
    #[arg(long)]
    pub nocapture: bool,
    /// libtest: accepted for `cargo test` compatibility.
    #[arg(long, hide = true)]
    pub show_output: bool,
    /// libtest: accepted for `cargo test` compatibility (there are no benchmarks).
    #[arg(long, conflicts_with = "bench", hide = true)]
    pub test: bool,
    /// libtest: accepted for `cargo test` compatibility (there are no benchmarks).
    #[arg(long, hide = true)]
    pub bench: bool,
    /// libtest: unstable options, accepted and ignored.
    #[arg(short = 'Z', value_name = "FLAG", hide = true)]
    pub unstable: Option<UnstableArg>,
    #[command(flatten)]
    pub pytest_ignored: super::run_ignored::PytestIgnored,
}

/// `--capture`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CaptureArg {
    Fd,
    Sys,
    No,
    TeeSys,
}

/// `--lfnf`: what `--lf` runs when the last run had no failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum NoFailures {
    #[default]
    All,
    None,
}

/// libtest's `-Z unstable-options`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UnstableArg {
    UnstableOptions,
}

/// `--color`: libtest's words and pytest's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorArg {
    Auto,
    #[value(alias = "yes")]
    Always,
    #[value(alias = "no")]
    Never,
}

/// A flag combination or value the command line cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    #[error("{0}")]
    Expression(#[from] crate::discover::KeywordError),
    #[error("--ignored and --include-ignored conflict: --ignored runs only the ignored tests, --include-ignored runs them beside the others (hint: give one)")]
    IgnoredConflict,
    #[error("--test-threads 0 runs nothing (hint: give 1 or more)")]
    ZeroThreads,
}

impl TestArgs {
    /// The selection these flags ask for, and the notes to print before the run (last -k wins,
    /// ignored pytest flags).
    /// `matches` (the parsed `run` command) tells which of -x and --maxfail came last.
    pub fn selection(
        self,
        cwd: Option<std::path::PathBuf>,
        matches: Option<&clap::ArgMatches>,
    ) -> Result<(Selection, Vec<String>), FlagError> {
        let mut notes = Vec::new();
        let keyword = last_of(&self.keyword, "-k", &mut notes)
            .map(|k| Keyword::parse(k))
            .transpose()?;
        let marks = last_of(&self.marks, "-m", &mut notes)
            .map(|m| MarkExpr::parse(m))
            .transpose()?;
        if self.ignored && self.include_ignored {
            return Err(FlagError::IgnoredConflict);
        }
        if self.test_threads == Some(0) {
            return Err(FlagError::ZeroThreads);
        }
        notes.extend(self.pytest_ignored.note());
        let verbosity = i16::from(self.verbose) - i16::from(self.quiet);
        let maxfail = self.maxfail_given(matches);
        let libtest = libtest_mimic::Arguments {
            include_ignored: self.include_ignored,
            ignored: self.ignored,
            test: self.test,
            bench: self.bench,
            list: self.list || self.collect_only,
            nocapture: self.nocapture,
            show_output: self.show_output,
            unstable_flags: None,
            exact: self.exact,
            quiet: verbosity < 0 && self.format.is_none(),
            test_threads: self.test_threads,
            logfile: self.logfile,
            skip: self.skip,
            color: self.color.map(|c| match c {
                ColorArg::Auto => libtest_mimic::ColorSetting::Auto,
                ColorArg::Always => libtest_mimic::ColorSetting::Always,
                ColorArg::Never => libtest_mimic::ColorSetting::Never,
            }),
            format: self.format,
            filter: None,
        };
        let sel = Selection {
            keyword,
            marks,
            positional: self.positional,
            targets: Vec::new(),
            cwd,
            maxfail,
            last_failed: match (self.last_failed, self.failed_first) {
                (true, _) => LastFailed::Only {
                    none_runs_all: self.last_failed_no_failures == NoFailures::All,
                },
                (false, true) => LastFailed::First,
                (false, false) => LastFailed::Off,
            },
            collect_only: self.collect_only,
            show_output: self.no_capture
                || self.nocapture
                || matches!(self.capture, Some(CaptureArg::No | CaptureArg::TeeSys)),
            verbose: verbosity > 0,
            libtest,
        };
        Ok((sel, notes))
    }
}

impl TestArgs {
    /// How many failed assertions stop the run: -x is `--maxfail=1` and, as in pytest (both set one
    /// value), the one given last wins; `--maxfail=0` never stops.
    fn maxfail_given(&self, matches: Option<&clap::ArgMatches>) -> Option<usize> {
        let last = |id: &str| matches.and_then(|m| m.indices_of(id)).and_then(|i| i.max());
        let x_wins = match (self.exitfirst > 0, self.maxfail) {
            (false, _) => false,
            (true, None) => true,
            (true, Some(_)) => last("exitfirst") > last("maxfail"),
        };
        if x_wins {
            Some(1)
        } else {
            self.maxfail.filter(|n| *n > 0)
        }
    }
}

/// `--durations-min`: seconds, 0 to an hour.
fn durations_min(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(0.0..=3600.0).contains(&v) {
        return Err(format!("{v} is outside 0 to 3600 seconds"));
    }
    Ok(v)
}

impl TestArgs {
    /// `--durations`: how many of the slowest to show (0: all) and below which milliseconds a
    /// duration is hidden (none under -vv).
    pub fn durations_shown(&self) -> Option<(usize, u64)> {
        let min_ms = if i16::from(self.verbose) - i16::from(self.quiet) >= 2 {
            0
        } else {
            (self.durations_min * 1000.0).round() as u64
        };
        self.durations.map(|n| (n, min_ms))
    }
}

/// The last of a repeatable expression flag; a note says so when it was given more than once.
fn last_of<'a>(given: &'a [String], flag: &str, notes: &mut Vec<String>) -> Option<&'a String> {
    let last = given.last()?;
    if given.len() > 1 {
        notes.push(format!(
            "{flag} given {} times: the last one wins ({flag} {last:?})",
            given.len()
        ));
    }
    Some(last)
}

/// The first of `names` that is an executable file in a directory of `path` (a `PATH` value): how
/// `--screenshots auto` finds Chromium when `--chromium` does not name it.
pub fn on_path(names: &[&str], path: Option<&std::ffi::OsStr>) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let dirs: Vec<std::path::PathBuf> = std::env::split_paths(path?).collect();
    names.iter().find_map(|name| {
        dirs.iter().map(|d| d.join(name)).find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

#[cfg(test)]
#[path = "run_flags_tests.rs"]
mod tests;
