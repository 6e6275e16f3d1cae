//! The static dashboard (`cc-ci dashboard --out DIR`): an index with one row per recipe (latest level,
//! badge, last run, a trend of recent runs) and a page per run (rungs, tests, timings, teardown, with
//! its JUnit, Markdown and results.json copied beside it). Plain HTML with inline CSS and no scripts, so
//! it opens from file:// and can be published as is. It renders verdicts; it never recomputes them
//! differently from [`crate::report::level`].
//!
//! Runs that ended without results (refused, nothing selected, abandoned) get no page; the index lists
//! them with their outcome and reason, read from their `run_end` events.
//!
//! Layout of `out/`: `index.html`, `badges/<recipe>.svg`, `runs/<run>/index.html` (+ `results.json`,
//! `junit.xml`, `report.md`).

mod html;
mod index;
pub mod load;
mod run_page;

use std::path::{Path, PathBuf};

pub use load::{from_files, from_ledger, Ended, Loaded};

use super::model::RunResult;
use super::{badge, results, ReportError};

/// What [`render`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub index: PathBuf,
    pub run_pages: Vec<PathBuf>,
    pub recipes: usize,
}

/// A file-name-safe form of a run id or recipe name (`[A-Za-z0-9._-]`, others become `_`).
pub fn slug(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match out.trim_matches('.') {
        "" => "_".to_string(),
        _ => out,
    }
}

/// Renders the dashboard of `inputs` into `out` (created if missing; files it owns are overwritten).
/// `ended` (runs that ended without results) are listed on the index, with their outcome and why.
pub fn render(inputs: &[RunResult], ended: &[Ended], out: &Path) -> Result<Rendered, ReportError> {
    let mut runs: Vec<&RunResult> = inputs.iter().collect();
    runs.sort_by(|a, b| {
        a.started_at
            .cmp(&b.started_at)
            .then(a.run_id.cmp(&b.run_id))
    });
    mkdir(&out.join("badges"))?;
    let mut run_pages = Vec::new();
    for r in &runs {
        let dir = out.join("runs").join(slug(&r.run_id));
        mkdir(&dir)?;
        let files = copy_artifacts(r, &dir)?;
        let page = run_page::render(r, &files);
        let path = dir.join("index.html");
        write(&path, &page)?;
        run_pages.push(path);
    }
    let mut recipes: Vec<&str> = runs.iter().map(|r| r.recipe.as_str()).collect();
    recipes.sort_unstable();
    recipes.dedup();
    for recipe in &recipes {
        let svg = badge::for_recipe(recipe, inputs);
        write(
            &out.join("badges").join(format!("{}.svg", slug(recipe))),
            &svg,
        )?;
    }
    let index = out.join("index.html");
    write(&index, &index::render(&runs, &recipes, ended))?;
    Ok(Rendered {
        index,
        run_pages,
        recipes: recipes.len(),
    })
}

/// Which artifact files sit beside a run page (names relative to it).
#[derive(Debug, Default)]
pub(crate) struct RunFiles {
    pub results: Option<&'static str>,
    pub junit: Option<&'static str>,
    pub markdown: Option<&'static str>,
    /// The screenshots copied beside the page: (tier, file name), in the run's order.
    pub screenshots: Vec<(String, String)>,
}

fn copy_artifacts(r: &RunResult, dir: &Path) -> Result<RunFiles, ReportError> {
    let mut files = RunFiles::default();
    let copy =
        |from: &Option<PathBuf>, name: &'static str| -> Result<Option<&'static str>, ReportError> {
            match from {
                Some(p) if p.is_file() => {
                    let to = dir.join(name);
                    std::fs::copy(p, &to).map_err(|e| ReportError::io("copy", p, e))?;
                    Ok(Some(name))
                }
                _ => Ok(None),
            }
        };
    // results.json is always present: copied when the run's own file is there, written otherwise.
    files.results = match copy(&r.artifacts.results, results::FILE_NAME)? {
        Some(n) => Some(n),
        None => {
            results::write(r, dir)?;
            Some(results::FILE_NAME)
        }
    };
    files.junit = copy(&r.artifacts.junit, "junit.xml")?;
    files.markdown = copy(&r.artifacts.markdown, "report.md")?;
    for shot in &r.screenshots {
        if let Some(p) = shot.path.as_ref().filter(|p| p.is_file()) {
            let name = format!("screenshot-{}.png", slug(&shot.tier));
            std::fs::copy(p, dir.join(&name)).map_err(|e| ReportError::io("copy", p, e))?;
            files.screenshots.push((shot.tier.clone(), name));
        }
    }
    Ok(files)
}

fn mkdir(p: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(p).map_err(|e| ReportError::io("create directory", p, e))
}

fn write(p: &Path, text: &str) -> Result<(), ReportError> {
    std::fs::write(p, text).map_err(|e| ReportError::io("write", p, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_keeps_safe_characters_only() {
        assert_eq!(slug("r-1a2b.3_c"), "r-1a2b.3_c");
        assert_eq!(slug("../etc/passwd"), ".._etc_passwd");
        assert_eq!(slug(".."), "_");
        assert!(!slug("a/b\\c d").contains(['/', '\\', ' ']));
    }
}
