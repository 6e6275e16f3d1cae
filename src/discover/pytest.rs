//! Legacy pytest overlays: finds `test_*.py` files and reads their tier from the name
//! (`test_<tier>.py` or `test_<tier>_<anything>.py`; any other name is custom). Never runs them.

use std::path::{Path, PathBuf};

use crate::spec::Tier;

/// A pytest file: the path shown in ids and reports, the path on disk, and its tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PytestFile {
    pub path: PathBuf,
    pub source: PathBuf,
    pub tier: Tier,
}

/// The tier a pytest file name stands for.
pub fn tier_of(file_name: &str) -> Tier {
    let stem = file_name
        .strip_prefix("test_")
        .and_then(|s| s.strip_suffix(".py"))
        .unwrap_or("");
    let head = stem.split('_').next().unwrap_or("");
    match head.parse::<Tier>() {
        Ok(t) if head == t.as_str() => t,
        _ => Tier::Custom,
    }
}

/// The `test_*.py` files directly in `dir` (sorted), shown under `display_dir`; symlinks may lead
/// anywhere inside `root`. Entries that cannot be used are appended to `errors`.
pub fn find(
    dir: &Path,
    root: &Path,
    display_dir: &Path,
    errors: &mut Vec<crate::spec::SpecError>,
) -> Vec<PytestFile> {
    let listing = super::walk::list(dir, root, |n| n.starts_with("test_") && n.ends_with(".py"));
    errors.extend(listing.errors(display_dir));
    listing
        .files
        .into_iter()
        .map(|(name, real)| PytestFile {
            path: display_dir.join(&name),
            source: real,
            tier: tier_of(&name),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_comes_from_the_file_name() {
        assert_eq!(tier_of("test_install.py"), Tier::Install);
        assert_eq!(tier_of("test_upgrade_db.py"), Tier::Upgrade);
        assert_eq!(tier_of("test_restore.py"), Tier::Restore);
        assert_eq!(tier_of("test_login.py"), Tier::Custom);
        assert_eq!(tier_of("test_backups.py"), Tier::Custom);
        assert_eq!(tier_of("test_Install.py"), Tier::Custom);
    }

    #[test]
    fn finds_only_test_py_files_sorted() {
        let d = tempfile::tempdir().unwrap();
        for n in [
            "test_upgrade.py",
            "test_install.py",
            "conftest.py",
            "test_x.txt",
            "helper.py",
        ] {
            std::fs::write(d.path().join(n), "").unwrap();
        }
        let mut errors = Vec::new();
        let found = find(d.path(), d.path(), Path::new("overlays/hello"), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<_> = found
            .iter()
            .map(|p| p.path.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "overlays/hello/test_install.py",
                "overlays/hello/test_upgrade.py"
            ]
        );
        assert_eq!(found[1].tier, Tier::Upgrade);
        assert_eq!(found[0].source, d.path().join("test_install.py"));
    }
}
