//! Recipe checkouts from real git repositories: name, URL and path sources, `--pr`, `--ref`, the
//! previous release, and concurrent runs that never share a tree.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cc_ci::recipe::{
    prepare_checkout, Checkout, CheckoutRequest, HeadRefSource, RecipeError, RecipeSource,
};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A forge-like directory of recipe repositories: `<base>/hello.git` whose `main` sits on the release
/// `1.1.0+1.36.1` and whose PR 1 (`refs/pull/1/head`) is the head commit with version 1.2.0.
struct Forge {
    _dir: tempfile::TempDir,
    base: PathBuf,
    repo: PathBuf,
    pr_head: String,
    main: String,
}

impl Forge {
    fn new() -> Forge {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("forge");
        let repo = base.join("hello.git");
        let built = crate::support::recipe_repo::build("hello", &repo);
        git(&repo, &["update-ref", "refs/pull/1/head", &built.head]);
        git(&repo, &["reset", "-q", "--hard", "1.1.0+1.36.1"]);
        let main = git(&repo, &["rev-parse", "HEAD"]);
        Forge {
            base,
            repo,
            pr_head: built.head,
            main,
            _dir: dir,
        }
    }

    fn base_url(&self) -> String {
        format!("file://{}", self.base.display())
    }
}

fn req<'a>(
    source: &'a RecipeSource,
    base_url: &'a str,
    cache: &'a Path,
    dest: &'a Path,
) -> CheckoutRequest<'a> {
    CheckoutRequest {
        source,
        base_url,
        cache_dir: cache,
        dest,
        pr: None,
        git_ref: None,
    }
}

fn version_label(c: &Checkout) -> String {
    let compose = std::fs::read_to_string(c.path.join("compose.yml")).unwrap();
    compose
        .lines()
        .find_map(|l| l.split("version=").nth(1))
        .unwrap()
        .trim_matches('"')
        .to_string()
}

#[test]
fn name_source_checks_out_the_default_branch_through_the_cache() {
    let f = Forge::new();
    let work = tempfile::tempdir().unwrap();
    let src = RecipeSource::parse("hello").unwrap();
    let base = f.base_url();
    let cache = work.path().join("cache");
    let dest = work.path().join("run1/recipe");
    let c = prepare_checkout(&req(&src, &base, &cache, &dest)).unwrap();
    assert_eq!(c.name, "hello");
    assert_eq!(c.head_ref.as_deref(), Some(f.main.as_str()));
    assert_eq!(c.head_ref_source, HeadRefSource::Head);
    assert_eq!(version_label(&c), "1.1.0+1.36.1");
    let entries: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        entries
            .iter()
            .any(|e| e.starts_with("hello-") && e.ends_with(".git")),
        "{entries:?}"
    );
    let prev = c.previous_release().unwrap().unwrap();
    assert_eq!(
        prev.tag, "1.0.0+1.36.1",
        "head is itself 1.1.0: the one before"
    );
}

#[test]
fn pr_source_checks_out_the_pr_head_and_finds_the_previous_release() {
    let f = Forge::new();
    let work = tempfile::tempdir().unwrap();
    let url = format!("{}/hello.git", f.base_url());
    let src = RecipeSource::parse(&url).unwrap();
    assert!(matches!(src, RecipeSource::Url(_)));
    let cache = work.path().join("cache");
    let dest = work.path().join("recipe");
    let mut r = req(&src, "unused", &cache, &dest);
    r.pr = Some(1);
    let c = prepare_checkout(&r).unwrap();
    assert_eq!(c.head_ref.as_deref(), Some(f.pr_head.as_str()));
    assert_eq!(version_label(&c), "1.2.0+1.36.1");
    let prev = c.previous_release().unwrap().unwrap();
    assert_eq!(prev.tag, "1.1.0+1.36.1");
    assert_eq!(prev.version.build.as_str(), "1.36.1");
    assert_eq!(prev.commit, f.main);
    c.checkout_at(&prev.tag).unwrap();
    assert_eq!(version_label(&c), "1.1.0+1.36.1");
    c.checkout_at(c.head_ref.as_deref().unwrap()).unwrap();
    assert_eq!(version_label(&c), "1.2.0+1.36.1");
}

#[test]
fn ref_pins_the_commit_and_is_the_head_ref() {
    let f = Forge::new();
    let work = tempfile::tempdir().unwrap();
    let src = RecipeSource::parse("hello").unwrap();
    let base = f.base_url();
    let cache = work.path().join("cache");
    let dest = work.path().join("recipe");
    let mut r = req(&src, &base, &cache, &dest);
    r.pr = Some(1);
    r.git_ref = Some(&f.pr_head);
    let c = prepare_checkout(&r).unwrap();
    assert_eq!(c.head_ref.as_deref(), Some(f.pr_head.as_str()));
    assert_eq!(c.head_ref_source, HeadRefSource::Ref);
    assert_eq!(c.current_commit().unwrap(), f.pr_head);
}

#[test]
fn a_ref_only_reachable_from_a_pr_ref_is_found_without_pr() {
    let f = Forge::new();
    let work = tempfile::tempdir().unwrap();
    let src = RecipeSource::parse("hello").unwrap();
    let base = f.base_url();
    let cache = work.path().join("cache");
    let dest = work.path().join("recipe");
    let mut r = req(&src, &base, &cache, &dest);
    let short = &f.pr_head[..12];
    r.git_ref = Some(short);
    let c = prepare_checkout(&r).unwrap();
    assert_eq!(c.head_ref.as_deref(), Some(f.pr_head.as_str()), "full sha");
}

#[test]
fn a_missing_ref_is_a_clear_error_naming_the_ref_and_the_source() {
    let f = Forge::new();
    let work = tempfile::tempdir().unwrap();
    let src = RecipeSource::parse("hello").unwrap();
    let base = f.base_url();
    let cache = work.path().join("cache");
    let dest = work.path().join("recipe");
    let mut r = req(&src, &base, &cache, &dest);
    let missing = "0123456789abcdef0123456789abcdef01234567";
    r.git_ref = Some(missing);
    let e = prepare_checkout(&r).unwrap_err();
    assert!(matches!(e, RecipeError::RefNotFound { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(missing), "{msg}");
    assert!(msg.contains("hello.git"), "{msg}");
}

#[test]
fn a_missing_pr_is_a_clear_error() {
    let f = Forge::new();
    let work = tempfile::tempdir().unwrap();
    let src = RecipeSource::Path(f.repo.clone());
    let cache = work.path().join("cache");
    let dest = work.path().join("recipe");
    let mut r = req(&src, "unused", &cache, &dest);
    r.pr = Some(42);
    let e = prepare_checkout(&r).unwrap_err().to_string();
    assert!(e.contains("refs/pull/42/head"), "{e}");
}

#[test]
fn path_source_is_cloned_and_the_users_tree_is_never_written() {
    let f = Forge::new();
    let work = tempfile::tempdir().unwrap();
    let src = RecipeSource::parse(f.repo.to_str().unwrap()).unwrap();
    let before = git(&f.repo, &["status", "--porcelain", "--ignored"]);
    let refs_before = git(&f.repo, &["for-each-ref"]);
    let cache = work.path().join("cache");
    let dest = work.path().join("recipe");
    let mut r = req(&src, "unused", &cache, &dest);
    r.pr = Some(1);
    let c = prepare_checkout(&r).unwrap();
    assert_eq!(c.head_ref.as_deref(), Some(f.pr_head.as_str()));
    assert_ne!(c.path, f.repo);
    std::fs::write(c.path.join("compose.yml"), "changed\n").unwrap();
    assert_eq!(
        git(&f.repo, &["status", "--porcelain", "--ignored"]),
        before
    );
    assert_eq!(git(&f.repo, &["for-each-ref"]), refs_before);
    assert!(!cache.exists(), "path sources do not use the cache");
}

#[test]
fn a_bare_path_source_is_refused_with_a_hint() {
    let f = Forge::new();
    let work = tempfile::tempdir().unwrap();
    let bare = work.path().join("bare/hello");
    git(
        work.path(),
        &[
            "clone",
            "-q",
            "--bare",
            f.repo.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let src = RecipeSource::Path(bare);
    let dest = work.path().join("recipe");
    let e = prepare_checkout(&req(&src, "unused", work.path(), &dest))
        .unwrap_err()
        .to_string();
    assert!(e.contains("bare") && e.contains("hint"), "{e}");
}

#[test]
fn previous_release_uses_semver_order_and_ignores_tags_that_are_not_ancestors() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("semver");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let commit = |msg: &str| {
        std::fs::write(repo.join("compose.yml"), format!("{msg}\n")).unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-qm", msg]);
    };
    commit("one");
    git(&repo, &["tag", "1.9.0+2.0.0"]);
    commit("two");
    git(&repo, &["tag", "-a", "-m", "annotated", "1.10.0+1.0.0"]);
    commit("three");
    git(&repo, &["tag", "not-a-version"]);
    git(&repo, &["checkout", "-q", "-b", "side", "1.10.0+1.0.0"]);
    commit("side");
    git(&repo, &["tag", "2.0.0+1.0.0"]);
    git(&repo, &["checkout", "-q", "main"]);
    commit("head");
    let head = git(&repo, &["rev-parse", "HEAD"]);
    let tagged = git(&repo, &["rev-parse", "1.10.0+1.0.0^{commit}"]);

    let src = RecipeSource::Path(repo.clone());
    let dest = work.path().join("recipe");
    let c = prepare_checkout(&req(&src, "unused", work.path(), &dest)).unwrap();
    assert_eq!(c.head_ref.as_deref(), Some(head.as_str()));
    let prev = c.previous_release().unwrap().unwrap();
    assert_eq!(
        prev.tag, "1.10.0+1.0.0",
        "1.10 > 1.9 though lexically smaller"
    );
    assert_eq!(
        prev.commit, tagged,
        "annotated tags resolve to their commit"
    );
    let all: Vec<String> = c.releases().unwrap().into_iter().map(|r| r.tag).collect();
    assert_eq!(all, ["2.0.0+1.0.0", "1.10.0+1.0.0", "1.9.0+2.0.0"]);
}

#[test]
fn a_repo_without_releases_has_no_previous_release() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("fresh");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("compose.yml"), "x\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "only"]);
    git(&repo, &["tag", "1.0.0"]);
    let src = RecipeSource::Path(repo);
    let dest = work.path().join("recipe");
    let c = prepare_checkout(&req(&src, "unused", work.path(), &dest)).unwrap();
    assert_eq!(
        c.previous_release().unwrap(),
        None,
        "the only tag is the head itself"
    );
}

#[test]
fn four_concurrent_checkouts_of_one_recipe_get_distinct_trees() {
    let f = Forge::new();
    let work = tempfile::tempdir().unwrap();
    let base = f.base_url();
    let cache = work.path().join("cache");
    let results: Vec<Checkout> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (base, cache, work) = (&base, &cache, work.path());
                s.spawn(move || {
                    let src = RecipeSource::parse("hello").unwrap();
                    let dest = work.join(format!("run{i}/recipe"));
                    let mut r = req(&src, base, cache, &dest);
                    r.pr = Some(1);
                    prepare_checkout(&r).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut paths: Vec<_> = results.iter().map(|c| c.path.clone()).collect();
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 4);
    for c in &results {
        assert_eq!(c.head_ref.as_deref(), Some(f.pr_head.as_str()));
    }
    // Trees are private: a change in one is invisible in the others.
    std::fs::write(results[0].path.join("compose.yml"), "mine\n").unwrap();
    for c in &results[1..] {
        assert_eq!(version_label(c), "1.2.0+1.36.1");
    }
}

const CHILD: &str = "RECIPE_TEST_CHILD";

fn child_cmd(test: &str) -> Command {
    // Test names carry this module's path inside the binary (`recipe_checkout::NAME`).
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        &format!("{module}::{test}"),
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd
}

#[test]
fn four_concurrent_processes_check_out_one_recipe_with_a_fresh_cache() {
    if std::env::var(CHILD).as_deref() == Ok("checkout") {
        let var = |k: &str| std::env::var(k).unwrap();
        let src = RecipeSource::parse("hello").unwrap();
        let (base, cache, dest) = (
            var("T_BASE"),
            PathBuf::from(var("T_CACHE")),
            PathBuf::from(var("T_DEST")),
        );
        let mut r = req(&src, &base, &cache, &dest);
        r.pr = Some(1);
        let c = prepare_checkout(&r).unwrap();
        println!("HEAD_REF={}", c.head_ref.unwrap());
        return;
    }
    let f = Forge::new();
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let children: Vec<_> = (0..4)
        .map(|i| {
            child_cmd("four_concurrent_processes_check_out_one_recipe_with_a_fresh_cache")
                .env(CHILD, "checkout")
                .env("T_BASE", f.base_url())
                .env("T_CACHE", &cache)
                .env("T_DEST", work.path().join(format!("run{i}/recipe")))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains(&format!("HEAD_REF={}", f.pr_head)), "{text}");
    }
    for i in 0..4 {
        assert!(work
            .path()
            .join(format!("run{i}/recipe/compose.yml"))
            .is_file());
    }
}

#[test]
fn a_lock_held_by_a_killed_process_does_not_block() {
    let test = "a_lock_held_by_a_killed_process_does_not_block";
    if std::env::var(CHILD).as_deref() == Ok("hold") {
        let lock = PathBuf::from(std::env::var("T_LOCK").unwrap());
        let _held = cc_ci::recipe::CacheLock::exclusive(&lock, Duration::from_secs(5)).unwrap();
        std::fs::write(std::env::var("T_READY").unwrap(), "held").unwrap();
        std::thread::sleep(Duration::from_secs(120));
        return;
    }
    let f = Forge::new();
    let work = tempfile::tempdir().unwrap();
    let base = f.base_url();
    let cache = work.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let url = format!("{base}/hello.git");
    let entry = cc_ci::recipe::cache_entry_path(&cache, "hello", &url);
    let lock = cc_ci::recipe::cache_lock_path(&entry);
    let ready = work.path().join("ready");
    let mut child = child_cmd(test)
        .env(CHILD, "hold")
        .env("T_LOCK", &lock)
        .env("T_READY", &ready)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready.exists() {
        assert!(Instant::now() < deadline, "child never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        cc_ci::recipe::CacheLock::try_exclusive(&lock)
            .unwrap()
            .is_none(),
        "the live child holds the lock"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        lock.exists(),
        "the killed process leaves its lock file behind"
    );
    let src = RecipeSource::parse("hello").unwrap();
    let dest = work.path().join("recipe");
    let c = prepare_checkout(&req(&src, &base, &cache, &dest)).unwrap();
    assert_eq!(c.head_ref.as_deref(), Some(f.main.as_str()));
}

#[test]
fn git_lock_files_left_in_the_cache_by_a_killed_fetch_do_not_block() {
    let f = Forge::new();
    let work = tempfile::tempdir().unwrap();
    let base = f.base_url();
    let cache = work.path().join("cache");
    let src = RecipeSource::parse("hello").unwrap();
    prepare_checkout(&req(&src, &base, &cache, &work.path().join("a"))).unwrap();
    let entry = cc_ci::recipe::cache_entry_path(&cache, "hello", &format!("{base}/hello.git"));
    std::fs::write(entry.join("packed-refs.lock"), "").unwrap();
    std::fs::write(entry.join("refs/heads/main.lock"), "").unwrap();
    // The forge moves on, so the next run really has to update the mirror.
    git(&f.repo, &["commit", "-q", "--allow-empty", "-m", "new"]);
    let new_main = git(&f.repo, &["rev-parse", "HEAD"]);
    let c = prepare_checkout(&req(&src, &base, &cache, &work.path().join("b"))).unwrap();
    assert_eq!(c.head_ref.as_deref(), Some(new_main.as_str()));
}

#[test]
fn a_damaged_mirror_is_recloned() {
    let f = Forge::new();
    let work = tempfile::tempdir().unwrap();
    let base = f.base_url();
    let cache = work.path().join("cache");
    let src = RecipeSource::parse("hello").unwrap();
    prepare_checkout(&req(&src, &base, &cache, &work.path().join("a"))).unwrap();
    let entry = cc_ci::recipe::cache_entry_path(&cache, "hello", &format!("{base}/hello.git"));
    std::fs::write(entry.join("config"), "this is not a git config\n").unwrap();
    let c = prepare_checkout(&req(&src, &base, &cache, &work.path().join("b"))).unwrap();
    assert_eq!(c.head_ref.as_deref(), Some(f.main.as_str()));
}
