//! The two value types every check and step shares: how text is matched (`equals`, `contains`,
//! `regex`) and how a command is written (a shell string or an argv list). Parsing and matching
//! only; running a command belongs to the evaluator.

use std::fmt;

use super::decode::Decoder;
use super::node::{Node, Value};

/// How a piece of text (stdout, a label, a body, a file) is matched.
#[derive(Debug, Clone)]
pub enum TextMatch {
    /// The whole text, after removing trailing newlines (`\n`, `\r\n`), equals this.
    Equals(String),
    /// The text contains this substring.
    Contains(String),
    /// The regex matches somewhere in the text (anchor with `^…$` to match all of it).
    Regex(regex::Regex),
}

impl TextMatch {
    pub fn matches(&self, s: &str) -> bool {
        match self {
            TextMatch::Equals(e) => s.trim_end_matches(['\n', '\r']) == e,
            TextMatch::Contains(c) => s.contains(c.as_str()),
            TextMatch::Regex(r) => r.is_match(s),
        }
    }

    /// True when the matcher accepts every text, so the assertion can never fail.
    pub fn never_fails(&self) -> bool {
        match self {
            TextMatch::Equals(_) => false,
            TextMatch::Contains(c) => c.is_empty(),
            TextMatch::Regex(r) => regex_matches_everything(r),
        }
    }
}

/// A regex that matches the empty string also matches (somewhere) in every text.
pub fn regex_matches_everything(r: &regex::Regex) -> bool {
    r.is_match("")
}

impl PartialEq for TextMatch {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (TextMatch::Equals(a), TextMatch::Equals(b)) => a == b,
            (TextMatch::Contains(a), TextMatch::Contains(b)) => a == b,
            (TextMatch::Regex(a), TextMatch::Regex(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl fmt::Display for TextMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextMatch::Equals(s) => write!(f, "equals {s:?}"),
            TextMatch::Contains(s) => write!(f, "contains {s:?}"),
            TextMatch::Regex(r) => write!(f, "matches /{}/", r.as_str()),
        }
    }
}

/// What a bare string (not a `{equals|contains|regex: …}` mapping) means for a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bare {
    Equals,
    Contains,
}

pub const MATCH_KEYS: [&str; 3] = ["equals", "contains", "regex"];

/// Reads a text matcher: a bare string (meaning `bare`) or a mapping with exactly one of
/// `equals`, `contains`, `regex`.
pub fn parse_match(
    dec: &mut Decoder,
    node: &Node,
    key: &str,
    context: &str,
    bare: Bare,
) -> Option<TextMatch> {
    match &node.value {
        Value::Scalar { text, .. } => Some(match bare {
            Bare::Equals => TextMatch::Equals(text.clone()),
            Bare::Contains => TextMatch::Contains(text.clone()),
        }),
        Value::Map(_) => {
            let ctx = format!("{context} `{key}`");
            let fields = dec.fields(node, Some(key), &ctx, &MATCH_KEYS)?;
            one_of(dec, &fields.entries, node, key, &ctx)
        }
        _ => {
            dec.wrong_type(
                node,
                Some(key),
                context,
                "a string or a mapping with one of `equals`, `contains`, `regex`",
            );
            None
        }
    }
}

/// Picks exactly one of `equals` / `contains` / `regex` among already-checked entries.
pub fn one_of(
    dec: &mut Decoder,
    entries: &[(&str, &Node, &Node)],
    at: &Node,
    key: &str,
    context: &str,
) -> Option<TextMatch> {
    let present: Vec<_> = entries
        .iter()
        .filter(|(k, _, _)| MATCH_KEYS.contains(k))
        .collect();
    match present.as_slice() {
        [] => {
            dec.invalid_hint(
                at,
                Some(key),
                context,
                "needs one of `equals`, `contains`, `regex`".into(),
                Some("e.g. `equals: \"true\"` or `regex: \"^1\\\\.\"`".into()),
            );
            None
        }
        [(k, _, v)] => match *k {
            "regex" => dec.regex(v, k, context).map(TextMatch::Regex),
            "contains" => dec.string(v, k, context).map(TextMatch::Contains),
            _ => dec.string(v, k, context).map(TextMatch::Equals),
        },
        [_, (k2, kn, _), ..] => {
            dec.invalid_hint(
                kn,
                Some(k2),
                context,
                "only one of `equals`, `contains`, `regex` may be given".into(),
                Some("write a second test for a second condition".into()),
            );
            None
        }
    }
}

/// A command: `Shell` runs through `sh -c`; `Argv` runs as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Argv(Vec<String>),
    Shell(String),
}

impl Command {
    /// The argv to execute.
    pub fn argv(&self) -> Vec<String> {
        match self {
            Command::Argv(v) => v.clone(),
            Command::Shell(s) => vec!["sh".into(), "-c".into(), s.clone()],
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Shell(s) => f.write_str(s),
            Command::Argv(v) => f.write_str(&v.join(" ")),
        }
    }
}

/// Reads a command: a non-empty string (shell) or a non-empty list of strings (argv).
pub fn parse_command(dec: &mut Decoder, node: &Node, key: &str, context: &str) -> Option<Command> {
    match &node.value {
        Value::Scalar { .. } => dec.text(node, key, context).map(Command::Shell),
        Value::Seq(items) if !items.is_empty() => {
            let mut argv = Vec::new();
            for it in items {
                argv.push(dec.string(it, key, context)?);
            }
            Some(Command::Argv(argv))
        }
        _ => {
            dec.wrong_type(
                node,
                Some(key),
                context,
                "a shell string or a non-empty list of arguments",
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_match_as_documented() {
        assert!(TextMatch::Equals("ok".into()).matches("ok\n"));
        assert!(!TextMatch::Equals("ok".into()).matches("ok \n"));
        assert!(TextMatch::Contains("ell".into()).matches("hello"));
        let r = TextMatch::Regex(regex::Regex::new("^1\\.").unwrap());
        assert!(r.matches("1.2") && !r.matches("21.2"));
        assert!(TextMatch::Contains(String::new()).never_fails());
        assert!(TextMatch::Regex(regex::Regex::new("a*").unwrap()).never_fails());
        assert!(!r.never_fails());
    }

    #[test]
    fn shell_commands_run_through_sh() {
        assert_eq!(Command::Shell("true".into()).argv(), ["sh", "-c", "true"]);
        assert_eq!(Command::Argv(vec!["true".into()]).argv(), ["true"]);
    }
}
