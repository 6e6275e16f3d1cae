//! Spec errors: every one names the file, the 1-based line and column, the key, what was expected and,
//! for a misspelt key, the closest accepted one. Errors are values; this module never prints.

use std::fmt;
use std::path::PathBuf;

/// One problem in a spec file, `recipe.yaml` or allowlist, with its position.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.render())]
pub struct SpecError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem concerns the whole file (e.g. it cannot be read).
    pub line: usize,
    pub column: usize,
    pub key: Option<String>,
    /// Boxed to keep `Result<_, SpecError>` small.
    pub kind: Box<SpecErrorKind>,
}

/// What went wrong. `context` names where, e.g. "exec check" or "recipe.yaml".
#[derive(Debug, Clone, PartialEq)]
pub enum SpecErrorKind {
    /// The YAML itself does not parse.
    Syntax { message: String },
    /// A key that this mapping does not accept.
    UnknownKey {
        context: String,
        expected: Vec<String>,
        hint: Option<String>,
    },
    /// A key that this mapping requires is absent.
    MissingKey { context: String },
    /// The same key appears twice in one mapping.
    DuplicateKey { context: String, first_line: usize },
    /// A value of the wrong shape (e.g. a list where a string belongs).
    WrongType {
        context: String,
        expected: String,
        found: String,
    },
    /// A value of the right shape that is not acceptable (bad regex, unknown tier, port 0, ...).
    InvalidValue {
        context: String,
        message: String,
        hint: Option<String>,
    },
    /// A test names no check kind.
    NoCheck { test: String, expected: Vec<String> },
    /// A test names two check kinds.
    TwoChecks {
        test: String,
        first: String,
        second: String,
    },
    /// Two tests in one file share a name (their trial ids would collide).
    DuplicateTest { name: String, first_line: usize },
    /// The file cannot be read or is not where it may be.
    Io { message: String },
    /// The bytes are not spec text (not UTF-8, a byte order mark, a NUL or control character).
    Text { message: String },
}

impl SpecError {
    fn render(&self) -> String {
        let pos = if self.line == 0 {
            format!("{}", self.file.display())
        } else {
            format!("{}:{}:{}", self.file.display(), self.line, self.column)
        };
        let key = self.key.as_deref().unwrap_or("");
        let msg = match &*self.kind {
            SpecErrorKind::Syntax { message } => format!("yaml syntax error: {message}"),
            SpecErrorKind::UnknownKey {
                context,
                expected,
                hint,
            } => {
                let mut s = format!(
                    "unknown key `{key}` in {context} (expected one of: {}",
                    expected.join(", ")
                );
                if let Some(h) = hint {
                    s.push_str(&format!("; hint: did you mean `{h}`?"));
                }
                s.push(')');
                s
            }
            SpecErrorKind::MissingKey { context } => {
                format!("missing key `{key}` in {context} (hint: add `{key}: …`)")
            }
            SpecErrorKind::DuplicateKey {
                context,
                first_line,
            } => format!("key `{key}` appears twice in {context} (first on line {first_line})"),
            SpecErrorKind::WrongType {
                context,
                expected,
                found,
            } => {
                if key.is_empty() {
                    format!("{context} must be {expected}, found {found}")
                } else {
                    format!("wrong type for `{key}` in {context}: expected {expected}, found {found}")
                }
            }
            SpecErrorKind::InvalidValue {
                context,
                message,
                hint,
            } => {
                let mut s = if key.is_empty() {
                    format!("invalid {context}: {message}")
                } else {
                    format!("invalid value for `{key}` in {context}: {message}")
                };
                if let Some(h) = hint {
                    s.push_str(&format!(" (hint: {h})"));
                }
                s
            }
            SpecErrorKind::NoCheck { test, expected } => format!(
                "test `{test}` has no check (expected one of: {})",
                expected.join(", ")
            ),
            SpecErrorKind::TwoChecks {
                test,
                first,
                second,
            } => format!(
                "test `{test}` has two checks, `{first}` and `{second}` (hint: one check per test; split it into two tests)"
            ),
            SpecErrorKind::DuplicateTest { name, first_line } => format!(
                "duplicate test name `{name}` (first defined on line {first_line}; trial ids must be unique)"
            ),
            SpecErrorKind::Io { message } | SpecErrorKind::Text { message } => message.clone(),
        };
        format!("{pos}: {msg}")
    }
}

/// The accepted key closest to `got`, when it is close enough to be a likely typo.
pub fn closest<'a>(got: &str, accepted: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let got_l = got.to_ascii_lowercase();
    accepted
        .into_iter()
        .map(|a| {
            (
                strsim::damerau_levenshtein(&got_l, &a.to_ascii_lowercase()),
                a,
            )
        })
        .filter(|(d, a)| {
            *d <= (a.len().max(got.len()) / 3).max(1)
                || got_l.starts_with(a)
                || a.starts_with(&got_l) && got.len() >= 3
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a.to_string())
}

impl fmt::Display for SpecErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = SpecError {
            file: PathBuf::new(),
            line: 0,
            column: 0,
            key: None,
            kind: Box::new(self.clone()),
        };
        let s = e.to_string();
        f.write_str(s.trim_start_matches(": "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_and_ignores_far_words() {
        let keys = ["service", "command", "exit", "stdout", "stderr", "record"];
        assert_eq!(closest("stdot", keys).as_deref(), Some("stdout"));
        assert_eq!(closest("comand", keys).as_deref(), Some("command"));
        assert_eq!(closest("Service", keys).as_deref(), Some("service"));
        assert_eq!(closest("banana", keys), None);
    }

    #[test]
    fn unknown_key_renders_position_expected_and_hint() {
        let e = SpecError {
            file: "overlays/x/a.yaml".into(),
            line: 12,
            column: 5,
            key: Some("stdot".into()),
            kind: Box::new(SpecErrorKind::UnknownKey {
                context: "exec check".into(),
                expected: ["service", "command", "exit", "stdout", "stderr", "record"]
                    .map(String::from)
                    .to_vec(),
                hint: Some("stdout".into()),
            }),
        };
        assert_eq!(
            e.to_string(),
            "overlays/x/a.yaml:12:5: unknown key `stdot` in exec check (expected one of: service, command, exit, stdout, stderr, record; hint: did you mean `stdout`?)"
        );
    }
}
