//! Walking the project and checkout trees: lists the files of a folder — regular files, and symlinks
//! to a regular file inside the tree they belong to (the data dir, the checkout) — and reports every
//! other entry a name filter selects (a dangling or looping symlink, one pointing outside, a FIFO, a
//! directory named like a spec) instead of skipping it silently. Validates recipe names and relative
//! paths from input, and reads spec files into parsed specs with errors. Never writes.

use std::path::{Component, Path, PathBuf};

use crate::spec::{decode_text, parse_spec_all, SpecError, SpecErrorKind, SpecFile};

/// What a folder holds for one name filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Usable files, sorted by name: the name in the folder and the regular file to read.
    pub files: Vec<(String, PathBuf)>,
    /// Entries the filter selects that cannot be used, with why.
    pub problems: Vec<(String, String)>,
}

impl Listing {
    /// The problems as whole-file errors, shown under `display_dir`.
    pub fn errors(&self, display_dir: &Path) -> Vec<SpecError> {
        self.problems
            .iter()
            .map(|(name, why)| file_error(&display_dir.join(name), why.clone()))
            .collect()
    }
}

/// The entries of `dir` whose names `keep` accepts. `root` is the tree a symlink may point into. A
/// missing folder has no files.
pub fn list(dir: &Path, root: &Path, keep: impl Fn(&str) -> bool) -> Listing {
    let mut out = Listing::default();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    for e in rd.filter_map(Result::ok) {
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if !keep(&name) {
            continue;
        }
        match usable(&e.path(), &root) {
            Ok(real) => out.files.push((name, real)),
            Err(why) => out.problems.push((name, why)),
        }
    }
    out.files.sort();
    out.problems.sort();
    out
}

/// The regular file behind `path`: itself, or the target of a symlink that stays inside `root`.
fn usable(path: &Path, root: &Path) -> Result<PathBuf, String> {
    let kind = |m: &std::fs::Metadata| crate::regular::kind(m.file_type());
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.file_type().is_file() {
        return Ok(path.to_path_buf());
    }
    if !meta.file_type().is_symlink() {
        return Err(format!(
            "is {}, not a regular file (hint: remove it or give it another name)",
            kind(&meta)
        ));
    }
    let link = std::fs::read_link(path)
        .map(|l| l.display().to_string())
        .unwrap_or_default();
    let target = std::fs::canonicalize(path).map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => format!("is a symlink loop (to {link})"),
        _ if e.kind() == std::io::ErrorKind::NotFound => {
            format!("is a dangling symlink (to {link})")
        }
        _ => format!("is a symlink (to {link}) that cannot be followed: {e}"),
    })?;
    if !target.starts_with(root) {
        return Err(format!(
            "is a symlink to {}, outside {} (hint: copy the file in instead)",
            target.display(),
            root.display()
        ));
    }
    let m = std::fs::metadata(&target).map_err(|e| format!("cannot read: {e}"))?;
    if !m.file_type().is_file() {
        return Err(format!(
            "is a symlink to {}, not to a regular file",
            kind(&m)
        ));
    }
    Ok(target)
}

/// Reads a spec file's text: a regular file of at most [`MAX_SPEC_BYTES`], UTF-8 without a byte
/// order mark or control characters (positioned errors otherwise).
pub fn read_text(real: &Path, display: &Path) -> Result<String, SpecError> {
    match crate::regular::read_regular(real, MAX_SPEC_BYTES) {
        Ok(bytes) => decode_text(display, &bytes),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(file_error(
            display,
            format!("is larger than {MAX_SPEC_BYTES} bytes; a spec file is small (hint: split it)"),
        )),
        Err(e) => Err(file_error(display, format!("cannot read: {e}"))),
    }
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
/// `recipe.yaml`; symlinks may point anywhere inside `root`. Parsed specs and errors are appended.
pub fn read_specs(
    dir: &Path,
    root: &Path,
    display_dir: &Path,
    specs: &mut Vec<SpecFile>,
    errors: &mut Vec<SpecError>,
) {
    let listing = list(dir, root, |n| {
        is_yaml(n) && n != "recipe.yaml" && n != "recipe.yml"
    });
    errors.extend(listing.errors(display_dir));
    for (name, real) in listing.files {
        let display = display_dir.join(&name);
        match read_text(&real, &display) {
            Ok(text) => match parse_spec_all(&display, &text) {
                Ok(s) => specs.push(s),
                Err(es) => errors.extend(es),
            },
            Err(e) => errors.push(e),
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

    #[test]
    fn symlinks_inside_the_tree_are_followed_and_everything_else_is_reported() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let dir = root.join("overlays/x");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(root.join("shared")).unwrap();
        std::fs::write(root.join("shared/common.yaml"), "").unwrap();
        std::fs::write(dir.join("a.yaml"), "").unwrap();
        let link = |to: &str, name: &str| std::os::unix::fs::symlink(to, dir.join(name)).unwrap();
        link("../../shared/common.yaml", "b.yaml");
        link("/etc/hostname", "c.yaml");
        link("missing.yaml", "d.yaml");
        link("e.yaml", "e.yaml");
        link("../../shared", "f.yaml");
        std::fs::create_dir(dir.join("g.yaml")).unwrap();
        let c = std::ffi::CString::new(dir.join("h.yaml").as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let l = list(&dir, root, is_yaml);
        let names: Vec<&str> = l.files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a.yaml", "b.yaml"]);
        assert!(l.files[1].1.ends_with("shared/common.yaml"));
        let why: Vec<(&str, &str)> = l
            .problems
            .iter()
            .map(|(n, w)| (n.as_str(), w.as_str()))
            .collect();
        for (name, needle) in [
            ("c.yaml", "outside"),
            ("d.yaml", "dangling symlink"),
            ("e.yaml", "symlink loop"),
            ("f.yaml", "not to a regular file"),
            ("g.yaml", "a directory, not a regular file"),
            ("h.yaml", "a FIFO, not a regular file"),
        ] {
            assert!(
                why.iter().any(|(n, w)| *n == name && w.contains(needle)),
                "{name}: {why:?}"
            );
        }
    }
}
