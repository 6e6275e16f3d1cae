//! `cc-ci overlay new|check|doc`: scaffold a recipe's overlays (`overlay_new.rs`), validate specs
//! without deploying anything, and print the spec reference. Reads and writes files only; never
//! touches Docker.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::discover::{check_set, file_error, is_yaml, list, parse_allowlist, read_text};
use crate::exit;
use crate::spec::{
    lint_set, parse_meta_all, parse_spec_all, reference, RecipeMeta, SpecError, SpecFile,
};

#[derive(Debug, clap::Subcommand)]
pub enum OverlayCmd {
    /// Scaffold overlays/RECIPE/ with a commented recipe.yaml and one passing example overlay.
    New {
        /// The recipe's name (e.g. `hello`): its `TYPE`, lowercase.
        recipe: String,
        /// Folder that holds every recipe's overlays.
        #[arg(long, default_value = "overlays")]
        dir: PathBuf,
        /// The recipe's main service, used by the example exec check (without `--from`).
        #[arg(long, default_value = "app")]
        service: String,
        /// Read the recipe (a local path, read in place, or a git URL) and fit the scaffold to it.
        #[arg(long)]
        from: Option<String>,
    },
    /// Validate specs and recipe.yaml files without deploying (default: overlays/ and generic-tests/).
    Check {
        /// Files or folders to check.
        paths: Vec<PathBuf>,
    },
    /// Print the reference of every step and check kind (Markdown).
    Doc,
}

pub fn run(cmd: OverlayCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        OverlayCmd::New {
            recipe,
            dir,
            service,
            from,
        } => super::overlay_new::new(&recipe, &dir, &service, from.as_deref()),
        OverlayCmd::Check { paths } => check(paths),
        OverlayCmd::Doc => {
            print!("{}", reference());
            Ok(exit::code(exit::OK))
        }
    }
}

/// What `overlay check` found to read: YAML files and allowlists (display paths), the regular file
/// behind each, and the entries that cannot be read (a FIFO, a symlink out of the tree, …).
#[derive(Default)]
struct Found {
    yaml: Vec<PathBuf>,
    allowlists: Vec<PathBuf>,
    real: std::collections::HashMap<PathBuf, PathBuf>,
    errors: Vec<SpecError>,
}

impl Found {
    fn push(&mut self, display: PathBuf, real: PathBuf) {
        let allowlist = display
            .file_name()
            .is_some_and(|n| n == "repo-local-approved.txt");
        if allowlist {
            self.allowlists.push(display.clone());
        } else {
            self.yaml.push(display.clone());
        }
        self.real.insert(display, real);
    }
}

/// Every YAML file under the argument `p` (or `p` itself), plus allowlist files, sorted. A file
/// named explicitly is read wherever it is; inside a folder, symlinks must stay inside it.
fn collect_arg(p: &Path, found: &mut Found) {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => collect(p, p, found),
        Ok(m) if m.is_file() => {
            let real = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            found.push(p.to_path_buf(), real);
        }
        Ok(m) => found.errors.push(file_error(
            p,
            format!(
                "is {}, not a regular file",
                crate::regular::kind(m.file_type())
            ),
        )),
        Err(e) => found
            .errors
            .push(file_error(p, format!("cannot read: {e}"))),
    }
}

fn collect(dir: &Path, root: &Path, found: &mut Found) {
    let listing = list(dir, root, |n| is_yaml(n) || n == "repo-local-approved.txt");
    found.errors.extend(listing.errors(dir));
    for (name, real) in listing.files {
        found.push(dir.join(name), real);
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<_> = rd
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    for d in subdirs {
        collect(&d, root, found);
    }
}

fn is_meta(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n == "recipe.yaml" || n == "recipe.yml")
}

/// Reads a file to check (the regular file behind its display path), as positioned errors when it
/// is too large or not spec text.
fn read(found: &Found, p: &Path) -> Result<String, SpecError> {
    read_text(found.real.get(p).map_or(p, |r| r.as_path()), p)
}

fn check(paths: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    let paths = if paths.is_empty() {
        let d: Vec<PathBuf> = ["overlays", "generic-tests"]
            .iter()
            .map(PathBuf::from)
            .filter(|p| p.exists())
            .collect();
        if d.is_empty() {
            eprintln!("cc-ci: error: neither overlays/ nor generic-tests/ exists here (hint: run from the project root or name paths)");
            return Ok(exit::code(exit::USAGE));
        }
        d
    } else {
        paths
    };
    let mut found = Found::default();
    for p in &paths {
        if std::fs::symlink_metadata(p).is_err() {
            eprintln!("cc-ci: error: {} does not exist", p.display());
            return Ok(exit::code(exit::USAGE));
        }
        collect_arg(p, &mut found);
    }
    found.yaml.sort();
    found.yaml.dedup();
    let mut errors: Vec<SpecError> = std::mem::take(&mut found.errors);
    let (files, allowlists) = (found.yaml.clone(), found.allowlists.clone());
    // Specs grouped by folder, each folder linted against its own recipe.yaml.
    let mut groups: Vec<(PathBuf, Vec<SpecFile>)> = Vec::new();
    for f in files.iter().filter(|f| !is_meta(f)) {
        let text = match read(&found, f) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let parent = f.parent().unwrap_or(Path::new("")).to_path_buf();
        match parse_spec_all(f, &text) {
            Ok(s) => match groups.iter_mut().find(|(d, _)| *d == parent) {
                Some((_, v)) => v.push(s),
                None => groups.push((parent, vec![s])),
            },
            Err(es) => errors.extend(es),
        }
    }
    let mut metas: Vec<(PathBuf, RecipeMeta)> = Vec::new();
    let mut meta_files: Vec<PathBuf> = files.iter().filter(|f| is_meta(f)).cloned().collect();
    for (d, _) in &groups {
        let m = d.join("recipe.yaml");
        if m.is_file() && !meta_files.contains(&m) {
            meta_files.push(m);
        }
    }
    for m in &meta_files {
        let text = match read(&found, m) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match parse_meta_all(m, &text) {
            Ok(meta) => metas.push((m.parent().unwrap_or(Path::new("")).to_path_buf(), meta)),
            Err(es) if files.contains(m) => errors.extend(es),
            Err(_) => {}
        }
    }
    for a in &allowlists {
        let text = match read(&found, a) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        errors.extend(parse_allowlist(a, &text).1);
    }
    let mut warnings = Vec::new();
    for (dir, specs) in &groups {
        let generic = dir.file_name().is_some_and(|n| n == "generic-tests");
        errors.extend(check_set(specs.iter(), generic));
        let meta = metas
            .iter()
            .find(|(d, _)| d == dir)
            .map(|(_, m)| m.clone())
            .unwrap_or_default();
        warnings.extend(lint_set(specs, &meta));
    }
    for e in &errors {
        println!("{e}");
    }
    for w in &warnings {
        println!("{w}");
    }
    let n = files.len() + allowlists.len();
    println!(
        "checked {n} file(s): {} error(s), {} warning(s)",
        errors.len(),
        warnings.len()
    );
    Ok(exit::code(if errors.is_empty() {
        exit::OK
    } else {
        exit::FAILED
    }))
}
