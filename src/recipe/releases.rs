//! Release tags of a checkout: `3.0.9+1.10.7` style semver tags, ordered by semver precedence (build
//! metadata ignored for order but kept in the tag), and the previous release of `head_ref`. Read-only.

use super::checkout::Checkout;
use super::git::{git, git_ok};
use super::RecipeError;

/// A release tag of a recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The tag as written, e.g. `1.1.0+1.36.1`.
    pub tag: String,
    pub version: semver::Version,
    /// Full sha of the tagged commit.
    pub commit: String,
}

/// Parses a release tag (an optional leading `v` is accepted).
pub fn parse_tag(tag: &str) -> Option<semver::Version> {
    semver::Version::parse(tag.strip_prefix('v').unwrap_or(tag)).ok()
}

impl Checkout {
    /// Every release tag of the checkout, newest first (semver precedence, then build metadata).
    pub fn releases(&self) -> Result<Vec<Release>, RecipeError> {
        let out = git(
            &self.path,
            &[
                "for-each-ref",
                "refs/tags",
                "--format=%(refname:strip=2) %(objectname) %(*objectname)",
            ],
        )?;
        let mut releases: Vec<Release> = out
            .lines()
            .filter_map(|line| {
                let mut parts = line.split_whitespace();
                let tag = parts.next()?;
                let object = parts.next()?;
                // Annotated tags name the tag object; `*objectname` is the commit it points to.
                let commit = parts.next().unwrap_or(object);
                Some(Release {
                    tag: tag.to_string(),
                    version: parse_tag(tag)?,
                    commit: commit.to_string(),
                })
            })
            .collect();
        releases.sort_by(|a, b| {
            b.version
                .cmp_precedence(&a.version)
                .then_with(|| b.version.cmp(&a.version))
        });
        Ok(releases)
    }

    /// The newest release tag that is an ancestor of `head_ref` (or HEAD) and not that commit itself.
    pub fn previous_release(&self) -> Result<Option<Release>, RecipeError> {
        let head = match &self.head_ref {
            Some(h) => h.clone(),
            None => match git(&self.path, &["rev-parse", "--verify", "HEAD^{commit}"]) {
                Ok(h) => h,
                Err(_) => return Ok(None),
            },
        };
        for r in self.releases()? {
            if r.commit == head {
                continue;
            }
            if git_ok(
                &self.path,
                &["merge-base", "--is-ancestor", &r.commit, &head],
            )? {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_metadata_is_kept_but_not_ordered_by() {
        let a = parse_tag("1.10.0+1.0.0").unwrap();
        let b = parse_tag("1.9.0+9.9.9").unwrap();
        assert!(a.cmp_precedence(&b).is_gt());
        assert_eq!(a.build.as_str(), "1.0.0");
        assert!(parse_tag("v2.0.0").is_some());
        assert!(parse_tag("latest").is_none());
    }
}
