//! The run's identity: its private directory and its address (domain). It decides names only; it never
//! takes a lock or touches the engine.

use std::path::{Path, PathBuf};

use crate::recipe::RecipeSource;

use super::config::RunConfig;
use super::error::RunError;

/// The run's name and place (its address is decided once the recipe's own name and recipe.yaml are known).
pub(super) struct Identity {
    pub source: RecipeSource,
    pub recipe: String,
    pub run_dir: PathBuf,
}

pub(super) fn identity(
    cfg: &RunConfig,
    runs_root: &Path,
    run_id: &str,
) -> Result<Identity, RunError> {
    let source = RecipeSource::parse(&cfg.recipe)?;
    let recipe = source.name();
    let run_dir = runs_root.join(run_id);
    std::fs::create_dir_all(&run_dir).map_err(|source| RunError::CreateDir {
        path: run_dir.clone(),
        source,
    })?;
    Ok(Identity {
        source,
        recipe,
        run_dir,
    })
}

/// The run's domain: `given` (`--domain`), else recipe.yaml's `domain:`, else one unique to the run, named after
/// the recipe's own name (its TYPE), not the directory it was checked out into.
pub(super) fn domain(
    given: Option<&str>,
    pinned: Option<&str>,
    recipe: &str,
    run_id: &str,
) -> String {
    if let Some(d) = given.or(pinned) {
        return d.to_string();
    }
    let short = run_id.rsplit('-').next().unwrap_or(run_id);
    let label: String = recipe
        .chars()
        .take(40)
        .map(|c| match c {
            'a'..='z' | '0'..='9' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    let label = label.trim_matches('-');
    let label = if label.is_empty() { "app" } else { label };
    format!("{label}-{short}.ci.local")
}

#[cfg(test)]
mod tests {
    use super::domain;

    const RUN: &str = "20261130-182216-4f9a";

    #[test]
    fn the_given_domain_wins_over_the_pinned_one() {
        let d = domain(
            Some("x.example.org"),
            Some("pinned.example.org"),
            "app",
            RUN,
        );
        assert_eq!(d, "x.example.org");
    }

    #[test]
    fn recipe_yaml_pins_the_domain_when_none_is_given() {
        let d = domain(None, Some("pinned.example.org"), "app", RUN);
        assert_eq!(d, "pinned.example.org");
    }

    #[test]
    fn the_default_domain_is_named_after_the_recipe_and_unique_to_the_run() {
        assert_eq!(
            domain(None, None, "nextcloud", RUN),
            "nextcloud-4f9a.ci.local"
        );
        let other = domain(None, None, "nextcloud", "20261130-182216-77aa");
        assert_ne!(other, domain(None, None, "nextcloud", RUN));
    }

    #[test]
    fn a_recipe_name_that_is_no_domain_label_is_made_one() {
        assert_eq!(domain(None, None, "My_App", RUN), "my-app-4f9a.ci.local");
        assert_eq!(domain(None, None, "__", RUN), "app-4f9a.ci.local");
        let long = "a".repeat(200);
        let d = domain(None, None, &long, RUN);
        assert!(d.split('.').next().unwrap().len() <= 63, "{d}");
    }
}
