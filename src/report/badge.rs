//! SVG badges in the familiar flat two-part shape (`cc-ci | L3 backup/restore`), self-contained (no
//! fonts or images fetched), so they work from a file:// dashboard or a README. The colour follows the
//! level; a badge never says more than the ladder computed.

use std::path::{Path, PathBuf};

use super::level;
use super::model::RunResult;
use super::ReportError;

/// Colours by level, L0..=L5 (red → bright green).
pub const LEVEL_COLORS: [&str; 6] = [
    "#e05d44", "#fe7d37", "#dfb317", "#a4a61d", "#97ca00", "#44cc11",
];
/// Grey, for "no runs yet".
pub const UNKNOWN_COLOR: &str = "#9f9f9f";

/// Approximate width in pixels of `s` in 11px Verdana (what the familiar badges use).
fn text_width(s: &str) -> u32 {
    s.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '!' | '|' | '\'' => 4,
            'f' | 'r' | 't' | ' ' | '(' | ')' | '[' | ']' | '/' | '-' | 'I' => 5,
            'm' | 'w' | 'M' | 'W' => 10,
            c if c.is_ascii_uppercase() || c.is_ascii_digit() => 8,
            '→' | '—' => 11,
            _ => 7,
        })
        .sum()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A flat badge: `label` on grey, `message` on `color` (any SVG colour, e.g. `#44cc11`).
pub fn svg(label: &str, message: &str, color: &str) -> String {
    let lw = text_width(label) + 10;
    let mw = text_width(message) + 10;
    let w = lw + mw;
    let (label, message, color) = (esc(label), esc(message), esc(color));
    let lx = lw * 10 / 2;
    let mx = (lw + mw / 2) * 10;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{label}: {message}"><title>{label}: {message}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{mw}" height="20" fill="{color}"/><rect width="{w}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="110"><text x="{lx}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)">{label}</text><text x="{lx}" y="140" transform="scale(.1)">{label}</text><text x="{mx}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)">{message}</text><text x="{mx}" y="140" transform="scale(.1)">{message}</text></g></svg>"##
    )
}

/// The level badge of one run: `cc-ci | L3 backup/restore`.
pub fn for_run(r: &RunResult) -> String {
    let l = level::compute(r);
    svg(
        "cc-ci",
        &l.title(),
        LEVEL_COLORS[usize::from(l.level.min(5))],
    )
}

/// The badge of a recipe: the level of its latest run (by `started_at`), or grey `no runs`.
pub fn for_recipe(recipe: &str, runs: &[RunResult]) -> String {
    let latest = runs
        .iter()
        .filter(|r| r.recipe == recipe)
        .max_by(|a, b| a.started_at.cmp(&b.started_at));
    match latest {
        Some(r) => for_run(r),
        None => svg("cc-ci", "no runs", UNKNOWN_COLOR),
    }
}

/// Writes the badges of a finished run into `dir` (created if missing): `badge.svg` (this run) and
/// `badge-<recipe>.svg` (the recipe's latest run, which is this one). Returns the paths written.
/// Each file is written to a temporary name and renamed, so a reader never sees half a badge.
pub fn write_badges(r: &RunResult, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io("create", dir, e))?;
    let run = dir.join("badge.svg");
    let recipe = dir.join(format!("badge-{}.svg", file_safe(&r.recipe)));
    write_atomic(&run, &for_run(r))?;
    write_atomic(&recipe, &for_recipe(&r.recipe, std::slice::from_ref(r)))?;
    Ok(vec![run, recipe])
}

/// A recipe name (or URL, or path) as one file-name component: `[A-Za-z0-9._-]`, others become `-`.
pub fn file_safe(recipe: &str) -> String {
    let s: String = recipe
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplit('/')
        .next()
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() {
        "recipe".to_string()
    } else {
        s
    }
}

fn write_atomic(path: &Path, text: &str) -> Result<(), ReportError> {
    let tmp = path.with_extension(format!("svg.tmp-{}", std::process::id()));
    std::fs::write(&tmp, text)
        .and_then(|_| super::publish(&tmp))
        .map_err(|e| {
            // A full disk: no half-written temporary file is left behind.
            let _ = std::fs::remove_file(&tmp);
            ReportError::io("write", &tmp, e)
        })?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ReportError::io("write", path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn badge_is_well_formed_and_escaped() {
        let s = svg("a<b", "x&y", "#fff");
        assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(s.contains("a&lt;b: x&amp;y"), "{s}");
        assert!(!s.contains("a<b"));
    }

    #[test]
    fn recipe_badge_follows_the_latest_run() {
        let mut old = sample::run();
        old.started_at = "2026-01-01T00:00:00Z".into();
        old.lint = None;
        let new = sample::run();
        let b = for_recipe("hello", &[new.clone(), old]);
        assert!(b.contains("cc-ci: L5 lint"), "{b}");
        assert!(b.contains(LEVEL_COLORS[5]));
        assert!(for_recipe("other", &[new]).contains("no runs"));
    }

    #[test]
    fn write_badges_writes_the_run_and_recipe_badges() {
        let d = tempfile::tempdir().unwrap();
        let mut r = sample::run();
        let paths = write_badges(&r, &d.path().join("artifacts")).unwrap();
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["badge.svg", "badge-hello.svg"]);
        for p in &paths {
            let svg = std::fs::read_to_string(p).unwrap();
            assert!(svg.contains("cc-ci: L5 lint"), "{svg}");
        }
        // A lint that could not run is not a pass: the badge says L4.
        r.lint = Some(crate::report::LintResult::could_not_run(
            "abra recipe lint",
            "no abra",
        ));
        write_badges(&r, &d.path().join("artifacts")).unwrap();
        let svg = std::fs::read_to_string(&paths[0]).unwrap();
        assert!(svg.contains("cc-ci: L4 functional"), "{svg}");
        assert_eq!(
            std::fs::read_dir(d.path().join("artifacts"))
                .unwrap()
                .count(),
            2
        );
    }

    #[test]
    fn recipe_names_become_one_safe_file_name_component() {
        assert_eq!(file_safe("hello"), "hello");
        assert_eq!(
            file_safe("https://git.example/coop-cloud/hello.git"),
            "hello"
        );
        assert_eq!(file_safe("/tmp/x/my recipe/"), "my-recipe");
        assert_eq!(file_safe(".."), "recipe");
        assert_eq!(file_safe("a:b"), "a-b");
    }
}
