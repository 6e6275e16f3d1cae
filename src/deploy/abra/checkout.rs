//! The run's recipe checkout as the abra deployer sees it: the release tag at HEAD, and the pin that
//! keeps abra from moving it. abra checks a recipe out at the version pinned in the app's env file
//! (`TYPE=<recipe>:<version>`) for every later command that gets no version, `--chaos` or
//! `--ignore-env-version`; the checkout is the run's own, so after every call it is put back on the
//! commit it was on. It only ever runs `git` in the checkout (under a deadline), never elsewhere.

use std::path::Path;

use crate::deploy::DeployError;

/// How long one local git command may take before its process group is killed.
const GIT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs `git -C checkout args…` under [`GIT_DEADLINE`]; its trimmed stdout.
pub(super) fn git_in(checkout: &Path, args: &[&str]) -> Result<String, DeployError> {
    let mut argv = vec!["-C".to_string(), checkout.display().to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let raw = super::command::run(
        Path::new("git"),
        &argv,
        &[],
        GIT_DEADLINE,
        &crate::redact::Redactor::new(),
        super::command::Io::Pipes,
    )?;
    if raw.code != Some(0) {
        return Err(DeployError::Recipe {
            path: checkout.to_path_buf(),
            message: format!("git {} failed: {}", args.join(" "), raw.stderr.trim()),
        });
    }
    Ok(raw.stdout.trim().to_string())
}

pub(super) fn head_of(checkout: &Path) -> Result<String, DeployError> {
    git_in(checkout, &["rev-parse", "--verify", "HEAD^{commit}"])
}

/// The newest release tag at HEAD of `checkout`.
pub(super) fn release_at_head(checkout: &Path) -> Result<String, DeployError> {
    let text = git_in(checkout, &["tag", "--points-at", "HEAD"])?;
    text.lines()
        .filter_map(|t| crate::recipe::parse_tag(t).map(|v| (v, t.to_string())))
        .max_by(|a, b| a.0.cmp_precedence(&b.0).then_with(|| a.0.cmp(&b.0)))
        .map(|(_, t)| t)
        .ok_or_else(|| DeployError::Recipe {
            path: checkout.to_path_buf(),
            message: "a non-chaos install needs a release tag at HEAD (hint: check out the \
                      previous release first, or install with chaos)"
                .into(),
        })
}

/// The commit a checkout must stay on across one abra call.
pub(super) struct Pin {
    commit: String,
}

impl Pin {
    /// Remembers the checkout's HEAD.
    pub(super) fn take(checkout: &Path) -> Result<Pin, DeployError> {
        Ok(Pin {
            commit: head_of(checkout)?,
        })
    }

    /// Puts the checkout back on the pinned commit when abra moved it. Returns the commit abra had
    /// moved it to (for the ledger), `None` when it had not moved.
    pub(super) fn restore(&self, checkout: &Path) -> Result<Option<String>, DeployError> {
        let now = head_of(checkout)?;
        if now == self.commit {
            return Ok(None);
        }
        // No --force: local changes in the run's checkout are never thrown away; a checkout that
        // cannot go back fails the call loudly instead.
        git_in(checkout, &["checkout", "--quiet", "--detach", &self.commit])?;
        Ok(Some(now))
    }

    pub(super) fn commit(&self) -> &str {
        &self.commit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> (tempfile::TempDir, String, String) {
        let d = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let o = std::process::Command::new("git")
                .arg("-C")
                .arg(d.path())
                .args(args)
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@t")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@t")
                .output()
                .unwrap();
            assert!(o.status.success(), "{o:?}");
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        };
        git(&["init", "-q"]);
        std::fs::write(d.path().join("f"), "1").unwrap();
        git(&["add", "f"]);
        git(&["commit", "-qm", "one"]);
        git(&["tag", "1.0.0+1.0"]);
        let first = git(&["rev-parse", "HEAD"]);
        std::fs::write(d.path().join("f"), "2").unwrap();
        git(&["commit", "-qam", "two"]);
        let second = git(&["rev-parse", "HEAD"]);
        (d, first, second)
    }

    #[test]
    fn a_moved_checkout_is_put_back_and_the_move_reported() {
        let (d, first, second) = repo();
        let pin = Pin::take(d.path()).unwrap();
        assert_eq!(pin.commit(), second);
        assert_eq!(pin.restore(d.path()).unwrap(), None, "nothing moved");
        git_in(d.path(), &["checkout", "-q", "1.0.0+1.0"]).unwrap();
        assert_eq!(pin.restore(d.path()).unwrap(), Some(first));
        assert_eq!(head_of(d.path()).unwrap(), second);
    }

    #[test]
    fn the_release_at_head_is_found_or_a_hint_is_given() {
        let (d, _, _) = repo();
        let e = release_at_head(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("release tag at HEAD") && e.contains("hint"),
            "{e}"
        );
        git_in(d.path(), &["checkout", "-q", "1.0.0+1.0"]).unwrap();
        assert_eq!(release_at_head(d.path()).unwrap(), "1.0.0+1.0");
    }
}
