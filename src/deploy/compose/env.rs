//! The app env a recipe is deployed with, read the way abra reads it: `.env.sample` (the app's env
//! file) through godotenv's rules (see [`parse_env`]), then the `export X=Y` lines of `abra.sh`
//! (config versions), then the caller's overrides, then `STACK_NAME` and `DOMAIN`. Also reads the
//! `# length=N` hints of `SECRET_*_VERSION` lines. Pure parsing: it never runs `abra.sh` and never
//! looks at the process environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

/// A parsed env file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EnvFile {
    pub vars: BTreeMap<String, String>,
    /// Secret name (`api_key` from `SECRET_API_KEY_VERSION`) → wanted length, from `# length=N`.
    pub secret_lengths: BTreeMap<String, usize>,
    /// The 1-based line each variable was last set on (where a person looks).
    pub lines: BTreeMap<String, usize>,
}

/// An env file abra would refuse, with the line of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct EnvError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// Parses an env file the way abra does (godotenv 1.5): statements one after the other, later ones
/// win; `export ` is dropped; `KEY=VALUE` or `KEY: VALUE`; an unquoted value ends at the line's end
/// or at its last ` #` comment and is trimmed; a single-quoted value is literal; a double-quoted value
/// may span lines, turns `\n` into a newline and drops other backslashes; unquoted and double-quoted
/// values expand `$VAR` and `${VAR}` (names of `A-Z`, `0-9`, `_`) against the variables read so far,
/// an unknown one expanding to nothing, `\$` staying a literal `$`. Unlike abra, a variable missing
/// from the file is never looked up in the process environment: the result depends on the file only.
pub fn parse_env(file: &Path, text: &str) -> Result<EnvFile, EnvError> {
    parse_env_pinned(file, text, &BTreeMap::new())
}

/// [`parse_env`] of an app's env file made from `text` with the `pins` edited in, as `abra app new`
/// writes the app's DOMAIN into its copy of `.env.sample`: a line setting a pinned variable sets the
/// pinned value instead (so later `$DOMAIN` see it), and pinned variables the file never sets are
/// appended at its end.
pub fn parse_env_pinned(
    file: &Path,
    text: &str,
    pins: &BTreeMap<String, String>,
) -> Result<EnvFile, EnvError> {
    let src = text.replace("\r\n", "\n").replace("---\n", "\n");
    let mut env = EnvFile::default();
    let mut rest: &str = &src;
    loop {
        rest = skip_blank_and_comments(rest);
        if rest.is_empty() {
            break;
        }
        let line = src[..src.len() - rest.len()].matches('\n').count() + 1;
        let err = |message: String| EnvError {
            file: file.to_path_buf(),
            line,
            message,
        };
        let (key, after) = key_name(rest).map_err(err)?;
        let (value, comment, left) = value(after, &env.vars).map_err(err)?;
        let value = pins.get(&key).cloned().unwrap_or(value);
        if let Some(name) = key
            .strip_prefix("SECRET_")
            .and_then(|k| k.strip_suffix("_VERSION"))
        {
            if let Some(n) = comment
                .split_whitespace()
                .find_map(|w| w.strip_prefix("length="))
                .and_then(|n| n.parse().ok())
            {
                env.secret_lengths.insert(name.to_ascii_lowercase(), n);
            }
        }
        env.lines.insert(key.clone(), line);
        env.vars.insert(key, value);
        rest = left;
    }
    for (k, v) in pins {
        if !env.vars.contains_key(k) {
            env.vars.insert(k.clone(), v.clone());
        }
    }
    Ok(env)
}

/// Skips whitespace (newlines included) and `#` comment lines.
fn skip_blank_and_comments(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        match s.strip_prefix('#') {
            Some(_) => match s.find('\n') {
                Some(i) => s = &s[i..],
                None => return "",
            },
            None => return s,
        }
    }
}

/// Spaces that do not end a line.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

/// The key of the statement at `s` and what follows its `=` (or `:`), leading spaces trimmed.
fn key_name(s: &str) -> Result<(String, &str), String> {
    let mut s = s.trim_start_matches(is_space);
    if let Some(t) = s.strip_prefix("export") {
        if t.starts_with(is_space) {
            s = t.trim_start_matches(is_space);
        }
    }
    for (i, c) in s.char_indices() {
        match c {
            '=' | ':' => {
                let key = s[..i].trim_end_matches(is_space).to_string();
                if key.is_empty() {
                    return Err(format!(
                        "a line starts with `{c}` but names no variable (hint: write KEY=VALUE)"
                    ));
                }
                return Ok((key, s[i + 1..].trim_start_matches(is_space)));
            }
            c if is_space(c) || c == '_' || c == '.' || c.is_alphanumeric() => {}
            _ => {
                let near: String = s.lines().next().unwrap_or("").chars().take(40).collect();
                let what = if c == '\n' {
                    "a line without `=`".to_string()
                } else {
                    format!("unexpected character {c:?} in a variable name")
                };
                return Err(format!(
                    "{what} near {near:?}; abra refuses this file (hint: every line is KEY=VALUE, a comment starting with #, or blank)"
                ));
            }
        }
    }
    Err(format!(
        "{:?} has no `=`; abra refuses this file (hint: write KEY=VALUE)",
        s.trim()
    ))
}

/// The value at `s`: (value, trailing comment, the rest after it).
fn value<'a>(
    s: &'a str,
    vars: &BTreeMap<String, String>,
) -> Result<(String, String, &'a str), String> {
    let quote = match s.chars().next() {
        Some(q @ ('"' | '\'')) => q,
        _ => {
            let end = s.find(['\n', '\r']).unwrap_or(s.len());
            let line = &s[..end];
            // The last ` #` (or tab-#) starts the comment.
            let mut cut = line.len();
            let chars: Vec<(usize, char)> = line.char_indices().collect();
            for w in chars.windows(2).rev() {
                if w[1].1 == '#' && is_space(w[0].1) {
                    cut = w[1].0;
                    break;
                }
            }
            let comment = line[cut..].trim_start_matches('#').to_string();
            let v = line[..cut].trim_matches(is_space);
            return Ok((expand(v, vars), comment, &s[end..]));
        }
    };
    let bytes = s.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i] != quote as u8 || bytes[i - 1] == b'\\' {
            continue;
        }
        let inner = s[..i].trim_start_matches(quote).trim_end_matches(quote);
        let v = if quote == '"' {
            expand(&unescape(inner), vars)
        } else {
            inner.to_string()
        };
        let left = &s[i + 1..];
        let same_line = &left[..left.find('\n').unwrap_or(left.len())];
        let comment = same_line
            .trim_start_matches(is_space)
            .strip_prefix('#')
            .unwrap_or("")
            .to_string();
        return Ok((v, comment, left));
    }
    let first = s.lines().next().unwrap_or(s);
    Err(format!(
        "unterminated quoted value {first}; abra refuses this file (hint: close the {quote})"
    ))
}

static ESCAPE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\\.").expect("valid regex"));
static UNESCAPE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\\([^$])").expect("valid regex"));
static EXPAND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\\)?(\$)(\()?\{?([A-Z0-9_]+)?\}?").expect("valid regex"));

/// Double-quoted values: `\n` and `\r` become line breaks, other `\X` become `X` (but `\$` stays).
fn unescape(s: &str) -> String {
    let out = ESCAPE.replace_all(s, |c: &regex::Captures| match &c[0] {
        "\\n" => "\n".to_string(),
        "\\r" => "\r".to_string(),
        m => m.to_string(),
    });
    UNESCAPE.replace_all(&out, "$1").into_owned()
}

/// `$VAR` / `${VAR}` against the variables read so far; `\$…` stays literal without its backslash.
fn expand(s: &str, vars: &BTreeMap<String, String>) -> String {
    EXPAND
        .replace_all(s, |c: &regex::Captures| {
            if c.get(1).is_some() {
                return c[0][1..].to_string();
            }
            match c.get(4) {
                Some(name) => vars.get(name.as_str()).cloned().unwrap_or_default(),
                None => c[0].to_string(),
            }
        })
        .into_owned()
}

/// The `export NAME=VALUE` lines of an `abra.sh`, as abra reads them for a deploy: the value is taken
/// literally (no quotes removed, nothing expanded). Other lines, and exports without `=`, are skipped.
pub fn abra_sh_exports(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        let Some(def) = line.strip_prefix("export ") else {
            continue;
        };
        let Some((key, value)) = def.trim_start().split_once('=') else {
            continue;
        };
        let ok = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ok {
            out.insert(key.to_string(), value.to_string());
        }
    }
    out
}

/// Why the app env could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum AppEnvError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Parse(#[from] EnvError),
}

/// Reads `.env.sample` of `checkout` as abra reads an app's env file (empty when it is missing).
pub fn read_env_sample(checkout: &Path) -> Result<EnvFile, AppEnvError> {
    let path = checkout.join(".env.sample");
    match read_optional(&path)? {
        Some(t) => Ok(parse_env(&path, &t)?),
        None => Ok(EnvFile::default()),
    }
}

/// The full env of an app, as abra deploys it: its env file (`.env.sample` with `DOMAIN` and the
/// `overrides` edited in, see [`parse_env_pinned`]), then the `abra.sh` exports over it, then
/// `STACK_NAME` (and the overrides and `DOMAIN` once more, so nothing shadows them).
pub fn app_env(
    checkout: &Path,
    stack: &str,
    domain: &str,
    overrides: &BTreeMap<String, String>,
) -> Result<EnvFile, AppEnvError> {
    let mut pins = overrides.clone();
    pins.insert("DOMAIN".into(), domain.into());
    let path = checkout.join(".env.sample");
    let mut env = match read_optional(&path)? {
        Some(t) => parse_env_pinned(&path, &t, &pins)?,
        None => EnvFile {
            vars: pins.clone(),
            ..Default::default()
        },
    };
    if let Some(t) = read_optional(&checkout.join("abra.sh"))? {
        env.vars.extend(abra_sh_exports(&t));
    }
    env.vars.extend(pins);
    env.vars.insert("STACK_NAME".into(), stack.into());
    Ok(env)
}

/// A file's text, `None` when it does not exist. Anything but a regular file is an error.
fn read_optional(path: &Path) -> Result<Option<String>, AppEnvError> {
    let io = |source| AppEnvError::Io {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
        Ok(m) if !m.is_file() => {
            return Err(io(std::io::Error::other(
                "is not a regular file (hint: it must be a plain file in the recipe)",
            )))
        }
        Ok(_) => {}
    }
    std::fs::read_to_string(path).map(Some).map_err(io)
}

#[cfg(test)]
#[path = "env_tests.rs"]
mod tests;
