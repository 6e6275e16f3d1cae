//! Walking the project and checkout trees: lists files of a folder (regular files only, never
//! following a symlink out of it), validates recipe names and relative paths from input, and reads
//! spec files into parsed specs with errors. Never writes.

use std::path::{Component, Path};

use crate::spec::{parse_spec_all, SpecError, SpecErrorKind, SpecFile};

/// Names of the regular files directly in `dir` accepted by `keep`, sorted. Symlinks are skipped:
/// a PR could point one at a file outside the checkout. A missing folder has no files.
pub fn files(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = rd
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| keep(n))
        .collect();
    out.sort();
    out
}

/// Whether a file name is a YAML spec (`.yaml` or `.yml`, not hidden).
pub fn is_yaml(name: &str) -> bool {
    !name.starts_with('.') && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

/// A recipe name from input: non-empty, no `/`, no `..`, not hidden, only `[A-Za-z0-9._-]`.
pub fn validate_recipe_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the recipe name is empty".into());
    }
    if name.contains('/') || name.contains('\\') {
        return Err(format!("recipe name `{name}` contains a path separator (hint: give the name, e.g. `hello`, not a path)"));
    }
    if name.starts_with('.') {
        return Err(format!("recipe name `{name}` may not start with `.`"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(format!(
            "recipe name `{name}` may hold only letters, digits, `_`, `-` and `.`"
        ));
    }
    Ok(())
}

/// A relative path from input: no `..`, not absolute.
pub fn validate_relative(path: &Path) -> Result<(), String> {
    for c in path.components() {
        match c {
            Component::ParentDir => {
                return Err(format!("path `{}` may not contain `..`", path.display()))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("path `{}` must be relative", path.display()))
            }
            _ => {}
        }
    }
    Ok(())
}

/// An error about a whole file (unreadable, not allowed), positioned at line 0.
pub fn file_error(file: &Path, message: String) -> SpecError {
    SpecError {
        file: file.to_path_buf(),
        line: 0,
        column: 0,
        key: None,
        kind: Box::new(SpecErrorKind::Io { message }),
    }
}

/// The largest spec file read (1 MiB).
pub const MAX_SPEC_BYTES: u64 = 1 << 20;

/// Reads and parses every YAML spec directly in `dir`, shown under `display_dir`, skipping
/// `recipe.yaml`. Parsed specs and errors are appended.
pub fn read_specs(
    dir: &Path,
    display_dir: &Path,
    specs: &mut Vec<SpecFile>,
    errors: &mut Vec<SpecError>,
) {
    for name in files(dir, |n| {
        is_yaml(n) && n != "recipe.yaml" && n != "recipe.yml"
    }) {
        let display = display_dir.join(&name);
        let too_big = std::fs::metadata(dir.join(&name)).is_ok_and(|m| m.len() > MAX_SPEC_BYTES);
        if too_big {
            errors.push(file_error(
                &display,
                format!(
                    "is larger than {MAX_SPEC_BYTES} bytes; a spec file is small (hint: split it)"
                ),
            ));
            continue;
        }
        match std::fs::read_to_string(dir.join(&name)) {
            Ok(text) => match parse_spec_all(&display, &text) {
                Ok(s) => specs.push(s),
                Err(es) => errors.extend(es),
            },
            Err(e) => errors.push(file_error(&display, format!("cannot read: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipe_names_are_validated() {
        assert!(validate_recipe_name("hello").is_ok());
        assert!(validate_recipe_name("my-app.v2").is_ok());
        for bad in ["", "../etc", "a/b", ".hidden", "..", "a b", "a\\b"] {
            assert!(validate_recipe_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn relative_paths_are_validated() {
        assert!(validate_relative(Path::new("overlays/hello")).is_ok());
        assert!(validate_relative(Path::new("../x")).is_err());
        assert!(validate_relative(Path::new("/etc/passwd")).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_listed() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.yaml"), "").unwrap();
        std::os::unix::fs::symlink("/etc/hostname", d.path().join("b.yaml")).unwrap();
        assert_eq!(files(d.path(), is_yaml), ["a.yaml"]);
    }
}
