//! The data dir: where `generic-tests/` and `overlays/` are, how it was found, and whether it can serve
//! a run. It reads the file system only; it never decides what to test.

use std::path::{Path, PathBuf};

use super::error::RunError;

/// The data dir (generic-tests/ and overlays/) and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    pub path: PathBuf,
    /// `--data-dir / CCCI_DATA_DIR`, `the working directory` or `the installed package`.
    pub from: &'static str,
}

impl std::fmt::Display for DataDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (from {})", self.path.display(), self.from)
    }
}

/// Where generic-tests/ and overlays/ are: --data-dir / CCCI_DATA_DIR, else the working directory
/// when it holds generic-tests/, else the installed package's `share/cc-ci` beside the binary's
/// `bin/`. Never the source tree the binary was built from: a maintainer running from their recipe
/// would silently get another tree's overlays.
pub fn data_dir(explicit: Option<&Path>) -> Result<DataDir, RunError> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if let Some(p) = explicit {
        return Ok(DataDir {
            path: absolute(p),
            from: "--data-dir / CCCI_DATA_DIR",
        });
    }
    let has = |p: &Path| p.join("generic-tests").is_dir();
    if let Ok(cwd) = std::env::current_dir() {
        if has(&cwd) {
            return Ok(DataDir {
                path: cwd,
                from: "the working directory",
            });
        }
    }
    let share = std::env::current_exe().ok().and_then(|exe| {
        let prefix = exe.parent()?.parent()?.to_path_buf();
        Some(prefix.join("share/cc-ci"))
    });
    match share {
        Some(share) if has(&share) => Ok(DataDir {
            path: share,
            from: "the installed package",
        }),
        _ => Err(RunError::DataDir(
            "no data dir: the working directory holds no generic-tests/ and no installed share/cc-ci is beside the binary (hint: pass --data-dir DIR or set CCCI_DATA_DIR to the folder holding generic-tests/ and overlays/, e.g. a cc-ci checkout)".to_string(),
        )),
    }
}

/// The data dir must be a directory holding `generic-tests/` (unless the generic tests are skipped).
pub(super) fn check_data_dir(data: &Path, skip_generic: bool) -> Result<(), String> {
    let hint =
        "hint: --data-dir / CCCI_DATA_DIR names the folder holding generic-tests/ and overlays/";
    match std::fs::metadata(data) {
        Err(e) => return Err(format!("data dir {}: {e} ({hint})", data.display())),
        Ok(m) if !m.is_dir() => {
            return Err(format!(
                "data dir {} is not a directory ({hint})",
                data.display()
            ))
        }
        Ok(_) => {}
    }
    if !skip_generic && !data.join("generic-tests").is_dir() {
        return Err(format!(
            "data dir {} has no generic-tests/ folder: the generic tests would be dropped ({hint})",
            data.display()
        ));
    }
    Ok(())
}
