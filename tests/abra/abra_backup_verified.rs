//! Verified backups through abra (the double, on the real engine): abra's archive is read back, an
//! empty dump the labels name is caught, `abra app backup create` is called again, and the second
//! archive is kept.

use crate::support::abra::wrapper;
use crate::support::abra_log::read_log;
use crate::support::cli::text;
use crate::support::run::RunFixture;

const PRE_HOOK: &str =
    "        - \"backupbot.backup.pre-hook=sh -c 'cp /var/www/index.html /var/www/index.html.bak'\"";

#[test]
fn abras_backup_is_verified_and_an_empty_dump_retaken() {
    let f = RunFixture::new("abrabk");
    let dump = "        - \"backupbot.backup.pre-hook=sh -c 'n=$$(cat /var/www/.n 2>/dev/null || echo 0); \
         echo $$((n+1)) > /var/www/.n; if [ $$n -ge 1 ]; then echo dump-$$n > /var/www/dump.sql; \
         else : > /var/www/dump.sql; fi'\"\n        - \"backupbot.backup.volumes.content.path=dump.sql\"";
    f.commit_head_change("compose.yml", PRE_HOOK, dump);
    let log = f.dir.path().join("abra.jsonl");
    let bin = wrapper(&f.dir.path().join("bin"), &log, &[]);
    let out = f.run(&[
        "--deployer",
        "abra",
        "--abra",
        bin.to_str().unwrap(),
        "--stages",
        "install,backup",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    f.assert_nothing_left();
    let creates = read_log(&log)
        .iter()
        .filter(|c| {
            c.argv
                .starts_with(&["app".into(), "backup".into(), "create".into()])
        })
        .count();
    assert_eq!(creates, 2, "one rejected backup, one kept");
    let ledger = f.ledger_export();
    let a: Vec<serde_json::Value> = ledger
        .lines()
        .filter(|l| l.contains("\"kind\":\"backup_attempt\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(a.len(), 2, "{ledger}");
    assert_eq!(a[0]["outcome"], "rejected");
    assert!(
        a[0]["data"]["problems"][0]
            .as_str()
            .unwrap()
            .contains("`content/dump.sql`"),
        "{:#}",
        a[0]
    );
    assert_eq!(a[1]["outcome"], "verified");
    let piece = &a[1]["data"]["pieces"][0];
    assert_eq!(piece["volume"], "content", "{piece:#}");
    assert!(piece["bytes"].as_u64().unwrap() > 0, "{piece:#}");
}
