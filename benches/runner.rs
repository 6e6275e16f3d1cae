//! `cargo bench --bench runner`: the runner's own cost, each figure next to a peer measured in the same
//! run on this machine.
//!
//! 1. Collection: `cc-ci run --list` over 1,000 generated overlay files vs `pytest --collect-only -q`
//!    over 1,000 equivalent test files (target: cc-ci at least 20× faster).
//! 2. A whole four-tier run of the bundled example recipe: the harness's CPU time as a share of the
//!    run's wall time (target: under 5%), and its peak RSS (target: under 50 MB).
//!
//! Under `cargo test` (no `--bench` argument) it does a small smoke pass only.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> PathBuf {
    // Benchmarks measure the optimised binary.
    let release = root().join("target/release/cc-ci");
    if release.exists() {
        release
    } else {
        root().join("target/debug/cc-ci")
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_it(reps: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn example_repo(dir: &Path) -> PathBuf {
    let dest = dir.join("hello");
    let st = Command::new("bash")
        .arg(root().join("examples/make-recipe-repo.sh"))
        .arg(root().join("examples/recipes/hello"))
        .arg(&dest)
        .stdout(Stdio::null())
        .status()
        .expect("make-recipe-repo.sh");
    assert!(st.success());
    dest
}

fn collection(n: usize, reps: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = example_repo(tmp.path());
    let data = tmp.path().join("data");
    let ov = data.join("overlays/hello");
    std::fs::create_dir_all(&ov).unwrap();
    std::fs::create_dir_all(data.join("generic-tests")).unwrap();
    let py = tmp.path().join("py");
    std::fs::create_dir_all(&py).unwrap();
    for i in 0..n {
        std::fs::write(
            ov.join(format!("check_{i:04}.yaml")),
            format!("tier: install\ntests:\n  - name: page_{i}\n    exec:\n      service: app\n      command: cat /var/www/index.html\n      stdout: {{contains: hello}}\n"),
        )
        .unwrap();
        std::fs::write(
            py.join(format!("test_install_{i:04}.py")),
            format!("def test_page_{i}(exec_in_app=None):\n    assert 'hello' in 'hello'\n"),
        )
        .unwrap();
    }
    let coord = tmp.path().join("coord");
    let list = || {
        let out = Command::new(bin())
            .args(["run", "--list", "--recipe"])
            .arg(&repo)
            .arg("--data-dir")
            .arg(&data)
            .arg("--coord-dir")
            .arg(&coord)
            .arg("--stages")
            .arg("install")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listed = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.ends_with(": test"))
            .count();
        assert_eq!(listed, n);
    };
    let cc = time_it(reps, list);
    let have_pytest = Command::new("python3")
        .args(["-m", "pytest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_pytest {
        println!("collection: cc-ci --list of {n} overlay files: {cc:?} (pytest not installed: no peer to compare)");
        return;
    }
    let pytest = time_it(reps, || {
        let out = Command::new("python3")
            .args([
                "-m",
                "pytest",
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
            ])
            .arg(&py)
            .output()
            .unwrap();
        assert!(out.status.success());
    });
    println!(
        "collection of {n} files: cc-ci run --list {:.1} ms, pytest --collect-only {:.1} ms → cc-ci is {:.1}× faster (target ≥ 20×)",
        cc.as_secs_f64() * 1e3,
        pytest.as_secs_f64() * 1e3,
        pytest.as_secs_f64() / cc.as_secs_f64()
    );
}

/// CPU time and peak RSS of waited-for children so far (getrusage RUSAGE_CHILDREN).
fn children_usage() -> (Duration, u64) {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the zeroed struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    (tv(ru.ru_utime) + tv(ru.ru_stime), ru.ru_maxrss as u64)
}

fn whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = example_repo(tmp.path());
    let (cpu0, _) = children_usage();
    let start = Instant::now();
    let out = Command::new(bin())
        .args(["run", "--recipe"])
        .arg(&repo)
        .arg("--data-dir")
        .arg(root())
        .arg("--coord-dir")
        .arg(tmp.path().join("coord"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let wall = start.elapsed();
    let (cpu1, maxrss_kb) = children_usage();
    let cpu = cpu1 - cpu0;
    println!(
        "whole run (4 tiers, exit {:?}): wall {:.1} s, harness CPU {:.2} s = {:.2}% of wall (target < 5%), peak RSS {:.1} MB (target < 50 MB)",
        out.code(),
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64(),
        maxrss_kb as f64 / 1024.0
    );
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    if !bench {
        collection(20, 1);
        println!(
            "runner bench: smoke pass done (run `cargo bench --bench runner` for the figures)"
        );
        return;
    }
    println!("binary: {}", bin().display());
    collection(1000, 5);
    whole_run();
}
