//! Where a recipe comes from: a catalogue name (`hello`), a git URL, or a local path. Parsing validates
//! the recipe name, so a name can never smuggle a path or an option into a later command. It never
//! touches the network and never writes anything.

use std::path::{Path, PathBuf};

use super::RecipeError;

/// A recipe source as typed by a person or passed by CI (`RECIPE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipeSource {
    /// A catalogue name, fetched from `<base_url>/<name>.git`.
    Name(String),
    /// A git URL (`https://…`, `ssh://…`, `file://…`, `git@host:path`).
    Url(String),
    /// A local git repository (never used in place: it is cloned into the run's checkout).
    Path(PathBuf),
}

impl RecipeSource {
    /// Parses `input`: anything with a URL scheme or of the scp form `user@host:path` is a URL,
    /// anything else containing `/` (or `.`/`..`/`~`) is a path, and the rest must be a valid name.
    pub fn parse(input: &str) -> Result<RecipeSource, RecipeError> {
        let invalid = |reason: &str| RecipeError::InvalidSource {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(invalid(
                "it is empty (hint: pass a recipe name, a git URL or a path)",
            ));
        }
        if s.starts_with('-') {
            return Err(invalid("it starts with `-`"));
        }
        if s.chars().any(|c| c.is_control()) {
            return Err(invalid("it contains control characters"));
        }
        let source = if is_url(s) {
            RecipeSource::Url(s.trim_end_matches('/').to_string())
        } else if s.contains('/') || s == "." || s == ".." || s.starts_with('~') {
            let expanded = match s.strip_prefix("~/") {
                Some(rest) => match std::env::var_os("HOME") {
                    Some(home) => PathBuf::from(home).join(rest),
                    None => return Err(invalid("`~` is used but HOME is not set")),
                },
                None => PathBuf::from(s),
            };
            let abs = std::path::absolute(&expanded).map_err(|e| RecipeError::BadPath {
                path: expanded.clone(),
                reason: format!("cannot be made absolute: {e}"),
            })?;
            RecipeSource::Path(std::fs::canonicalize(&abs).unwrap_or(abs))
        } else {
            validate_name(s)?;
            return Ok(RecipeSource::Name(s.to_string()));
        };
        validate_name(&source.name())?;
        Ok(source)
    }

    /// The recipe name: the name itself, or the last URL/path component without `.git`.
    pub fn name(&self) -> String {
        match self {
            RecipeSource::Name(n) => n.clone(),
            RecipeSource::Url(u) => {
                let last = u
                    .trim_end_matches('/')
                    .rsplit(['/', ':'])
                    .next()
                    .unwrap_or_default();
                strip_git(last).to_string()
            }
            RecipeSource::Path(p) => {
                let last = p
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                strip_git(&last).to_string()
            }
        }
    }

    /// The git URL or path to fetch from, given the catalogue base URL for names.
    pub fn fetch_url(&self, base_url: &str) -> String {
        match self {
            RecipeSource::Name(n) => format!("{}/{n}.git", base_url.trim_end_matches('/')),
            RecipeSource::Url(u) => u.clone(),
            RecipeSource::Path(p) => p.display().to_string(),
        }
    }

    /// A description for error messages: `hello (from https://…/hello.git)`.
    pub fn describe(&self, base_url: &str) -> String {
        match self {
            RecipeSource::Name(n) => format!("recipe `{n}` ({})", self.fetch_url(base_url)),
            RecipeSource::Url(u) => format!("recipe URL {u}"),
            RecipeSource::Path(p) => format!("recipe path {}", p.display()),
        }
    }

    /// The local path, for path sources.
    pub fn path(&self) -> Option<&Path> {
        match self {
            RecipeSource::Path(p) => Some(p),
            _ => None,
        }
    }
}

impl std::fmt::Display for RecipeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecipeSource::Name(n) => f.write_str(n),
            RecipeSource::Url(u) => f.write_str(u),
            RecipeSource::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

fn strip_git(s: &str) -> &str {
    s.strip_suffix(".git").unwrap_or(s)
}

fn is_url(s: &str) -> bool {
    if let Some((scheme, _)) = s.split_once("://") {
        return !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.');
    }
    // scp-like syntax: user@host:path (no slash before the colon).
    match (s.find('@'), s.find(':')) {
        (Some(at), Some(colon)) => at < colon && !s[..colon].contains('/'),
        _ => false,
    }
}

/// Validates a recipe name: `[a-z0-9][a-z0-9-_.]*`, without `..`.
pub fn validate_name(name: &str) -> Result<(), RecipeError> {
    let bad = |reason| RecipeError::InvalidName {
        name: name.to_string(),
        reason,
    };
    let mut chars = name.chars();
    match chars.next() {
        None => return Err(bad("it is empty")),
        Some(c) if !(c.is_ascii_lowercase() || c.is_ascii_digit()) => {
            return Err(bad("it must start with a lowercase letter or a digit"))
        }
        _ => {}
    }
    if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c)) {
        return Err(bad(
            "it may only hold lowercase letters, digits, `-`, `_` and `.`",
        ));
    }
    if name.contains("..") {
        return Err(bad("it must not contain `..`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_word_is_a_catalogue_name() {
        assert_eq!(
            RecipeSource::parse("custom-html").unwrap(),
            RecipeSource::Name("custom-html".into())
        );
    }

    #[test]
    fn urls_keep_their_form_and_name_drops_dot_git() {
        for (input, name) in [
            ("https://git.coopcloud.tech/coop-cloud/hello.git", "hello"),
            ("https://example.org/x/hello/", "hello"),
            ("ssh://git@example.org:2222/x/my_app.git", "my_app"),
            ("git@example.org:coop-cloud/hello.git", "hello"),
            ("file:///srv/recipes/hello.git", "hello"),
        ] {
            let s = RecipeSource::parse(input).unwrap();
            assert!(matches!(s, RecipeSource::Url(_)), "{input}: {s:?}");
            assert_eq!(s.name(), name, "{input}");
        }
    }

    #[test]
    fn paths_become_absolute_and_named_by_their_last_component() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("hello.git");
        std::fs::create_dir(&p).unwrap();
        let s = RecipeSource::parse(p.to_str().unwrap()).unwrap();
        assert_eq!(s.name(), "hello");
        assert!(s.path().unwrap().is_absolute());
        let rel = RecipeSource::parse("./some/relative/recipe").unwrap();
        assert!(rel.path().unwrap().is_absolute());
        assert_eq!(rel.name(), "recipe");
    }

    #[test]
    fn names_never_smuggle_paths_or_options() {
        for bad in ["Hello", "-rf", "a..b", "_x", "hé", "a b", ""] {
            assert!(
                RecipeSource::parse(bad).is_err(),
                "{bad:?} must be rejected"
            );
        }
        assert!(RecipeSource::parse("https://example.org/x/..").is_err());
        assert!(RecipeSource::parse("https://example.org/x/Bad.git").is_err());
    }

    #[test]
    fn invalid_name_error_says_what_a_name_may_hold() {
        let e = RecipeSource::parse("Hello").unwrap_err().to_string();
        assert!(e.contains("Hello") && e.contains("hint"), "{e}");
    }

    #[test]
    fn name_fetch_url_joins_base_url() {
        let s = RecipeSource::parse("hello").unwrap();
        assert_eq!(
            s.fetch_url("https://git.coopcloud.tech/coop-cloud/"),
            "https://git.coopcloud.tech/coop-cloud/hello.git"
        );
    }
}
