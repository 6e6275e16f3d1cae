//! Hostile spec input through the real binary, without the engine: bytes that are not spec text get a
//! positioned message, wrong types and unbounded durations are refused with the limit named, error
//! counts count files, a `-k` nested too deep is a usage error (never a stack overflow), and
//! symlinked or non-regular spec files are followed inside the data dir or reported — never skipped.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::support::cli::{cc_ci, text};
use crate::support::process::output_within;
use crate::support::recipe_repo::{self, project_root};

fn run(home: &Path, args: &[&str]) -> Output {
    output_within(cc_ci(home).args(args), Duration::from_secs(120))
}

fn all(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn check(dir: &Path, file: &str, bytes: &[u8]) -> Output {
    let p = dir.join(file);
    std::fs::write(&p, bytes).unwrap();
    let out = run(dir, &["overlay", "check", p.to_str().unwrap()]);
    std::fs::remove_file(&p).unwrap();
    out
}

#[test]
fn a_bom_a_nul_and_a_non_utf8_byte_are_named_with_line_and_column() {
    let d = tempfile::tempdir().unwrap();
    let good = "tier: install\ntests:\n  - name: a\n    converged: {}\n";
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "bom.yaml",
            [b"\xef\xbb\xbf".as_slice(), good.as_bytes()].concat(),
            "bom.yaml:1:1: the file starts with a byte order mark",
        ),
        (
            "nul.yaml",
            good.replace("name: a", "name: a\0b").into_bytes(),
            "nul.yaml:3:12: a NUL byte",
        ),
        (
            "latin1.yaml",
            [good.as_bytes(), b"# caf\xe9\n".as_slice()].concat(),
            "latin1.yaml:5:6: byte 0xe9 is not UTF-8",
        ),
    ];
    for (name, bytes, want) in cases {
        let out = check(d.path(), name, &bytes);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(all(&out).contains(want), "{name}: {}", text(&out));
    }
}

#[test]
fn a_description_that_is_not_a_string_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let out = check(
        d.path(),
        "desc.yaml",
        b"tier: install\ndescription: [1, 2]\ntests:\n  - name: a\n    converged: {}\n",
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        all(&out).contains("desc.yaml:2:14: wrong type for `description`"),
        "{}",
        text(&out)
    );
}

#[test]
fn unbounded_durations_are_refused_naming_the_limit() {
    let d = tempfile::tempdir().unwrap();
    let sleep = b"tier: backup\nbefore_op:\n  - sleep: 99999999999999h\ntests:\n  - name: a\n    converged: {}\n";
    let out = check(d.path(), "sleepy.yaml", sleep);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        all(&out).contains("longer than the limit of 1h"),
        "{}",
        text(&out)
    );
    let dir = d.path().join("o");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("recipe.yaml"),
        "http_timeout: 10000000000000000000s\ndeploy_timeout: 0s\n",
    )
    .unwrap();
    let out = run(
        d.path(),
        &[
            "overlay",
            "check",
            dir.join("recipe.yaml").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let s = all(&out);
    assert!(
        s.contains("recipe.yaml:1:15: invalid value for `http_timeout`"),
        "{s}"
    );
    assert!(s.contains("minimum of 1s"), "{s}");
}

#[test]
fn overlay_new_into_a_file_is_a_usage_error() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("plain");
    std::fs::write(&file, "x").unwrap();
    let out = run(
        d.path(),
        &["overlay", "new", "x", "--dir", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(all(&out).contains("cannot create"), "{}", text(&out));
}

/// A recipe repository and a data dir with the generic tests and an `overlays/hello/`.
struct Data {
    dir: tempfile::TempDir,
    recipe: String,
    data: std::path::PathBuf,
}

impl Data {
    fn new() -> Data {
        let dir = tempfile::tempdir().unwrap();
        let recipe = recipe_repo::build("hello", &dir.path().join("hello"))
            .path
            .to_string_lossy()
            .into_owned();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("overlays/hello")).unwrap();
        std::fs::create_dir_all(data.join("generic-tests")).unwrap();
        for e in std::fs::read_dir(project_root().join("generic-tests")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), data.join("generic-tests").join(e.file_name())).unwrap();
        }
        Data { dir, recipe, data }
    }

    fn list(&self, extra: &[&str]) -> Output {
        let coord = self.dir.path().join("coord");
        let mut args = vec![
            "run",
            "--recipe",
            &self.recipe,
            "--list",
            "--data-dir",
            self.data.to_str().unwrap(),
            "--coord-dir",
            coord.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run(self.dir.path(), &args)
    }

    fn overlay(&self) -> std::path::PathBuf {
        self.data.join("overlays/hello")
    }
}

#[test]
fn nine_errors_in_one_file_are_counted_as_one_file() {
    let d = Data::new();
    let mut spec = String::from("tier: install\ntests:\n");
    for i in 0..9 {
        spec.push_str(&format!("  - name: t{i}\n    convergd: {{}}\n"));
    }
    std::fs::write(d.overlay().join("typos.yaml"), spec).unwrap();
    let out = d.list(&[]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(
        all(&out).contains("9 error(s) in 1 spec file(s)"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_keyword_expression_nested_too_deep_is_a_usage_error_not_a_crash() {
    let d = Data::new();
    let parens = format!("{}x{}", "(".repeat(2600), ")".repeat(2600));
    let nots = format!("{}x", "not ".repeat(10_000));
    for k in [parens, nots] {
        let out = d.list(&["-k", &k]);
        assert_eq!(out.status.code(), Some(4), "{}", text(&out));
        let s = all(&out);
        assert!(
            s.contains("at most 64 nested"),
            "{}",
            &s[..300.min(s.len())]
        );
    }
}

#[test]
fn symlinked_and_non_regular_spec_files_are_followed_inside_the_data_dir_or_reported() {
    let d = Data::new();
    let spec = "tier: install\ntests:\n  - name: shared_check\n    converged: {}\n";
    std::fs::create_dir_all(d.data.join("shared")).unwrap();
    std::fs::write(d.data.join("shared/common.yaml"), spec).unwrap();
    let o = d.overlay();
    std::os::unix::fs::symlink("../../shared/common.yaml", o.join("linked.yaml")).unwrap();
    let out = d.list(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        all(&out).contains("install::overlays/hello/linked.yaml::shared_check"),
        "{}",
        text(&out)
    );
    let outside = d.dir.path().join("outside.yaml");
    std::fs::write(&outside, spec).unwrap();
    std::os::unix::fs::symlink(&outside, o.join("out.yaml")).unwrap();
    std::os::unix::fs::symlink("nowhere.yaml", o.join("dangling.yaml")).unwrap();
    std::os::unix::fs::symlink("loop.yaml", o.join("loop.yaml")).unwrap();
    let c = std::ffi::CString::new(o.join("pipe.yaml").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let out = d.list(&[]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let s = all(&out);
    for want in [
        "overlays/hello/out.yaml: is a symlink to",
        "overlays/hello/dangling.yaml: is a dangling symlink",
        "overlays/hello/loop.yaml: is a symlink loop",
        "overlays/hello/pipe.yaml: is a FIFO, not a regular file",
    ] {
        assert!(s.contains(want), "{want}: {s}");
    }
    let out = run(d.dir.path(), &["overlay", "check", o.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(all(&out).contains("pipe.yaml: is a FIFO"), "{}", text(&out));
}
