//! The test-runner flags of `cc-ci run`: libtest's (what `cargo test` and nextest pass) and pytest's
//! (what a pipeline written for the Python harness passes by habit), parsed the way each parses them:
//! `-v`/`-q`/`-x` count, the last `-k`/`-m` wins, and pytest's reporting flags are accepted and named
//! as ignored. Turns them into a [`Selection`]; holds no logic beyond that.

use crate::discover::{Keyword, MarkExpr};
use crate::runner::Selection;

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
    /// pytest: stop after the first failure (teardown still runs).
    #[arg(short = 'x', long = "exitfirst", action = clap::ArgAction::Count)]
    pub exitfirst: u8,
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
    /// libtest: accepted for `cargo test` compatibility (cc-ci never captures test lines).
    #[arg(long, hide = true)]
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
    pub pytest_ignored: PytestIgnored,
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

/// pytest flags that shape only pytest's own output, configuration or plugins. They are accepted so
/// a pipeline's habitual command line runs, and named in one note saying why nothing changed.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "pytest flags accepted and ignored (see docs/pytest.md)")]
pub struct PytestIgnored {
    /// pytest's short summary characters (-rA, -ra, -rfE).
    #[arg(short = 'r', value_name = "CHARS", action = clap::ArgAction::Append)]
    pub report_chars: Vec<String>,
    /// pytest's traceback style.
    #[arg(long = "tb", value_name = "STYLE", action = clap::ArgAction::Append)]
    pub tb: Vec<String>,
    /// pytest's local variables in tracebacks.
    #[arg(short = 'l', long = "showlocals", action = clap::ArgAction::Count)]
    pub showlocals: u8,
    /// pytest's full tracebacks.
    #[arg(long = "full-trace", action = clap::ArgAction::Count)]
    pub full_trace: u8,
    /// pytest's header and summary.
    #[arg(long = "no-header", action = clap::ArgAction::Count)]
    pub no_header: u8,
    #[arg(long = "no-summary", action = clap::ArgAction::Count)]
    pub no_summary: u8,
    /// pytest's live log level.
    #[arg(long = "log-cli-level", value_name = "LEVEL", action = clap::ArgAction::Append)]
    pub log_cli_level: Vec<String>,
    #[arg(long = "log-level", value_name = "LEVEL", action = clap::ArgAction::Append)]
    pub log_level: Vec<String>,
    /// pytest plugins (-p no:cacheprovider).
    #[arg(short = 'p', value_name = "NAME", action = clap::ArgAction::Append)]
    pub plugins: Vec<String>,
    /// Python warning filters.
    #[arg(short = 'W', long = "pythonwarnings", value_name = "FILTER", action = clap::ArgAction::Append)]
    pub warnings: Vec<String>,
    #[arg(long = "disable-warnings", visible_alias = "disable-pytest-warnings", action = clap::ArgAction::Count)]
    pub disable_warnings: u8,
    /// pytest ini options (-o junit_family=xunit2).
    #[arg(short = 'o', long = "override-ini", value_name = "KEY=VALUE", action = clap::ArgAction::Append)]
    pub override_ini: Vec<String>,
    #[arg(long = "rootdir", value_name = "DIR", action = clap::ArgAction::Append)]
    pub rootdir: Vec<String>,
    #[arg(long = "strict-markers", action = clap::ArgAction::Count)]
    pub strict_markers: u8,
    #[arg(long = "strict-config", action = clap::ArgAction::Count)]
    pub strict_config: u8,
    #[arg(long = "strict", action = clap::ArgAction::Count)]
    pub strict: u8,
    #[arg(long = "import-mode", value_name = "MODE", action = clap::ArgAction::Append)]
    pub import_mode: Vec<String>,
    #[arg(long = "cache-clear", action = clap::ArgAction::Count)]
    pub cache_clear: u8,
    /// pytest-xdist's workers.
    #[arg(short = 'n', long = "numprocesses", value_name = "N", action = clap::ArgAction::Append)]
    pub numprocesses: Vec<String>,
    #[arg(long = "dist", value_name = "MODE", action = clap::ArgAction::Append)]
    pub dist: Vec<String>,
    /// pytest-cov.
    #[arg(long = "cov", value_name = "SOURCE", num_args = 0..=1, default_missing_value = "", action = clap::ArgAction::Append)]
    pub cov: Vec<String>,
    #[arg(long = "cov-report", value_name = "TYPE", action = clap::ArgAction::Append)]
    pub cov_report: Vec<String>,
    /// pytest-timeout.
    #[arg(long = "timeout", value_name = "SECONDS", action = clap::ArgAction::Append)]
    pub timeout: Vec<String>,
}

/// Why a group of pytest flags changes nothing here.
const REPORT: &str = "pytest's own report; cc-ci prints its own";
const WARNINGS: &str = "Python warnings";
const CONFIG: &str =
    "pytest's configuration and plugins; cc-ci's come from its flags and recipe.yaml";
const XDIST: &str =
    "pytest-xdist; the app is deployed once and --test-threads sets the assertion threads";
const COV: &str = "pytest-cov; there is no Python code of the project to measure";
const TIMEOUT: &str =
    "pytest-timeout; cc-ci's deadlines are its own (exec retries, the recipe's deploy timeout)";

impl PytestIgnored {
    /// The flags given, as typed, each with why it is ignored, in a fixed order.
    pub fn given(&self) -> Vec<(String, &'static str)> {
        let mut out = Vec::new();
        let mut vals = |flag: &str, short: bool, vs: &[String], why: &'static str| {
            for v in vs {
                let shown = match (short, v.is_empty()) {
                    (_, true) => flag.to_string(),
                    (true, false) => format!("{flag}{v}"),
                    (false, false) => format!("{flag}={v}"),
                };
                out.push((shown, why));
            }
        };
        vals("-r", true, &self.report_chars, REPORT);
        vals("--tb", false, &self.tb, REPORT);
        vals("--log-cli-level", false, &self.log_cli_level, REPORT);
        vals("--log-level", false, &self.log_level, REPORT);
        vals("-p ", true, &self.plugins, CONFIG);
        vals("-W ", true, &self.warnings, WARNINGS);
        vals("-o ", true, &self.override_ini, CONFIG);
        vals("--rootdir", false, &self.rootdir, CONFIG);
        vals("--import-mode", false, &self.import_mode, CONFIG);
        vals("-n ", true, &self.numprocesses, XDIST);
        vals("--dist", false, &self.dist, XDIST);
        vals("--cov", false, &self.cov, COV);
        vals("--cov-report", false, &self.cov_report, COV);
        vals("--timeout", false, &self.timeout, TIMEOUT);
        let flags: [(&str, u8, &'static str); 9] = [
            ("--showlocals", self.showlocals, REPORT),
            ("--full-trace", self.full_trace, REPORT),
            ("--no-header", self.no_header, REPORT),
            ("--no-summary", self.no_summary, REPORT),
            ("--disable-warnings", self.disable_warnings, WARNINGS),
            ("--strict-markers", self.strict_markers, CONFIG),
            ("--strict-config", self.strict_config, CONFIG),
            ("--strict", self.strict, CONFIG),
            ("--cache-clear", self.cache_clear, CONFIG),
        ];
        for (flag, n, why) in flags {
            if n > 0 {
                out.push((flag.to_string(), why));
            }
        }
        out
    }

    /// One line naming every ignored flag and why, grouped by reason; `None` when none was given.
    pub fn note(&self) -> Option<String> {
        let given = self.given();
        if given.is_empty() {
            return None;
        }
        let mut groups: Vec<(&'static str, Vec<String>)> = Vec::new();
        for (flag, why) in given {
            match groups.iter_mut().find(|(w, _)| *w == why) {
                Some((_, flags)) => flags.push(flag),
                None => groups.push((why, vec![flag])),
            }
        }
        let parts: Vec<String> = groups
            .into_iter()
            .map(|(why, flags)| format!("{} ({why})", flags.join(", ")))
            .collect();
        Some(format!(
            "ignored pytest options: {} — see docs/pytest.md",
            parts.join("; ")
        ))
    }
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
    pub fn selection(
        self,
        cwd: Option<std::path::PathBuf>,
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
            exitfirst: self.exitfirst > 0,
            collect_only: self.collect_only,
            verbose: verbosity > 0,
            libtest,
        };
        Ok((sel, notes))
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

/// An unknown flag keeps clap's "a similar argument exists" tip only when the flag is really close to
/// it (a typo or a prefix): clap's looser match sent `--lf` to `--logfile` and `--durations` to
/// `--domain`. Its `-- -s` tip is dropped too: after `--` a word is a name filter, not a flag. When
/// the tip goes, so does clap's usage line (it names the far flag): `usage` replaces it.
pub fn without_far_hints(e: clap::Error, usage: Option<clap::builder::StyledStr>) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return e;
    }
    let Some(ContextValue::String(invalid)) = e.get(ContextKind::InvalidArg) else {
        return e;
    };
    let suggested = match e.get(ContextKind::SuggestedArg) {
        Some(ContextValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let keep = suggested.filter(|s| is_close(invalid, s));
    // `Suggested` holds clap's "use '-- -s'" tip.
    if keep == suggested && e.get(ContextKind::Suggested).is_none() {
        return e;
    }
    let mut out = clap::Error::new(ErrorKind::UnknownArgument);
    out.insert(
        ContextKind::InvalidArg,
        ContextValue::String(invalid.clone()),
    );
    match keep {
        Some(s) => {
            out.insert(
                ContextKind::SuggestedArg,
                ContextValue::String(s.to_string()),
            );
        }
        None => {
            let tip = "`cc-ci run --help` lists every flag; docs/pytest.md says what cc-ci does with pytest's";
            out.insert(
                ContextKind::Suggested,
                ContextValue::StyledStrs(vec![tip.into()]),
            );
        }
    }
    let usage = match keep {
        Some(_) => e.get(ContextKind::Usage).cloned(),
        None => usage.map(ContextValue::StyledStr),
    };
    if let Some(u) = usage {
        out.insert(ContextKind::Usage, u);
    }
    out
}

/// A typo (edit distance within a quarter of the flag's length, at least 1) or a prefix of 3+ characters.
fn is_close(typed: &str, suggested: &str) -> bool {
    let bare = |s: &str| -> String {
        let s = s.trim_start_matches('-');
        s.split('=').next().unwrap_or(s).to_string()
    };
    let (a, b) = (bare(typed), bare(suggested));
    (a.len() >= 3 && b.starts_with(&a)) || edit_distance(&a, &b) <= (b.len() / 4).max(1)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
#[path = "run_flags_tests.rs"]
mod tests;
