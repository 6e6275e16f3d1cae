//! Backup and restore by the backupbot labels, through the engine's archive API: data written before a
//! backup and changed after it comes back exactly, and the artifact carries a checksummed manifest. A
//! failing hook is not re-run behind the recipe's back, and post-hooks run even when a later step
//! fails.

use crate::support::engine::{engine, TestApp};
use cc_ci::deploy::Deployer;
use cc_ci::docker::BackupManifest;

const SUMS: &str = "cd /var/www && find . -type f ! -name '*.bak' | sort | xargs sha256sum";

#[test]
fn restore_brings_back_exactly_what_was_backed_up() {
    let mut t = TestApp::new("backup");
    t.checkout("main");
    t.install(false);
    t.sh("mkdir -p /var/www/sub && echo one > /var/www/a.txt && head -c 5000 /dev/urandom > /var/www/sub/blob");
    let before = t.sh(SUMS);
    assert!(
        before.contains("./sub/blob") && before.contains("./index.html"),
        "{before}"
    );

    let out = t.dir.path().join("backups");
    let artifact = t.deployer.backup(&out).expect("backup");
    assert!(artifact.path.exists());
    assert_eq!(artifact.entries, ["content:/var/www"]);
    let manifest: BackupManifest = serde_json::from_str(
        &std::fs::read_to_string(cc_ci::docker::manifest_path(&artifact.path)).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest.archive_sha256, artifact.sha256);
    assert_eq!(manifest.entries.len(), 1);
    assert!(
        manifest.entries[0].files >= 5,
        "index.html, its pre-hook copy, a.txt, sub/, sub/blob: {manifest:?}"
    );
    assert_eq!(manifest.entries[0].sha256.len(), 64);
    // The post-hook ran: the pre-hook's copy is gone from the live volume.
    assert_eq!(
        t.sh("ls /var/www/index.html.bak 2>/dev/null || echo gone"),
        "gone\n"
    );

    t.sh("echo two > /var/www/a.txt && rm /var/www/sub/blob && echo new > /var/www/added.txt");
    assert_ne!(t.sh(SUMS), before);

    t.deployer.restore(&artifact).expect("restore");
    assert_eq!(t.sh(SUMS), before, "restored exactly");
    let s = engine().services(&t.stack).unwrap();
    assert!(s[0].converged(), "{s:?}");
    t.deployer.teardown().unwrap();
}

#[test]
fn a_stack_without_backup_labels_cannot_be_backed_up() {
    let e = engine();
    let stack = format!("nobackup_{}", crate::support::engine::unique());
    let d = tempfile::tempdir().unwrap();
    let err = e.backup(&stack, d.path()).unwrap_err().to_string();
    assert!(err.contains("backupbot.backup=true"), "{err}");
}

#[test]
fn a_failing_pre_hook_fails_its_attempts_without_reruns_and_its_post_hook_still_runs() {
    let mut t = TestApp::new("prehook");
    t.checkout("main");
    t.install(false);
    t.set_service_labels(
        "app",
        &[
            (
                "backupbot.backup.pre-hook",
                "echo run >> /var/www/pre-runs; echo 'dump: connection refused' >&2; exit 3",
            ),
            (
                "backupbot.backup.post-hook",
                "echo run >> /var/www/post-runs",
            ),
        ],
    );
    let err = t
        .deployer
        .backup(&t.dir.path().join("backups"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("after 3 attempts"), "{err}");
    assert!(
        err.contains("exited with code 3: dump: connection refused"),
        "{err}"
    );
    // Each attempt ran the pre-hook once (a failed hook is its verdict, not a reason to exec it
    // again) and the post-hook once, although the pre-hook had failed.
    assert_eq!(t.sh("wc -l < /var/www/pre-runs").trim(), "3");
    assert_eq!(t.sh("wc -l < /var/www/post-runs").trim(), "3");
    t.deployer.teardown().unwrap();
}

#[test]
fn the_restore_post_hook_runs_even_when_the_upload_fails() {
    let mut t = TestApp::new("posthook");
    t.checkout("main");
    t.install(false);
    let artifact = t
        .deployer
        .backup(&t.dir.path().join("backups"))
        .expect("backup");
    // The manifest now sends the archive where the container has no directory: the upload fails.
    let mpath = cc_ci::docker::manifest_path(&artifact.path);
    let manifest = std::fs::read_to_string(&mpath).unwrap();
    assert!(manifest.contains("\"/var/www\""), "{manifest}");
    std::fs::write(
        &mpath,
        manifest.replace("\"/var/www\"", "\"/no/such/dir/www\""),
    )
    .unwrap();
    t.set_service_labels(
        "app",
        &[(
            "backupbot.restore.post-hook",
            "echo ran > /var/www/restore-post-ran",
        )],
    );
    let err = t.deployer.restore(&artifact).unwrap_err().to_string();
    assert!(err.contains("upload of /no/such/dir/www into app"), "{err}");
    assert_eq!(t.sh("cat /var/www/restore-post-ran"), "ran\n");
    t.deployer.teardown().unwrap();
}
