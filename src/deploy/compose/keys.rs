//! Walking compose YAML safely: the [`Checker`] that sorts every key into understood, ignored (as
//! `docker stack deploy` ignores it, printed as a warning) or unsupported (the load fails naming it),
//! and points errors at `file:line`; and the small readers of scalar values (strings, flags, maps,
//! lists, durations, numbers) the section parsers share. It decides nothing about what a key means.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_yaml::{Mapping, Value};

use super::values::{parse_duration, shell_split};
use super::yaml::{go_number_string, Lines};
use super::ComposeError;

/// Where the merged values came from: each file read, with the line of every key path in it.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    pub files: Vec<(PathBuf, Lines)>,
}

impl Origins {
    /// The file and line that set `key` (the last file that has it wins, as in the merge), or the
    /// first file when no file has the key.
    pub fn locate(&self, key: &str) -> (PathBuf, Option<usize>) {
        let mut probe = key.to_string();
        loop {
            for (file, lines) in self.files.iter().rev() {
                if let Some(l) = lines.get(&probe) {
                    return (file.clone(), Some(*l));
                }
            }
            // `services.app.ports[0].target` → `services.app.ports[0]` → … until something is known.
            match probe.rfind(['.', '[']) {
                Some(i) if i > 0 => probe.truncate(i),
                _ => break,
            }
        }
        let first = self
            .files
            .first()
            .map(|(f, _)| f.clone())
            .unwrap_or_default();
        (first, None)
    }
}

/// Collects key problems while walking.
pub struct Checker {
    unsupported: Vec<String>,
    ignored: Vec<String>,
    origins: Origins,
}

impl Checker {
    pub fn new(origins: Origins) -> Self {
        Checker {
            unsupported: Vec::new(),
            ignored: Vec::new(),
            origins,
        }
    }

    /// Sorts the keys of `m` (at path `at`): `x-` extensions and `allowed` keys pass, `ignored` keys
    /// are remembered as ignored, anything else as unsupported.
    pub fn keys(&mut self, m: &Mapping, at: &str, allowed: &[&str], ignored: &[&str]) {
        for k in m.keys() {
            let k = scalar_string(k);
            let path = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            if k.starts_with("x-") || allowed.contains(&k.as_str()) {
                continue;
            }
            if ignored.contains(&k.as_str()) {
                self.ignored.push(path);
            } else {
                self.unsupported.push(path);
            }
        }
    }

    /// An invalid value at `key`, placed at its file and line.
    pub fn invalid(&self, key: &str, message: impl Into<String>) -> ComposeError {
        let (path, line) = self.origins.locate(key);
        ComposeError::Invalid {
            path,
            line,
            key: key.to_string(),
            message: message.into(),
        }
    }

    pub fn origins(&self) -> &Origins {
        &self.origins
    }

    pub fn into_origins(self) -> Origins {
        self.origins
    }

    /// (unsupported, ignored) key paths, in the order met, and where the keys came from.
    pub fn finish(self) -> (Vec<String>, Vec<String>, Origins) {
        (self.unsupported, self.ignored, self.origins)
    }
}

/// A scalar as Docker turns it into text (numbers as Go prints them, booleans as words); other
/// values as YAML.
pub fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => go_number_string(n),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// The entries of a top-level section (`services`, `volumes`, …) by name.
pub fn section(top: &Mapping, key: &str) -> Vec<(String, Value)> {
    top.get(key)
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (scalar_string(k), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

pub fn string(m: &Mapping, key: &str) -> Option<String> {
    m.get(key).filter(|v| !v.is_null()).map(scalar_string)
}

pub fn flag(m: &Mapping, key: &str) -> bool {
    match m.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        // `external: {name: x}` (old syntax) is external too.
        Some(Value::Mapping(_)) => true,
        _ => false,
    }
}

/// A `K: V` mapping (lists were normalized already) as strings; null values become "".
pub fn kv(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (scalar_string(k), scalar_string(v)))
                .collect()
        })
        .unwrap_or_default()
}

/// A list of scalars as strings; a single scalar is a list of one (Docker's string-or-list).
pub fn list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Sequence(s)) => s.iter().map(scalar_string).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![scalar_string(other)],
    }
}

pub fn words(
    ck: &Checker,
    at: &str,
    v: Option<&Value>,
) -> Result<Option<Vec<String>>, ComposeError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => shell_split(s).map(Some).map_err(|e| ck.invalid(at, e)),
        Some(Value::Sequence(_)) => Ok(Some(list(v))),
        Some(_) => Err(ck.invalid(at, "expected a string or a list")),
    }
}

pub fn duration(
    ck: &Checker,
    at: &str,
    m: &Mapping,
    key: &str,
) -> Result<Option<Duration>, ComposeError> {
    string(m, key)
        .map(|s| parse_duration(&s).map_err(|e| ck.invalid(&format!("{at}.{key}"), e)))
        .transpose()
}

pub fn int(ck: &Checker, at: &str, m: &Mapping, key: &str) -> Result<Option<i64>, ComposeError> {
    string(m, key)
        .map(|s| {
            s.parse::<i64>().map_err(|_| {
                ck.invalid(
                    &format!("{at}.{key}"),
                    format!("expected a number, got {s:?}"),
                )
            })
        })
        .transpose()
}

/// A file mode: a YAML number (`0440` was read as octal already) or a string of octal digits.
pub fn mode(ck: &Checker, at: &str, m: &Mapping) -> Result<Option<u32>, ComposeError> {
    match m.get("mode") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| ck.invalid(&format!("{at}.mode"), format!("bad mode {n}"))),
        Some(Value::String(s)) => u32::from_str_radix(s.trim_start_matches("0o"), 8)
            .map(Some)
            .map_err(|_| {
                ck.invalid(
                    &format!("{at}.mode"),
                    format!("bad mode {s:?} (hint: write it as an octal number, e.g. 0440)"),
                )
            }),
        Some(_) => Err(ck.invalid(&format!("{at}.mode"), "expected a number")),
    }
}

/// `path` relative to `base` unless absolute, cleaned lexically as Go's `filepath.Join` cleans it
/// (how Docker resolves config/secret files and bind sources).
pub fn resolve_path(base: &Path, path: &str) -> PathBuf {
    use std::path::Component;
    let joined = base.join(path);
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if out.parent().is_some() {
                    out.pop();
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}
