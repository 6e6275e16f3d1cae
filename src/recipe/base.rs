//! What an upgrade base needs to know of the checkout: whether a commit is there at all, whether it is
//! a proper ancestor of the head under test, and which release tag (if any) names it. Read-only git.

use super::checkout::{validate_ref, Checkout};
use super::git::{git, git_ok};
use super::{RecipeError, Release};

impl Checkout {
    /// The full commit `rev` names in the checkout, or `None` when the checkout does not have it.
    pub fn commit_of(&self, rev: &str) -> Result<Option<String>, RecipeError> {
        validate_ref(rev)?;
        let spec = format!("{rev}^{{commit}}");
        if !git_ok(&self.path, &["rev-parse", "--quiet", "--verify", &spec])? {
            return Ok(None);
        }
        git(&self.path, &["rev-parse", "--verify", &spec]).map(Some)
    }

    /// True when `commit` is in the checkout, is not `head` itself, and is an ancestor of `head`.
    pub fn is_proper_ancestor(&self, commit: &str, head: &str) -> Result<bool, RecipeError> {
        let (Some(c), Some(h)) = (self.commit_of(commit)?, self.commit_of(head)?) else {
            return Ok(false);
        };
        if c == h {
            return Ok(false);
        }
        git_ok(&self.path, &["merge-base", "--is-ancestor", &c, &h])
    }

    /// The newest release tag that names exactly `commit`, if one does.
    pub fn release_at(&self, commit: &str) -> Result<Option<Release>, RecipeError> {
        Ok(self.releases()?.into_iter().find(|r| r.commit == commit))
    }
}

#[cfg(test)]
mod tests {
    use super::super::HeadRefSource;
    use super::*;

    use crate::recipe::testutil::sh;

    #[test]
    fn ancestry_and_tags_as_git_sees_them() {
        let d = tempfile::tempdir().unwrap();
        sh(
            d.path(),
            "git init -q -b main . && git config commit.gpgsign false && \
             git commit -q --allow-empty -m one && git tag 1.0.0+1 && \
             git commit -q --allow-empty -m two && \
             git checkout -q -b side HEAD~1 && git commit -q --allow-empty -m side && \
             git checkout -q main",
        );
        let rev = |r: &str| sh(d.path(), &format!("git rev-parse {r}"));
        let (one, two, side) = (rev("1.0.0+1"), rev("main"), rev("side"));
        let c = Checkout {
            path: d.path().to_path_buf(),
            name: "x".into(),
            head_ref: Some(two.clone()),
            head_ref_source: HeadRefSource::Head,
        };
        assert_eq!(c.commit_of("main").unwrap(), Some(two.clone()));
        assert_eq!(c.commit_of(&"0".repeat(40)).unwrap(), None);
        assert!(c.is_proper_ancestor(&one, &two).unwrap());
        assert!(
            !c.is_proper_ancestor(&two, &two).unwrap(),
            "not the head itself"
        );
        assert!(!c.is_proper_ancestor(&side, &two).unwrap(), "a side branch");
        assert!(!c.is_proper_ancestor(&"f".repeat(40), &two).unwrap());
        assert_eq!(c.release_at(&one).unwrap().unwrap().tag, "1.0.0+1");
        assert!(c.release_at(&two).unwrap().is_none());
        assert!(c.commit_of("--all").is_err(), "never an option");
    }
}
