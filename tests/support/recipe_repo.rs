//! A real git repository of the bundled example recipe, with release tags and a head commit that
//! moves the version (built by `examples/make-recipe-repo.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Root of this project.
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A built recipe repository: its path and the commit of its head.
pub struct RecipeRepo {
    pub path: PathBuf,
    pub head: String,
}

/// Builds the example recipe `name` (a folder of `examples/recipes/`) as a git repository at `dest`.
pub fn build(name: &str, dest: &Path) -> RecipeRepo {
    build_from(&project_root().join("examples/recipes").join(name), dest)
}

/// Like [`build`] for any recipe folder `src` (e.g. one of `tests/fixtures/recipes/`).
pub fn build_from(src: &Path, dest: &Path) -> RecipeRepo {
    let out = Command::new("bash")
        .arg(project_root().join("examples/make-recipe-repo.sh"))
        .arg(src)
        .arg(dest)
        .output()
        .expect("run make-recipe-repo.sh");
    assert!(
        out.status.success(),
        "make-recipe-repo.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let repo = RecipeRepo {
        path: dest.to_path_buf(),
        head: String::from_utf8_lossy(&out.stdout).trim().to_string(),
    };
    assert!(
        repo.head.len() == 40 && repo.head.chars().all(|c| c.is_ascii_hexdigit()),
        "make-recipe-repo.sh printed {:?}, not the head commit",
        repo.head
    );
    repo
}
