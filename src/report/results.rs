//! results.json: the machine-readable record of one run, versioned by `schema_version` (see
//! `docs/results-schema.md` and `docs/results.schema.json`). It is the serde form of [`RunResult`] plus a
//! derived `ladder` written for readers that do not compute it; on read the ladder is recomputed from
//! the verdicts, never trusted. Written atomically: a reader never sees half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::level::{self, Ladder};
use super::model::{RunResult, SCHEMA_VERSION};
use super::ReportError;

/// The file name inside a run's artifact directory.
pub const FILE_NAME: &str = "results.json";

#[derive(Serialize)]
struct ResultsFile<'a> {
    #[serde(flatten)]
    run: &'a RunResult,
    /// Derived from the verdicts (informational; recomputed on read).
    ladder: Ladder,
}

/// The JSON text of results.json for `r` (pretty-printed, trailing newline).
pub fn to_json(r: &RunResult) -> Result<String, serde_json::Error> {
    let file = ResultsFile {
        run: r,
        ladder: level::compute(r),
    };
    let mut s = serde_json::to_string_pretty(&file)?;
    s.push('\n');
    Ok(s)
}

/// Writes `dir/results.json` atomically (a temporary file in `dir`, then a rename) and returns its path.
pub fn write(r: &RunResult, dir: &Path) -> Result<PathBuf, ReportError> {
    let path = dir.join(FILE_NAME);
    let json = to_json(r).map_err(|source| ReportError::Json {
        path: path.clone(),
        source,
    })?;
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io("create directory", dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".results.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| ReportError::io("create a temporary file in", dir, e))?;
    tmp.write_all(json.as_bytes())
        .and_then(|_| super::publish(tmp.path()))
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| ReportError::io("write", tmp.path(), e))?;
    tmp.persist(&path)
        .map_err(|e| ReportError::io("rename into place", &path, e.error))?;
    Ok(path)
}

/// Reads a results.json, refusing one written by a newer schema than this build knows.
pub fn read(path: &Path) -> Result<RunResult, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io("read", path, e))?;
    parse(&text, path)
}

/// Parses results.json text; `path` is only used in errors.
pub fn parse(text: &str, path: &Path) -> Result<RunResult, ReportError> {
    let json_err = |source| ReportError::Json {
        path: path.to_path_buf(),
        source,
    };
    let mut value: serde_json::Value = serde_json::from_str(text).map_err(json_err)?;
    let found = value.get("schema_version").and_then(|v| v.as_u64());
    match found {
        Some(v) if v >= 1 && v <= u64::from(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(ReportError::SchemaVersion {
                path: path.to_path_buf(),
                found: v,
                supported: SCHEMA_VERSION,
            })
        }
        None => {
            return Err(json_err(serde::de::Error::custom(
                "missing or non-integer `schema_version`",
            )))
        }
    }
    if let Some(obj) = value.as_object_mut() {
        obj.remove("ladder");
    }
    serde_json::from_value(value).map_err(json_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn written_results_read_back_equal_and_carry_the_ladder() {
        let dir = tempfile::tempdir().unwrap();
        let r = sample::run();
        let path = write(&r, dir.path()).unwrap();
        assert_eq!(path, dir.path().join("results.json"));
        assert_eq!(read(&path).unwrap(), r);
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["ladder"]["level"], 5);
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["tiers"][0]["status"]["kind"], "passed");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn newer_schema_version_is_refused_with_a_hint() {
        let text = to_json(&sample::run())
            .unwrap()
            .replace("\"schema_version\": 1", "\"schema_version\": 9");
        let e = parse(&text, Path::new("/x/results.json")).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("/x/results.json has results schema version 9"),
            "{msg}"
        );
        assert!(msg.contains("hint:"), "{msg}");
    }

    #[test]
    fn forged_ladder_is_ignored_on_read() {
        let mut r = sample::run();
        r.lint = None;
        let text = to_json(&r).unwrap().replace("\"level\": 4", "\"level\": 5");
        let back = parse(&text, Path::new("r.json")).unwrap();
        assert_eq!(level::compute(&back).level, 4);
    }

    #[test]
    fn truncated_file_names_path_and_position() {
        let text = to_json(&sample::run()).unwrap();
        let e = parse(&text[..text.len() / 2], Path::new("/runs/a/results.json")).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("/runs/a/results.json is not a valid results.json"),
            "{msg}"
        );
        assert!(msg.contains("line"), "{msg}");
    }
}
