//! The run's private recipe checkout: cloned from the per-host cache (names, URLs) or straight from a
//! local repository (paths), then moved to the PR head or a pinned `--ref`. The checkout belongs to one
//! run; nothing here ever writes into the cache outside its lock or into a user's own tree.

use std::path::{Path, PathBuf};

use super::cache::{self, CacheLock, LOCK_WAIT};
use super::git::{git, git_limited, git_ok, GitLimits};
use super::{RecipeError, RecipeSource};

/// The default catalogue base URL (`CCCI_RECIPE_BASE_URL` overrides it upstream of this module).
pub const DEFAULT_BASE_URL: &str = "https://git.coopcloud.tech/coop-cloud";

/// What to check out, and where.
#[derive(Debug, Clone)]
pub struct CheckoutRequest<'a> {
    pub source: &'a RecipeSource,
    /// Catalogue base URL for name sources.
    pub base_url: &'a str,
    /// Shared per-host cache of mirror clones.
    pub cache_dir: &'a Path,
    /// The run's private checkout directory (must not exist, or be empty).
    pub dest: &'a Path,
    /// Pull request number: fetches `refs/pull/N/head`.
    pub pr: Option<u64>,
    /// A commit (or other rev) to pin; it must exist in the source.
    pub git_ref: Option<&'a str>,
}

/// Where `head_ref` came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum HeadRefSource {
    /// From `--ref` / `REF`.
    Ref,
    /// The checkout's HEAD (the PR head with `--pr`, else the default branch).
    Head,
    /// Unknown: the checkout has no commit.
    Unknown,
}

/// A prepared private checkout.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub path: PathBuf,
    pub name: String,
    /// Full sha of the commit under test.
    pub head_ref: Option<String>,
    pub head_ref_source: HeadRefSource,
}

/// Prepares the run's private checkout of `req.source` in `req.dest`, with the default git limits.
pub fn prepare_checkout(req: &CheckoutRequest) -> Result<Checkout, RecipeError> {
    prepare_checkout_limited(req, &GitLimits::default())
}

/// Prepares the run's private checkout, every git call within `limits` (a deadline each; the
/// interrupt flag stops it). A call that fails that way leaves no partial cache entry and no lock.
pub fn prepare_checkout_limited(
    req: &CheckoutRequest,
    limits: &GitLimits,
) -> Result<Checkout, RecipeError> {
    let git = |dir: &Path, args: &[&str]| git_limited(dir, args, limits);
    let name = req.source.name();
    super::source::validate_name(&name)?;
    if let Some(r) = req.git_ref {
        validate_ref(r)?;
    }
    prepare_dest(req.dest)?;
    let desc = req.source.describe(req.base_url);
    let dest_s = req.dest.to_string_lossy().into_owned();
    let parent = req.dest.parent().unwrap_or(Path::new("/"));

    match req.source {
        RecipeSource::Path(p) => {
            check_local_repo(p)?;
            let src = p.to_string_lossy().into_owned();
            git(
                parent,
                &["clone", "--quiet", "--no-hardlinks", "--", &src, &dest_s],
            )?;
        }
        RecipeSource::Name(_) | RecipeSource::Url(_) => {
            let url = req.source.fetch_url(req.base_url);
            std::fs::create_dir_all(req.cache_dir)
                .map_err(|e| RecipeError::io(req.cache_dir, e))?;
            let entry = cache::entry_path(req.cache_dir, &name, &url);
            let lock = cache::lock_path(&entry);
            {
                let _x = CacheLock::exclusive(&lock, LOCK_WAIT)?;
                cache::update_mirror(&entry, &url, limits)?;
                if let Some(r) = req.git_ref {
                    if !has_commit(&entry, r)? && looks_like_sha(r) {
                        cache::fetch_extra(&entry, r, limits)?;
                    }
                }
            }
            let _s = CacheLock::shared(&lock, LOCK_WAIT)?;
            let src = entry.to_string_lossy().into_owned();
            // A local clone hardlinks the immutable object files: fast, and independent of later
            // cache updates.
            git(parent, &["clone", "--quiet", "--", &src, &dest_s])?;
            git(req.dest, &["remote", "set-url", "origin", &src])?;
        }
    }

    if let Some(pr) = req.pr {
        let spec = format!("refs/pull/{pr}/head");
        git(req.dest, &["fetch", "--quiet", "origin", "--", &spec]).map_err(|e| match e {
            RecipeError::GitTimeout { .. } | RecipeError::GitInterrupted { .. } => e,
            e => RecipeError::PrNotFound {
                pr,
                source_desc: desc.clone(),
                detail: e.to_string(),
            },
        })?;
        git(req.dest, &["checkout", "--quiet", "--detach", "FETCH_HEAD"])?;
    }

    let (head_ref, head_ref_source) = match req.git_ref {
        Some(r) => {
            if !has_commit(req.dest, r)? && looks_like_sha(r) {
                // Path sources (and refs that only the source has): ask the source itself.
                if let Err(
                    e @ (RecipeError::GitTimeout { .. } | RecipeError::GitInterrupted { .. }),
                ) = git(req.dest, &["fetch", "--quiet", "origin", "--", r])
                {
                    return Err(e);
                }
            }
            if !has_commit(req.dest, r)? {
                return Err(RecipeError::RefNotFound {
                    git_ref: r.to_string(),
                    source_desc: desc,
                });
            }
            let sha = git(
                req.dest,
                &["rev-parse", "--verify", &format!("{r}^{{commit}}")],
            )?;
            git(req.dest, &["checkout", "--quiet", "--detach", &sha])?;
            (Some(sha), HeadRefSource::Ref)
        }
        None => match git(req.dest, &["rev-parse", "--verify", "HEAD^{commit}"]) {
            Ok(sha) => (Some(sha), HeadRefSource::Head),
            Err(_) => (None, HeadRefSource::Unknown),
        },
    };

    Ok(Checkout {
        path: req.dest.to_path_buf(),
        name,
        head_ref,
        head_ref_source,
    })
}

impl Checkout {
    /// Checks out `rev` (detached) in the private tree. Fails on local changes rather than losing them.
    pub fn checkout_at(&self, rev: &str) -> Result<(), RecipeError> {
        validate_ref(rev)?;
        if !has_commit(&self.path, rev)? {
            return Err(RecipeError::RefNotFound {
                git_ref: rev.to_string(),
                source_desc: format!("checkout {}", self.path.display()),
            });
        }
        git(&self.path, &["checkout", "--quiet", "--detach", rev, "--"])?;
        Ok(())
    }

    /// The commit checked out now.
    pub fn current_commit(&self) -> Result<String, RecipeError> {
        git(&self.path, &["rev-parse", "--verify", "HEAD^{commit}"])
    }
}

fn has_commit(dir: &Path, rev: &str) -> Result<bool, RecipeError> {
    git_ok(
        dir,
        &[
            "rev-parse",
            "--quiet",
            "--verify",
            &format!("{rev}^{{commit}}"),
        ],
    )
}

fn looks_like_sha(r: &str) -> bool {
    (7..=64).contains(&r.len()) && r.chars().all(|c| c.is_ascii_hexdigit())
}

/// A rev is passed to git as an argument: it must not look like an option or hold odd characters.
pub(crate) fn validate_ref(r: &str) -> Result<(), RecipeError> {
    let bad = |reason| RecipeError::InvalidRef {
        git_ref: r.to_string(),
        reason,
    };
    if r.is_empty() {
        return Err(bad("it is empty"));
    }
    if r.starts_with('-') {
        return Err(bad("it starts with `-`"));
    }
    if r.contains("..") || r.contains("@{") {
        return Err(bad("ranges and reflog expressions are not commits"));
    }
    if !r
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./+^~".contains(c))
    {
        return Err(bad("it holds characters git refs do not use"));
    }
    Ok(())
}

fn prepare_dest(dest: &Path) -> Result<(), RecipeError> {
    if dest.exists() {
        let mut it = std::fs::read_dir(dest).map_err(|e| RecipeError::io(dest, e))?;
        if it.next().is_some() {
            return Err(RecipeError::DestExists {
                path: dest.to_path_buf(),
            });
        }
        std::fs::remove_dir(dest).map_err(|e| RecipeError::io(dest, e))?;
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| RecipeError::io(parent, e))?;
    }
    Ok(())
}

fn check_local_repo(p: &Path) -> Result<(), RecipeError> {
    let bad = |reason: &str| RecipeError::BadPath {
        path: p.to_path_buf(),
        reason: reason.to_string(),
    };
    if !p.is_dir() {
        return Err(bad("does not exist or is not a directory"));
    }
    match git(p, &["rev-parse", "--is-bare-repository"]) {
        Ok(s) if s == "false" => Ok(()),
        Ok(_) => Err(bad(
            "is a bare repository (hint: pass a working clone, or its URL as file://…)",
        )),
        Err(_) => Err(bad(
            "is not a git repository (hint: run `git init` and commit the recipe)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_that_look_like_options_or_ranges_are_rejected() {
        for r in ["-x", "a..b", "HEAD@{1}", "", "a b", "$(x)"] {
            assert!(validate_ref(r).is_err(), "{r:?}");
        }
        for r in ["0123abcd", "1.0.0+1.36.1", "refs/pull/1/head", "main"] {
            validate_ref(r).unwrap();
        }
    }

    #[test]
    fn a_silent_remote_leaves_no_partial_cache_entry_and_no_held_lock() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "git://127.0.0.1:{}/hello.git",
            l.local_addr().unwrap().port()
        );
        let source = RecipeSource::parse(&url).unwrap();
        let d = tempfile::tempdir().unwrap();
        let cache_dir = d.path().join("cache");
        let req = CheckoutRequest {
            source: &source,
            base_url: DEFAULT_BASE_URL,
            cache_dir: &cache_dir,
            dest: &d.path().join("run/checkout"),
            pr: None,
            git_ref: None,
        };
        let limits = GitLimits {
            timeout: std::time::Duration::from_secs(1),
            cancel: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        let e = prepare_checkout_limited(&req, &limits).unwrap_err();
        assert!(matches!(e, RecipeError::GitTimeout { .. }), "{e}");
        let left: Vec<String> = std::fs::read_dir(&cache_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left.len(), 1, "only the lock file may remain: {left:?}");
        assert!(left[0].ends_with(".git.lock"), "{left:?}");
        let lock = cache_dir.join(&left[0]);
        assert!(CacheLock::try_exclusive(&lock).unwrap().is_some());
        assert!(!d.path().join("run/checkout").exists());
    }

    #[test]
    fn a_non_empty_destination_is_refused() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("x"), "").unwrap();
        assert!(matches!(
            prepare_dest(d.path()),
            Err(RecipeError::DestExists { .. })
        ));
    }
}
