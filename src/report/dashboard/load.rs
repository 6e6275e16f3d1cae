//! Loading the dashboard's inputs from the coord ledger mirror (`<coord>/ledger.jsonl`): every
//! `run_end` event names its run's results.json in `data.results`. Problems with single runs (a file
//! cleaned away, a line that does not parse) are collected and reported, never fatal: the dashboard
//! shows what it can and says what it could not.

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

/// Reads the mirror at `mirror` and loads every run's results.json. A missing mirror is an error (with
/// a hint); a bad line or a missing results file is a problem recorded in [`Loaded::problems`].
pub fn from_ledger(mirror: &Path) -> Result<Loaded, ReportError> {
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
        let Some(path) = ev
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
        let path = base.join(path); // an absolute path replaces the base
        match results::read(&path) {
            Ok(r) => {
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
