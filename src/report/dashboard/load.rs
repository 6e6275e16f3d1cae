//! Loading the dashboard's inputs from the coord ledger mirror (`<coord>/ledger.jsonl`): every
//! `run_end` event names its run's results.json in `data.results`. Runs record that path absolute; older
//! runs recorded it as typed (`target/example/results.json`), relative to the directory they ran in. So a
//! run's results are looked for, in order, at the recorded path (a relative one against the working
//! directory of `cc-ci dashboard`, then against the coord base), then at the copy every run keeps in its
//! own coord directory (`<coord>/runs/<run>/results.json`, or `…/artifacts/results.json` when the run
//! wrote its artifacts there). A file counts only when it is the same run (its `run_id`), so a later run
//! that overwrote `target/example/results.json` is never shown as an older one.
//!
//! Problems with single runs (a file cleaned away, a line that does not parse) are collected and
//! reported, never fatal: the dashboard shows what it can and says what it could not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::report::model::RunResult;
use crate::report::{results, ReportError};

/// What loading found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// One result per run id (the last `run_end` wins), ordered by start time.
    pub runs: Vec<RunResult>,
    /// Which results.json each run came from.
    pub sources: BTreeMap<String, PathBuf>,
    /// Lines or files that could not be used, each naming where and why.
    pub problems: Vec<String>,
}

/// Where a run's results.json may be, in the order they are tried. `recorded` is the run_end's
/// `data.results`; `cwd` the working directory relative recorded paths are tried against first.
pub fn candidates(
    recorded: Option<&str>,
    run_id: &str,
    base: &Path,
    cwd: Option<&Path>,
) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = recorded.map(Path::new) {
        if p.is_absolute() {
            out.push(p.to_path_buf());
        } else {
            out.extend(cwd.map(|c| c.join(p)));
            out.push(base.join(p));
        }
    }
    // The run's own directory in the coord tree; a run id that is not a plain file name is not looked
    // up there (it would name another place).
    if super::slug(run_id) == run_id && run_id != "_" {
        let dir = base.join("runs").join(run_id);
        out.push(dir.join(results::FILE_NAME));
        out.push(dir.join("artifacts").join(results::FILE_NAME));
    }
    out.dedup();
    out
}

/// The first candidate that is a regular file holding the results of `run_id`; else why none was.
fn find_results(cands: &[PathBuf], run_id: &str) -> Result<(PathBuf, RunResult), String> {
    let mut seen = Vec::new();
    for p in cands {
        if !p.is_file() {
            seen.push(format!("{} (missing)", p.display()));
            continue;
        }
        match results::read(p) {
            Ok(r) if r.run_id == run_id => return Ok((p.clone(), r)),
            Ok(r) => seen.push(format!("{} (holds run {})", p.display(), r.run_id)),
            Err(e) => seen.push(e.to_string()),
        }
    }
    Err(format!(
        "no results.json of this run found; tried: {}",
        seen.join("; ")
    ))
}

/// Reads the mirror at `mirror` and loads every run's results.json. A missing mirror is an error (with
/// a hint); a bad line or a run whose results cannot be found is a problem recorded in
/// [`Loaded::problems`]. `cwd` is where relative paths recorded by older runs are tried first.
pub fn from_ledger(mirror: &Path, cwd: Option<&Path>) -> Result<Loaded, ReportError> {
    let text = std::fs::read_to_string(mirror).map_err(|e| ReportError::Ledger {
        path: mirror.to_path_buf(),
        line: 0,
        message: format!(
            "cannot read the ledger mirror: {e} (hint: pass --coord-dir, or run `cc-ci coord provision` first)"
        ),
    })?;
    let base = mirror.parent().unwrap_or(Path::new("."));
    let mut loaded = Loaded::default();
    let mut by_id: BTreeMap<String, RunResult> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let ev: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                loaded
                    .problems
                    .push(format!("{}:{n}: not a JSON event: {e}", mirror.display()));
                continue;
            }
        };
        if ev.get("kind").and_then(|k| k.as_str()) != Some("run_end") {
            continue;
        }
        let run_id = ev.get("run_id").and_then(|v| v.as_str()).unwrap_or("?");
        if ev.get("outcome").and_then(|o| o.as_str()) == Some("abandoned") {
            loaded.problems.push(format!(
                "{}:{n}: run {run_id} was abandoned: it died without ending (e.g. SIGKILL) and the janitor reaped its leftovers; it has no results",
                mirror.display()
            ));
            continue;
        }
        let Some(recorded) = ev
            .get("data")
            .and_then(|d| d.get("results"))
            .and_then(|p| p.as_str())
        else {
            loaded.problems.push(format!(
                "{}:{n}: run_end of run {run_id} has no data.results (the run ended before writing its results)",
                mirror.display()
            ));
            continue;
        };
        match find_results(&candidates(Some(recorded), run_id, base, cwd), run_id) {
            Ok((path, r)) => {
                loaded.sources.insert(r.run_id.clone(), path);
                by_id.insert(r.run_id.clone(), r);
            }
            Err(e) => loaded
                .problems
                .push(format!("{}:{n}: run {run_id}: {e}", mirror.display())),
        }
    }
    loaded.runs = by_id.into_values().collect();
    loaded.runs.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    Ok(loaded)
}

/// Loads explicit results.json files (for `cc-ci dashboard --results FILE`).
pub fn from_files(paths: &[PathBuf], into: &mut Loaded) {
    for p in paths {
        match results::read(p) {
            Ok(r) => {
                into.sources.insert(r.run_id.clone(), p.clone());
                into.runs.retain(|x| x.run_id != r.run_id);
                into.runs.push(r);
            }
            Err(e) => into.problems.push(e.to_string()),
        }
    }
    into.runs.sort_by(|a, b| a.started_at.cmp(&b.started_at));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    fn run_end_line(run_id: &str, results: &str) -> String {
        serde_json::json!({
            "seq": 1, "kind": "run_end", "run_id": run_id, "data": { "results": results },
        })
        .to_string()
    }

    fn write_run(dir: &Path, run_id: &str) -> PathBuf {
        let mut r = sample::run();
        r.run_id = run_id.into();
        results::write(&r, dir).unwrap()
    }

    #[test]
    fn a_relative_path_of_an_older_run_loads_from_the_directory_it_ran_in() {
        let t = tempfile::tempdir().unwrap();
        let (coord, project) = (t.path().join("coord"), t.path().join("project"));
        std::fs::create_dir_all(&coord).unwrap();
        write_run(&project.join("target/example"), "r-old");
        let mirror = coord.join("ledger.jsonl");
        std::fs::write(
            &mirror,
            run_end_line("r-old", "target/example/results.json") + "\n",
        )
        .unwrap();

        let from_elsewhere = from_ledger(&mirror, Some(t.path())).unwrap();
        assert!(from_elsewhere.runs.is_empty());
        let p = &from_elsewhere.problems[0];
        assert!(
            p.contains("run r-old: no results.json of this run found; tried: "),
            "{p}"
        );
        assert!(p.contains("project") || p.contains("(missing)"), "{p}");

        let from_project = from_ledger(&mirror, Some(&project)).unwrap();
        assert_eq!(from_project.runs.len(), 1, "{:?}", from_project.problems);
        assert!(from_project.problems.is_empty());
    }

    #[test]
    fn a_file_of_another_run_is_passed_over_for_the_copy_in_the_coord_tree() {
        let t = tempfile::tempdir().unwrap();
        let coord = t.path().join("coord");
        // target/example/results.json now holds a later run; the older run's copy is in the coord tree.
        write_run(&t.path().join("target/example"), "r-new");
        write_run(&coord.join("runs/r-old"), "r-old");
        let mirror = coord.join("ledger.jsonl");
        std::fs::write(
            &mirror,
            run_end_line("r-old", "target/example/results.json") + "\n",
        )
        .unwrap();
        let l = from_ledger(&mirror, Some(t.path())).unwrap();
        assert_eq!(l.runs.len(), 1, "{:?}", l.problems);
        assert_eq!(l.runs[0].run_id, "r-old");
        assert_eq!(l.sources["r-old"], coord.join("runs/r-old/results.json"));
    }

    #[test]
    fn a_run_id_that_is_not_a_file_name_is_never_looked_up_in_the_coord_tree() {
        let c = candidates(None, "../../etc", Path::new("/coord"), None);
        assert!(c.is_empty(), "{c:?}");
        let c = candidates(Some("/abs/results.json"), "r1", Path::new("/coord"), None);
        assert_eq!(
            c,
            [
                PathBuf::from("/abs/results.json"),
                PathBuf::from("/coord/runs/r1/results.json"),
                PathBuf::from("/coord/runs/r1/artifacts/results.json")
            ]
        );
    }
}
