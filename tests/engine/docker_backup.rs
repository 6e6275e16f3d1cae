//! Backup and restore by the backupbot labels, through the engine's archive API: data written before a
//! backup and changed after it comes back exactly, and the artifact carries a checksummed manifest.

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
