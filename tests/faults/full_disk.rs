//! The coord disk fills up in the middle of a run. The coord tree and the artifacts live on a small
//! tmpfs this test mounts (root, as CI runs), filled as soon as the stack has a service and kept full
//! while the run goes on (SQLite and the run free space as they go: one fill is not enough). The run
//! ends with exit 3 naming the exact count of ledger events it could not record and the file holding
//! them (the temp dir: the artifacts dir is full too), prints no path of a file it could not write,
//! leaves no temporary file and nothing on the engine; once space is freed, `ledger verify` names the
//! run that never ended, `coord reconcile --from FILE` appends exactly those events (a second time
//! nothing), and the ledger is whole again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::cli::text;
use crate::support::run::RunFixture;
use crate::support::wait::{finish, wait_for_a_service};

/// A tmpfs mounted for the test, unmounted (lazily, whatever happened) on drop.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(dir).unwrap();
        let st = Command::new("timeout")
            .args(["10", "mount", "-t", "tmpfs", "-o"])
            .arg(format!("size={size},mode=0700"))
            .arg("tmpfs")
            .arg(dir)
            .status()
            .expect("run mount");
        // Fail loudly, never skip: CI runs as root and must run this test.
        assert!(
            st.success(),
            "mounting a tmpfs at {} failed (root needed)",
            dir.display()
        );
        SmallDisk {
            dir: dir.to_path_buf(),
        }
    }

    /// Fills the disk until it refuses a byte more.
    fn fill(&self, name: &str) {
        let mut f = std::fs::File::create(self.dir.join(name)).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let small = [0u8; 512];
        while f.write_all(&small).is_ok() {}
    }

    /// Removes every filler file: the disk has room again.
    fn free(&self) {
        for e in std::fs::read_dir(&self.dir).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with("filler") {
                std::fs::remove_file(e.path()).unwrap();
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("timeout")
            .args(["10", "umount", "-l"])
            .arg(&self.dir)
            .status();
    }
}

/// Every file below `dir` whose name marks it as temporary.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(temporaries(&p));
        } else if e.file_name().to_string_lossy().contains("tmp") {
            out.push(p);
        }
    }
    out
}

/// The count and file of `N ledger event(s) could not be recorded …; kept in FILE — …`.
fn unrecorded(stderr: &str) -> (usize, PathBuf) {
    let line = stderr
        .lines()
        .find(|l| l.contains("ledger event(s) could not be recorded") && l.contains("; kept in "))
        .unwrap_or_else(|| panic!("no unrecorded-events line: {stderr}"));
    let count = line
        .trim_start_matches("cc-ci: ")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let file = line
        .split("kept in ")
        .nth(1)
        .unwrap()
        .split(" — ")
        .next()
        .unwrap();
    (count, PathBuf::from(file))
}

#[test]
fn a_full_coord_disk_keeps_every_unrecorded_event_in_a_file_that_reconciles_into_the_ledger() {
    let mut f = RunFixture::new("full");
    let disk = SmallDisk::mount(&f.dir.path().join("small"), "24m");
    f.coord = disk.dir.join("coord");
    f.artifacts = disk.dir.join("artifacts");
    let tmp = f.dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut child = f
        .command(&["--stages", "install"])
        .env("TMPDIR", &tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_a_service(&f.stack(), &mut child);
    disk.fill("filler-0");
    // Keep it full: whatever the run frees is taken again at once.
    let running = Arc::new(AtomicBool::new(true));
    let keeper = {
        let (running, dir) = (Arc::clone(&running), disk.dir.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while running.load(Ordering::SeqCst) {
                n += 1;
                if let Ok(mut f) = std::fs::File::create(dir.join(format!("filler-{n}"))) {
                    while f.write_all(&[0u8; 4096]).is_ok() {}
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let out = finish(child);
    running.store(false, Ordering::SeqCst);
    keeper.join().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    println!("{}", text(&out));
    assert_eq!(
        out.status.code(),
        Some(3),
        "an incomplete record: {}",
        text(&out)
    );
    f.assert_nothing_left();

    // The exact count, and exactly that many events in the file (the temp dir: the artifacts dir is full).
    let (count, file) = unrecorded(&stderr);
    assert!(count >= 1, "{stderr}");
    assert!(file.starts_with(&tmp), "{}", file.display());
    let lines = std::fs::read_to_string(&file).unwrap();
    assert_eq!(lines.lines().count(), count, "{lines}");
    assert!(
        lines.contains("\"kind\":\"run_end\""),
        "the run's end is among them: {lines}"
    );

    // No path of a file that is not there; no temporary file left on the full disk.
    for l in stdout.lines() {
        for name in ["junit ", "markdown ", "results "] {
            if let Some(p) = l.trim_start().strip_prefix(name) {
                assert!(Path::new(p.trim()).is_file(), "named but not written: {l}");
            }
        }
    }
    assert_eq!(temporaries(&disk.dir), Vec::<PathBuf>::new());

    disk.free();
    let coord = |args: &[&str]| {
        let o = crate::support::cli::cc_ci(f.dir.path())
            .args(args)
            .arg("--coord-dir")
            .arg(&f.coord)
            .output()
            .unwrap();
        (o.status.code(), text(&o))
    };
    // Whatever the spool took is brought in first, as every run's start would.
    let (code, shown) = coord(&["coord", "reconcile"]);
    assert_eq!(code, Some(0), "{shown}");
    let run_id = {
        let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
        first["event"]["run_id"].as_str().unwrap().to_string()
    };
    let (_, before) = coord(&["ledger", "verify"]);
    assert!(
        before.contains(&run_id),
        "the run that never ended is named: {before}"
    );
    let from = file.display().to_string();
    let (code, shown) = coord(&["coord", "reconcile", "--from", &from]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains(&format!("{count} appended")), "{shown}");
    let (code, after) = coord(&["ledger", "verify"]);
    assert_eq!(code, Some(0), "{after}");
    assert!(after.contains("intact"), "{after}");
    assert!(!after.contains(&run_id), "no run left open: {after}");
    // Every verdict of the run and its end are in the ledger now, under the run's id.
    let (_, export) = coord(&["ledger", "export"]);
    let of_run = |kind: &str| {
        export
            .lines()
            .filter(|l| l.contains(&run_id) && l.contains(&format!("\"kind\":\"{kind}\"")))
            .count()
    };
    assert_eq!(
        of_run("verdict"),
        3,
        "the install tier's three verdicts: {export}"
    );
    assert_eq!(of_run("run_end"), 1, "{export}");
    let (code, again) = coord(&["coord", "reconcile", "--from", &from]);
    assert_eq!(code, Some(0), "{again}");
    assert!(again.contains("0 appended"), "idempotent: {again}");
}
