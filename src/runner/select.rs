//! Which assertions a run selects: positional arguments (plain words are name filters as in libtest;
//! paths and `path::name` node ids select the trials defined there, as in pytest), `--exact`,
//! `--skip`, `--ignored` / `--include-ignored`, pytest's `-k` over the trial id and marks and `-m`
//! over the trial's marks (tier, kind, tags). Selection applies to assertions only; ops are never selected away.

use std::path::{Path, PathBuf};

use crate::spec::Tier;

use super::config::Selection;

/// One positional argument, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A plain word or a whole trial id (`upgrade::…::deployed_head`): a substring of the trial id, or
    /// the whole id under `--exact`.
    Name(String),
    /// A path: the trials defined in that file, or in files under that directory. `display` is in the
    /// form trial ids show files (`overlays/hello/data.yaml`, `repo-local/.cc-ci`); `""` is the whole
    /// data dir. `name` (from `path::name`) keeps only the trial of that name.
    Path {
        display: String,
        dir: bool,
        name: Option<String>,
    },
}

/// What the selection sees of one assertion.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// `<tier>::<file>::<name>`.
    pub id: &'a str,
    pub tier: Tier,
    /// The file as trial ids show it.
    pub file: &'a str,
    pub name: &'a str,
    /// `generic`, `overlay`, `repo-local` or `pytest`: a mark, like the tier.
    pub kind: &'a str,
    /// The spec's `tags` (or a pytest node's markers).
    pub tags: &'a [String],
    /// Marked ignored in its spec.
    pub ignored: bool,
}

/// The display prefix of files that come from the recipe checkout.
const REPO_LOCAL: &str = "repo-local";

/// What the selection makes of one assertion, in pytest's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Run,
    /// Left out by a filter (`-k`, `-m`, a name filter, `--skip`, `--ignored`): counted as deselected.
    Deselected,
    /// Outside every positional path: not collected at all, as pytest does not collect files it was
    /// not pointed at.
    NotCollected,
}

/// True when the assertion `c` is selected to run.
pub fn selects(sel: &Selection, c: &Candidate) -> bool {
    pick(sel, c) == Pick::Run
}

/// Whether the assertion `c` runs, is deselected, or is not collected.
pub fn pick(sel: &Selection, c: &Candidate) -> Pick {
    let a = &sel.libtest;
    let name_matches = |pat: &str| {
        if a.exact {
            c.id == pat
        } else {
            c.id.contains(pat)
        }
    };
    let filter = a.filter.as_deref().map(|f| Target::Name(f.to_string()));
    let targets: Vec<&Target> = sel.targets.iter().chain(filter.as_ref()).collect();
    // Several positional arguments are a union: a path or a name filter may claim the assertion.
    if !targets.is_empty() && !targets.iter().any(|t| target_matches(t, c, &name_matches)) {
        let any_path = targets.iter().any(|t| matches!(t, Target::Path { .. }));
        return if any_path {
            Pick::NotCollected
        } else {
            Pick::Deselected
        };
    }
    let filtered = a.skip.iter().any(|s| name_matches(s))
        || (a.ignored && !c.ignored)
        || !keyword_matches(sel, c);
    if filtered {
        Pick::Deselected
    } else {
        Pick::Run
    }
}

/// `-k` over the id and the marks, `-m` over the marks.
fn keyword_matches(sel: &Selection, c: &Candidate) -> bool {
    let mut marks: Vec<&str> = vec![c.tier.as_str(), c.kind];
    marks.extend(c.tags.iter().map(String::as_str));
    if let Some(k) = &sel.keyword {
        // pytest's -k sees a test's markers as names beside its own.
        let mut names = vec![c.id];
        names.extend(&marks);
        if !k.matches_names(&names) {
            return false;
        }
    }
    sel.marks.as_ref().is_none_or(|m| m.matches(&marks))
}

fn target_matches(t: &Target, c: &Candidate, name_matches: &dyn Fn(&str) -> bool) -> bool {
    match t {
        Target::Name(n) => name_matches(n),
        Target::Path { display, dir, name } => {
            let in_file = if *dir {
                display.is_empty()
                    || c.file == display
                    || c.file
                        .strip_prefix(display.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            } else {
                c.file == display
            };
            // `file::test` also selects pytest's `test[param]` and `Class::test` nodes under it.
            in_file
                && name.as_deref().is_none_or(|n| {
                    c.name == n
                        || c.name
                            .strip_prefix(n)
                            .is_some_and(|rest| rest.starts_with("::") || rest.starts_with('['))
                })
        }
    }
}

/// Where positional paths are looked for.
#[derive(Debug, Clone, Copy)]
pub struct Roots<'a> {
    /// Holds `generic-tests/` and `overlays/`: files under it show as paths relative to it.
    pub data: &'a Path,
    /// The recipe: its checkout (and the local path it came from, if any). Files under it show as
    /// `repo-local/<path>`.
    pub recipe: &'a [&'a Path],
    /// The working directory: a relative path is tried here first, as pytest does.
    pub cwd: Option<&'a Path>,
}

/// A positional argument that looks like a path but selects nothing that exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("file or directory not found: {arg} (hint: a path is relative to the working directory, the data dir {data} or the recipe; a plain word such as `http` is a name filter)")]
    NotFound { arg: String, data: String },
    #[error("{arg} is outside the data dir {data} and the recipe: cc-ci runs only the tests defined there (hint: name a file under generic-tests/, overlays/ or the recipe's .cc-ci/)")]
    Outside { arg: String, data: String },
}

/// Resolves positional arguments. A word containing `/`, ending in `.yaml`, `.yml` or `.py`, naming
/// a file or folder of the data dir or the recipe, or a `path::name` node id is a path; a word or
/// a trial id (`<tier>::…`) is a name filter.
pub fn resolve(positional: &[String], roots: &Roots) -> Result<Vec<Target>, TargetError> {
    positional
        .iter()
        .map(|arg| resolve_one(arg, roots))
        .collect()
}

/// The selection with its positional arguments resolved into targets.
pub fn resolved(sel: &Selection, roots: &Roots) -> Result<Selection, TargetError> {
    let mut out = sel.clone();
    out.targets = resolve(&sel.positional, roots)?;
    Ok(out)
}

fn resolve_one(arg: &str, roots: &Roots) -> Result<Target, TargetError> {
    let (path, name) = match arg.split_once("::") {
        Some((head, _)) if head.parse::<Tier>().is_ok() => return Ok(Target::Name(arg.into())),
        Some((head, rest)) => (head, Some(rest.to_string())),
        None => (arg, None),
    };
    let path_like = name.is_some()
        || path.contains('/')
        || [".yaml", ".yml", ".py"].iter().any(|e| path.ends_with(e))
        || path == "."
        || path == ".."
        || roots
            .recipe
            .iter()
            .chain([&roots.data])
            .any(|r| r.join(path).exists());
    if !path_like || path.is_empty() {
        return Ok(Target::Name(arg.into()));
    }
    let data = roots.data.display().to_string();
    let mut found_outside = false;
    for candidate in candidates(path, roots) {
        let Ok(real) = candidate.canonicalize() else {
            continue;
        };
        match display_of(&real, roots) {
            Some(display) => {
                return Ok(Target::Path {
                    display,
                    dir: real.is_dir(),
                    name,
                })
            }
            None => found_outside = true,
        }
    }
    let arg = arg.to_string();
    Err(if found_outside {
        TargetError::Outside { arg, data }
    } else {
        TargetError::NotFound { arg, data }
    })
}

/// Where `path` may be, in order: as given (absolute, or under the working directory), under the
/// data dir, under each recipe root (also when written as a trial id shows it: `repo-local/…`).
fn candidates(path: &str, roots: &Roots) -> Vec<PathBuf> {
    let p = Path::new(path);
    if p.is_absolute() {
        return vec![p.to_path_buf()];
    }
    let mut out: Vec<PathBuf> = roots.cwd.map(|c| c.join(p)).into_iter().collect();
    out.push(roots.data.join(p));
    let local = p.strip_prefix(REPO_LOCAL).ok();
    for r in roots.recipe {
        out.push(r.join(p));
        if let Some(rest) = local {
            out.push(r.join(rest));
        }
    }
    out
}

/// `real` as trial ids show files: relative to the data dir, or `repo-local/…` under the recipe;
/// the deepest root that holds it wins (a recipe folder may sit inside the data dir).
fn display_of(real: &Path, roots: &Roots) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    let mut consider = |root: &Path, prefix: &str| {
        let Ok(root) = root.canonicalize() else {
            return;
        };
        if let Ok(rel) = real.strip_prefix(&root) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            let shown = match (prefix, rel.is_empty()) {
                ("", _) => rel,
                (p, true) => p.to_string(),
                (p, false) => format!("{p}/{rel}"),
            };
            let depth = root.components().count();
            if best.as_ref().is_none_or(|(d, _)| depth > *d) {
                best = Some((depth, shown));
            }
        }
    };
    consider(roots.data, "");
    for r in roots.recipe {
        consider(r, REPO_LOCAL);
    }
    best.map(|(_, s)| s)
}

#[cfg(test)]
#[path = "select_tests.rs"]
mod tests;
