//! Verified backups on the real engine: a pre-hook whose dump is empty on its first run is caught by
//! the verification (the label names `dump.sql` as the volume's backed-up path), the backup is re-taken
//! and the second attempt is kept; a dump that stays empty fails the backup tier after recipe.yaml's
//! `backup_attempts`, naming what was missing. Each attempt is a `backup_attempt` ledger event with the
//! sizes and checksums it found.

use crate::support::cli::text;
use crate::support::run::RunFixture;

/// The `hello` pre-hook, as examples/recipes/hello/compose.yml has it.
pub const PRE_HOOK: &str =
    "        - \"backupbot.backup.pre-hook=sh -c 'cp /var/www/index.html /var/www/index.html.bak'\"";

/// A pre-hook that writes `/var/www/dump.sql` empty the first `empty_first` times it runs and with
/// data after, and the label that backs up only that file of the volume.
pub fn flaky_dump(empty_first: u32) -> String {
    format!(
        "        - \"backupbot.backup.pre-hook=sh -c 'n=$$(cat /var/www/.n 2>/dev/null || echo 0); \
         echo $$((n+1)) > /var/www/.n; if [ $$n -ge {empty_first} ]; then echo dump-$$n > /var/www/dump.sql; \
         else : > /var/www/dump.sql; fi'\"\n        - \"backupbot.backup.volumes.content.path=dump.sql\""
    )
}

/// The `backup_attempt` ledger events, in order.
pub fn attempts(ledger: &str) -> Vec<serde_json::Value> {
    ledger
        .lines()
        .filter(|l| l.contains("\"kind\":\"backup_attempt\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn an_empty_dump_is_caught_and_the_backup_retaken_once_then_kept() {
    let f = RunFixture::new("bkretake");
    f.commit_head_change("compose.yml", PRE_HOOK, &flaky_dump(1));
    let out = f.run(&["--stages", "install,backup"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    f.assert_nothing_left();
    let a = attempts(&f.ledger_export());
    assert_eq!(a.len(), 2, "{a:#?}");
    assert_eq!(a[0]["outcome"], "rejected", "{:#}", a[0]);
    let problem = a[0]["data"]["problems"][0].as_str().unwrap();
    assert!(
        problem.starts_with(
            "`content/dump.sql` (backupbot.backup.volumes.content.path of app) is empty (0 bytes)"
        ),
        "{problem}"
    );
    assert_eq!(a[1]["outcome"], "verified", "{:#}", a[1]);
    assert_eq!(a[1]["data"]["attempt"], 2);
    let piece = &a[1]["data"]["pieces"][0];
    assert_eq!(piece["volume"], "content", "{piece:#}");
    assert!(
        piece["path"].as_str().unwrap().ends_with("/dump.sql"),
        "{piece:#}"
    );
    assert_eq!(piece["files"], 1);
    assert_eq!(piece["bytes"], "dump-1\n".len() as u64, "{piece:#}");
    assert_eq!(piece["sha256"].as_str().unwrap().len(), 64);
    // The kept backup is the second one: the restore would read exactly it.
    assert_ne!(a[0]["data"]["artifact"], a[1]["data"]["artifact"]);
    assert_eq!(f.outcome("backup_exists"), "passed");
}

#[test]
fn a_dump_that_stays_empty_fails_the_backup_after_the_attempts_recipe_yaml_allows() {
    let f = RunFixture::new("bkempty");
    f.commit_head_change("compose.yml", PRE_HOOK, &flaky_dump(99));
    let dir = f.data.join("overlays/hello");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("recipe.yaml"), "backup_attempts: 2\n").unwrap();
    let out = f.run(&["--stages", "install,backup"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    f.assert_nothing_left();
    let a = attempts(&f.ledger_export());
    let outcomes: Vec<&str> = a.iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["rejected", "rejected"], "{a:#?}");
    assert!(
        shown.contains("the backup failed verification 2 time(s): `content/dump.sql`"),
        "{shown}"
    );
    let r = f.results();
    let backup = r["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tier"] == "backup")
        .unwrap();
    assert!(
        backup.to_string().contains("is empty (0 bytes)"),
        "{backup:#}"
    );
}
