//! The trust gate for repo-local files (tests, scripts and hooks authored in the recipe repository
//! itself): allowed only when the recipe is on the approval allowlist or a `repo-local` grant allows
//! it. Default deny; an empty or missing allowlist denies. Decides; never reads the files it guards.

use std::path::{Path, PathBuf};

use crate::spec::{SpecError, SpecErrorKind};

/// How the gate decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateVia {
    /// The recipe (and PR, if the entry names one) is on the allowlist.
    Allowlist,
    /// A signed `repo-local` grant allowed it; the grant's id.
    Grant(String),
    /// The deprecated emergency off-switch allowed it (the grant callback said so without a grant id).
    OffSwitch,
    /// Denied: not allowlisted and no grant allowed it.
    Denied,
    /// There were no repo-local files, so nothing was asked.
    NotNeeded,
}

/// The gate's decision, with a reason for people and the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateDecision {
    pub allowed: bool,
    pub via: GateVia,
    pub reason: String,
    /// Repo-local files found in the checkout (absolute); consulted only when allowed.
    pub files: Vec<PathBuf>,
}

/// One allowlist entry: a recipe, optionally restricted to one PR (`name#PR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    pub recipe: String,
    pub pr: Option<u64>,
    pub line: usize,
}

/// Reads the allowlist: recipe names, `name#PR`, `#` comments, blank lines. Malformed lines are
/// returned as errors (and allow nothing).
pub fn parse_allowlist(display: &Path, text: &str) -> (Vec<AllowEntry>, Vec<SpecError>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let body = match raw.find(" #").or_else(|| raw.find("\t#")) {
            Some(p) => &raw[..p],
            None => raw,
        };
        let body = body.trim();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let (name, pr) = match body.split_once('#') {
            Some((n, p)) => match p.parse::<u64>() {
                Ok(pr) => (n, Some(pr)),
                Err(_) => {
                    errors.push(bad(
                        display,
                        line,
                        raw,
                        format!("`{body}`: the part after `#` must be a PR number"),
                    ));
                    continue;
                }
            },
            None => (body, None),
        };
        if let Err(e) = super::walk::validate_recipe_name(name) {
            errors.push(bad(display, line, raw, e));
            continue;
        }
        entries.push(AllowEntry {
            recipe: name.to_string(),
            pr,
            line,
        });
    }
    (entries, errors)
}

fn bad(display: &Path, line: usize, raw: &str, message: String) -> SpecError {
    let column = raw.len() - raw.trim_start().len() + 1;
    SpecError {
        file: display.to_path_buf(),
        line,
        column,
        key: None,
        kind: Box::new(SpecErrorKind::InvalidValue {
            context: "allowlist entry".into(),
            message,
            hint: Some(
                "one recipe name per line, optionally `name#PR`; `#` starts a comment".into(),
            ),
        }),
    }
}

/// What a grant check answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub allowed: bool,
    pub reason: String,
    /// The grant that allowed; an allow without one means the deprecated off-switch.
    pub grant_id: Option<String>,
}

/// The grant check could not be made (e.g. the ledger is unavailable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GrantLookupError(pub String);

impl From<&str> for GrantLookupError {
    fn from(s: &str) -> Self {
        GrantLookupError(s.to_string())
    }
}

/// The grant callback's answer.
pub type GrantAnswer = Result<Granted, GrantLookupError>;

/// Decides whether repo-local `files` of `recipe` may be consulted. `grant` is asked only when the
/// allowlist does not allow.
pub fn decide(
    recipe: &str,
    pr: Option<u64>,
    allowlist: &Path,
    files: Vec<PathBuf>,
    grant: &mut dyn FnMut() -> GrantAnswer,
) -> (GateDecision, Vec<SpecError>) {
    if files.is_empty() {
        let d = GateDecision {
            allowed: false,
            via: GateVia::NotNeeded,
            reason: format!("no repo-local files in the checkout of `{recipe}`: nothing to decide"),
            files,
        };
        return (d, Vec::new());
    }
    let (list_reason, errors) = match std::fs::read_to_string(allowlist) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
            Err(format!("the allowlist {} is missing", allowlist.display())),
            Vec::new(),
        ),
        Err(e) => (
            Err(format!(
                "the allowlist {} cannot be read: {e}",
                allowlist.display()
            )),
            Vec::new(),
        ),
        Ok(text) => {
            let (entries, errors) = parse_allowlist(allowlist, &text);
            let hit = entries
                .iter()
                .find(|e| e.recipe == recipe && (e.pr.is_none() || e.pr == pr));
            let r = match (hit, entries.is_empty()) {
                (Some(e), _) => Ok(format!(
                    "recipe `{recipe}` is on the allowlist {} (line {}{})",
                    allowlist.display(),
                    e.line,
                    e.pr.map(|p| format!(", PR {p} only")).unwrap_or_default()
                )),
                (None, true) => Err(format!(
                    "the allowlist {} has no entries",
                    allowlist.display()
                )),
                (None, false) => Err(format!(
                    "recipe `{recipe}`{} is not on the allowlist {}",
                    pr.map(|p| format!(" (PR {p})")).unwrap_or_default(),
                    allowlist.display()
                )),
            };
            (r, errors)
        }
    };
    let n = files.len();
    let decision = match list_reason {
        Ok(reason) => GateDecision { allowed: true, via: GateVia::Allowlist, reason, files },
        Err(why) => match grant() {
            Ok(Granted {
                allowed: true,
                reason: r,
                grant_id: Some(id),
            }) => GateDecision {
                allowed: true,
                via: GateVia::Grant(id.clone()),
                reason: match r.contains(id.as_str()) {
                    true => format!("{why}, but {r}"),
                    false => format!("{why}, but grant {id} allows repo-local files: {r}"),
                },
                files,
            },
            Ok(Granted {
                allowed: true,
                reason: r,
                grant_id: None,
            }) => GateDecision {
                allowed: true,
                via: GateVia::OffSwitch,
                reason: format!("{why}, but the deprecated off-switch lets repo-local files run: {r}"),
                files,
            },
            Ok(Granted {
                allowed: false,
                reason: r,
                ..
            }) => GateDecision {
                allowed: false,
                via: GateVia::Denied,
                reason: format!("{why} and no repo-local grant allows it ({r}); {n} repo-local file(s) ignored (hint: add `{recipe}` to the allowlist or mint a `repo-local` grant)"),
                files,
            },
            Err(e) => GateDecision {
                allowed: false,
                via: GateVia::Denied,
                reason: format!("{why} and the grant check failed ({e}); {n} repo-local file(s) ignored"),
                files,
            },
        },
    };
    (decision, errors)
}
