//! The chaos version of a checkout, as abra computes it for `abra app deploy --chaos`: the first 8 hex
//! characters of HEAD, with `+U` when the working tree has uncommitted changes.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
#[error("cannot read the chaos version of {path}: {message} (hint: is it a git checkout?)")]
pub struct ChaosError {
    pub path: PathBuf,
    pub message: String,
}

fn git(path: &Path, args: &[&str]) -> Result<String, ChaosError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(path)
        .args(args)
        .output()
        .map_err(|e| ChaosError {
            path: path.to_path_buf(),
            message: format!("running git: {e}"),
        })?;
    if !out.status.success() {
        return Err(ChaosError {
            path: path.to_path_buf(),
            message: format!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `09bf4d54` for a clean checkout, `09bf4d54+U` for a dirty one.
pub fn chaos_version(checkout: &Path) -> Result<String, ChaosError> {
    let head = git(checkout, &["rev-parse", "HEAD"])?;
    let short: String = head.chars().take(8).collect();
    let dirty = !git(checkout, &["status", "--porcelain", "--untracked-files=no"])?.is_empty();
    Ok(if dirty { format!("{short}+U") } else { short })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let s = Command::new("git")
                .args(args)
                .current_dir(d.path())
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@t")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@t")
                .status()
                .unwrap();
            assert!(s.success());
        };
        run(&["init", "-q"]);
        std::fs::write(d.path().join("compose.yml"), "a\n").unwrap();
        run(&["add", "."]);
        run(&["commit", "-qm", "one"]);
        d
    }

    #[test]
    fn clean_checkout_gives_eight_hex_characters_of_head() {
        let d = repo();
        let v = chaos_version(d.path()).unwrap();
        assert_eq!(v.len(), 8);
        assert!(v.chars().all(|c| c.is_ascii_hexdigit()), "{v}");
        let head = git(d.path(), &["rev-parse", "HEAD"]).unwrap();
        assert!(head.starts_with(&v));
    }

    #[test]
    fn dirty_checkout_carries_the_u_marker() {
        let d = repo();
        std::fs::write(d.path().join("compose.yml"), "b\n").unwrap();
        assert!(chaos_version(d.path()).unwrap().ends_with("+U"));
    }

    #[test]
    fn a_folder_that_is_not_a_checkout_is_a_clear_error() {
        let d = tempfile::tempdir().unwrap();
        let e = chaos_version(d.path()).unwrap_err();
        assert!(e.to_string().contains("is it a git checkout"), "{e}");
    }
}
