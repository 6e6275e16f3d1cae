//! pytest flags that change nothing here, accepted so a pipeline's habitual command line runs and
//! named in one note; and unknown flags reported without clap's far-fetched "similar argument" tips.

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
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("lf", "logfile"), 5);
        assert_eq!(edit_distance("junitxm", "junitxml"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert!(!is_close("--durations", "--domain"));
        assert!(!is_close("--lf", "--logfile"));
        assert!(is_close("--recipes", "--recipe"));
    }
}
