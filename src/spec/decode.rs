//! Typed reading of a marked YAML tree: mappings with a fixed set of keys (from the same tables the
//! reference is generated from), scalars, lists, durations, regexes and commands. Collects every error
//! with its position instead of stopping at the first; never decides what a spec means.

use std::path::Path;
use std::time::Duration;

use super::error::{closest, SpecError, SpecErrorKind};
use super::node::{Node, Value};

/// One accepted key of a mapping, as documented in the reference.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ty: &'static str,
    pub required: bool,
    pub doc: &'static str,
}

/// One kind of check or step: its key, summary, accepted fields and an example.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    pub name: &'static str,
    pub summary: &'static str,
    pub fields: &'static [Field],
    pub example: &'static str,
}

/// Shorthand for table entries.
pub const fn f(name: &'static str, ty: &'static str, required: bool, doc: &'static str) -> Field {
    Field {
        name,
        ty,
        required,
        doc,
    }
}

/// Reads nodes and collects errors against one file.
pub struct Decoder<'p> {
    pub file: &'p Path,
    pub errors: Vec<SpecError>,
}

/// The entries of a mapping whose keys have been checked against a table.
pub struct Fields<'n> {
    pub node: &'n Node,
    pub entries: Vec<(&'n str, &'n Node, &'n Node)>,
    pub context: String,
}

impl<'n> Fields<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }
}

impl<'p> Decoder<'p> {
    pub fn new(file: &'p Path) -> Self {
        Decoder {
            file,
            errors: Vec::new(),
        }
    }

    pub fn err(&mut self, node: &Node, key: Option<&str>, kind: SpecErrorKind) {
        self.errors.push(SpecError {
            file: self.file.to_path_buf(),
            line: node.line,
            column: node.column,
            key: key.map(str::to_string),
            kind: Box::new(kind),
        });
    }

    pub fn wrong_type(&mut self, node: &Node, key: Option<&str>, context: &str, expected: &str) {
        let found = node.describe();
        self.err(
            node,
            key,
            SpecErrorKind::WrongType {
                context: context.into(),
                expected: expected.into(),
                found,
            },
        );
    }

    pub fn invalid(&mut self, node: &Node, key: Option<&str>, context: &str, message: String) {
        self.invalid_hint(node, key, context, message, None);
    }

    pub fn invalid_hint(
        &mut self,
        node: &Node,
        key: Option<&str>,
        context: &str,
        message: String,
        hint: Option<String>,
    ) {
        self.err(
            node,
            key,
            SpecErrorKind::InvalidValue {
                context: context.into(),
                message,
                hint,
            },
        );
    }

    /// Checks that `node` is a mapping whose keys are all in `allowed`, reporting unknown keys (with the
    /// closest accepted one), duplicate keys and non-string keys.
    pub fn fields<'n>(
        &mut self,
        node: &'n Node,
        key: Option<&str>,
        context: &str,
        allowed: &[&str],
    ) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            self.wrong_type(node, key, context, "a mapping");
            return None;
        };
        let mut out = Fields {
            node,
            entries: Vec::new(),
            context: context.to_string(),
        };
        for (k, v) in entries {
            let Some(name) = k.scalar() else {
                self.wrong_type(k, None, &format!("a key of {context}"), "a plain string");
                continue;
            };
            if !allowed.contains(&name) {
                self.err(
                    k,
                    Some(name),
                    SpecErrorKind::UnknownKey {
                        context: context.into(),
                        expected: allowed.iter().map(|s| s.to_string()).collect(),
                        hint: closest(name, allowed.iter().copied()),
                    },
                );
                continue;
            }
            if let Some((_, first, _)) = out.entries.iter().find(|(n, _, _)| *n == name) {
                let first_line = first.line;
                self.err(
                    k,
                    Some(name),
                    SpecErrorKind::DuplicateKey {
                        context: context.into(),
                        first_line,
                    },
                );
                continue;
            }
            out.entries.push((name, k, v));
        }
        Some(out)
    }

    /// The value of a required key, or a "missing key" error at the mapping.
    pub fn required<'n>(&mut self, fields: &Fields<'n>, key: &str) -> Option<&'n Node> {
        let v = fields.get(key);
        if v.is_none() {
            let context = fields.context.clone();
            self.err(
                fields.node,
                Some(key),
                SpecErrorKind::MissingKey { context },
            );
        }
        v
    }

    pub fn string(&mut self, node: &Node, key: &str, context: &str) -> Option<String> {
        match &node.value {
            Value::Scalar { text, .. } => Some(text.clone()),
            _ => {
                self.wrong_type(node, Some(key), context, "a string");
                None
            }
        }
    }

    /// A non-empty string.
    pub fn text(&mut self, node: &Node, key: &str, context: &str) -> Option<String> {
        let s = self.string(node, key, context)?;
        if s.trim().is_empty() {
            self.invalid(node, Some(key), context, "must not be empty".into());
            return None;
        }
        Some(s)
    }

    pub fn int(&mut self, node: &Node, key: &str, context: &str) -> Option<i64> {
        match &node.value {
            Value::Scalar {
                text,
                quoted: false,
            } => match text.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.wrong_type(node, Some(key), context, "an integer");
                    None
                }
            },
            _ => {
                self.wrong_type(node, Some(key), context, "an integer");
                None
            }
        }
    }

    pub fn port(&mut self, node: &Node, key: &str, context: &str) -> Option<u16> {
        let n = self.int(node, key, context)?;
        match u16::try_from(n) {
            Ok(p) if p > 0 => Some(p),
            _ => {
                self.invalid(
                    node,
                    Some(key),
                    context,
                    format!("{n} is not a port (1–65535)"),
                );
                None
            }
        }
    }

    pub fn bool(&mut self, node: &Node, key: &str, context: &str) -> Option<bool> {
        match node.scalar() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => {
                self.wrong_type(node, Some(key), context, "true or false");
                None
            }
        }
    }

    /// A duration like `90s`, `5m`, `1m 30s` (a plain integer means seconds) in `[min, max]`.
    pub fn duration(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        min: Duration,
        max: Duration,
    ) -> Option<Duration> {
        let s = self.string(node, key, context)?;
        match crate::duration::parse_bounded(&s, min, max) {
            Ok(d) => Some(d),
            Err(e @ crate::duration::DurationError::Syntax { .. }) => {
                let why = e.to_string();
                let why = why.split(" (hint:").next().unwrap_or(&why).to_string();
                self.invalid_hint(
                    node,
                    Some(key),
                    context,
                    why,
                    Some("write e.g. `90s`, `5m` or `1m 30s`".into()),
                );
                None
            }
            Err(e) => {
                self.invalid(node, Some(key), context, e.to_string());
                None
            }
        }
    }

    /// A list of items; a single scalar is accepted as a one-item list.
    pub fn list<'n>(&mut self, node: &'n Node, key: &str, context: &str) -> Option<Vec<&'n Node>> {
        match &node.value {
            Value::Seq(items) => Some(items.iter().collect()),
            Value::Scalar { .. } => Some(vec![node]),
            _ => {
                self.wrong_type(node, Some(key), context, "a list");
                None
            }
        }
    }

    pub fn regex(&mut self, node: &Node, key: &str, context: &str) -> Option<regex::Regex> {
        let s = self.string(node, key, context)?;
        match regex::Regex::new(&s) {
            Ok(r) => Some(r),
            Err(e) => {
                let first = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .trim_start_matches("error: ")
                    .to_string();
                self.invalid_hint(
                    node,
                    Some(key),
                    context,
                    format!("`{s}` is not a valid regex: {first}"),
                    Some(
                        "regexes use Rust `regex` syntax; escape literal `(`, `[`, `.` with `\\`"
                            .into(),
                    ),
                );
                None
            }
        }
    }

    /// A name used in ids and records: letters, digits, `_`, `-`, `.`.
    pub fn name(&mut self, node: &Node, key: &str, context: &str) -> Option<String> {
        let s = self.text(node, key, context)?;
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            self.invalid_hint(
                node,
                Some(key),
                context,
                format!("`{s}` may hold only letters, digits, `_`, `-` and `.`"),
                Some(format!("try `{}`", sanitize(&s))),
            );
            return None;
        }
        Some(s)
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}
