//! A run fixture's data dir and coord tree as end-to-end tests shape them: an overlay file of the
//! test's own, a coord tree shared by several runs.

use std::path::PathBuf;

use super::run::RunFixture;

impl RunFixture {
    /// The recipe's name: its folder under `examples/recipes/` and under the data dir's `overlays/`.
    pub fn recipe(&self) -> String {
        self.repo
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Uses `coord` as the coord tree (several fixtures can share one, as runs on one host do).
    pub fn with_coord(mut self, coord: PathBuf) -> Self {
        self.coord = coord;
        self
    }

    /// Adds an overlay file for the recipe.
    pub fn overlay(&self, name: &str, yaml: &str) -> PathBuf {
        let d = self.data.join("overlays").join(self.recipe());
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        std::fs::write(&p, yaml).unwrap();
        p
    }
}
