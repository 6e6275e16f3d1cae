//! `cc-ci run --deployer abra` end to end, with the (strict) abra double on the real engine: the
//! runner's ops become the expected abra calls with a per-run ABRA_DIR, all four tiers pass for the
//! bundled example and for `dbapp` on real PostgreSQL (pg_dump/psql backup-bot-two hooks, a path
//! label), abra's lint verdict is recorded, the upgrade proof holds, a stale redeploy fails the upgrade check, and teardown
//! leaves nothing.

use crate::support::abra::wrapper;
use crate::support::abra_log::read_log;
use crate::support::cli::text;
use crate::support::run::RunFixture;
use crate::support::shipped::{
    assert_dbapp_restore_failed_naming_the_rows, break_dbapp_restore_hook, dbapp_overlay,
    ShippedRun,
};

/// abra's lint ran and passed (a verdict, not "could not run").
fn assert_lint_passed(r: &serde_json::Value, shown: &str) {
    assert_eq!(r["lint"]["tool"], "abra recipe lint", "{shown}");
    assert!(r["lint"].get("not_run").is_none(), "{}\n{shown}", r["lint"]);
    assert_eq!(r["lint"]["passed"], true, "{}\n{shown}", r["lint"]);
}

fn abra_args(f: &RunFixture, extra_env: &[(&str, &str)]) -> (Vec<String>, std::path::PathBuf) {
    let log = f.dir.path().join("abra-calls.jsonl");
    let bin = wrapper(&f.dir.path().join("bin"), &log, extra_env);
    (
        vec![
            "--deployer".into(),
            "abra".into(),
            "--abra".into(),
            bin.display().to_string(),
        ],
        log,
    )
}

#[test]
fn abra_run_passes_all_tiers_through_the_double_with_one_fresh_deploy() {
    let f = RunFixture::new("abra");
    let (args, log) = abra_args(&f, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = f.run(&args);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let r = f.results();
    assert_eq!(r["deploy_count"], 1, "{shown}");
    assert_eq!(
        r["upgrade_proof"]["chaos_version"].as_str().unwrap(),
        &f.repo.head[..8],
        "{shown}"
    );
    assert_lint_passed(&r, &shown);
    f.assert_nothing_left();
    let ledger = f.ledger_export();
    assert!(
        ledger.contains("\"abra_server\""),
        "the server registration is in the ledger:\n{ledger}"
    );

    let calls = read_log(&log);
    let verbs: Vec<String> = calls
        .iter()
        .map(|c| {
            c.argv
                .iter()
                .take_while(|a| !a.contains('.'))
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(
        verbs,
        [
            "server add --local --no-input",
            "app new hello",
            "app secret generate",
            "app deploy",
            "app deploy",
            "app backup create",
            "app restore",
            "app undeploy",
            "app remove",
            "recipe lint hello --chaos --offline --no-input",
        ],
        "{shown}"
    );
    let d = &f.domain;
    assert_eq!(
        calls[1].line(),
        format!(
            "abra app new hello 1.1.0+1.36.1 --server default --domain {d} --no-input --offline"
        )
    );
    assert_eq!(
        calls[4].line(),
        format!("abra app deploy {d} --chaos --force --no-domain-checks --no-input --offline")
    );
    let on_terminal: Vec<&str> = calls
        .iter()
        .filter(|c| c.tty.stdin && c.tty.stdout)
        .map(|c| c.argv[1].as_str())
        .collect();
    assert_eq!(on_terminal, ["backup", "restore", "lint"]);
    let abra_dir = calls[0].env.get("ABRA_DIR").cloned().unwrap();
    assert!(
        !abra_dir.contains(".abra"),
        "never the user's ~/.abra: {abra_dir}"
    );
    assert!(calls
        .iter()
        .all(|c| c.env.get("ABRA_DIR") == Some(&abra_dir)));
}

#[test]
fn abra_run_of_dbapp_on_postgresql_passes_its_overlay_through_all_four_tiers() {
    let f = RunFixture::shipped("dbapp", "abra");
    let (args, log) = abra_args(&f, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = ShippedRun::run(f, "install,upgrade,backup,restore", &args);
    assert_eq!(run.code, Some(0), "{}", run.shown);
    assert_lint_passed(&run.fixture.results(), &run.shown);
    // The same overlay that passes with the built-in deployer: the password over the network, rows
    // surviving the upgrade, the pg_dump pre-hook's dump, the psql post-hook's restore.
    assert_eq!(run.overlay_passed(), dbapp_overlay(), "{}", run.shown);
    assert!(run.failed.is_empty(), "{:?}\n{}", run.failed, run.shown);
    // The ops went through abra (its exact flags are the abra deployer's contract, tested there): the
    // server registered, the previous release installed, the PR head deployed with --chaos, a backup,
    // a restore.
    let calls: Vec<String> = read_log(&log)
        .iter()
        .map(|c| format!("abra {}", c.argv.join(" ")))
        .collect();
    let d = &run.fixture.domain;
    for prefix in [
        "abra server add ".to_string(),
        "abra app new dbapp 1.1.0+15.18 ".to_string(),
        format!("abra app deploy {d} --chaos "),
        format!("abra app backup create {d} "),
        format!("abra app restore {d} "),
    ] {
        assert_eq!(
            calls.iter().filter(|c| c.starts_with(&prefix)).count(),
            1,
            "{prefix}: {calls:#?}"
        );
    }
    run.assert_deployed_once_and_torn_down();
}

#[test]
fn abra_run_of_dbapp_fails_exactly_its_restore_naming_the_rows_when_the_restore_hook_does_nothing()
{
    let f = RunFixture::shipped("dbapp", "abra-bad");
    // Only backup.sql is backed up (backupbot.backup.volumes.postgres.path): without the post-hook
    // loading it, the rows never come back. A double that copied the whole volume would hide this.
    break_dbapp_restore_hook(&f);
    let (args, _) = abra_args(&f, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = ShippedRun::run(f, "install,backup,restore", &args);
    assert_dbapp_restore_failed_naming_the_rows(&run);
    run.assert_deployed_once_and_torn_down();
}

#[test]
fn abra_run_on_a_server_without_a_backup_bot_says_backup_is_unsupported_and_never_passes() {
    let f = RunFixture::new("nobot");
    let (mut args, _) = abra_args(&f, &[("ABRA_DOUBLE_NO_BACKUPBOT", "1")]);
    args.extend(["--stages".to_string(), "install,backup,restore".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = f.run(&args);
    let shown = text(&out);
    // Not a failure of the recipe: the server cannot take backups. Nothing failed, nothing passed.
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let r = f.results();
    let tier = |name: &str| {
        r["tiers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tier"] == name)
            .cloned()
            .unwrap()
    };
    for name in ["backup", "restore"] {
        let t = tier(name);
        assert_eq!(
            t["status"]["kind"], "not_applicable",
            "{name}: {t}\n{shown}"
        );
        assert_eq!(t["status"]["declared"], false, "{name}: {t}");
        let reason = t["status"]["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("no backup bot") && reason.contains("backup-bot-two"),
            "{name}: {reason}"
        );
        assert!(t["tests"].as_array().unwrap().is_empty(), "{name}: {t}");
    }
    assert!(
        tier("backup")["op"].is_null(),
        "no op result reads as a pass"
    );
    assert_eq!(r["ladder"]["level"], 1, "{}\n{shown}", r["ladder"]);
    assert_eq!(r["ladder"]["rungs"][2]["status"]["kind"], "unsupported");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("backup op unsupported here: "), "{shown}");
    assert!(stdout.contains("  backup    unsupported "), "{shown}");
    assert!(stdout.contains("  restore   unsupported "), "{shown}");
    let ledger = f.ledger_export();
    let has = |subject: &str, outcome: &str| {
        ledger.lines().any(|l| {
            l.contains(&format!("\"subject\":\"{subject}\""))
                && l.contains(&format!("\"outcome\":\"{outcome}\""))
        })
    };
    assert!(has("backup::backup", "unsupported"), "{ledger}");
    assert!(has("backup::tier", "not_applicable"), "{ledger}");
    assert!(has("restore::tier", "not_applicable"), "{ledger}");
    f.assert_nothing_left();
}

#[test]
fn stale_upgrade_fails_chaos_check() {
    let f = RunFixture::new("stale");
    let log = f.dir.path().join("abra.log");
    // The double ignores --chaos and redeploys the previous release: the PR head never runs.
    let abra = wrapper(
        &f.dir.path().join("bin"),
        &log,
        &[("ABRA_DOUBLE_IGNORE_CHAOS", "1")],
    );
    let out = f.run(&[
        "--deployer",
        "abra",
        "--abra",
        abra.to_str().unwrap(),
        "--stages",
        "install,upgrade",
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert_eq!(
        f.outcome("upgrade.yaml::deployed_head"),
        "failed",
        "{shown}"
    );
    let r = f.results();
    let msg = r["tiers"][1]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"].as_str().unwrap().ends_with("deployed_head"))
        .map(|t| {
            t["outcome"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap();
    assert!(msg.contains(&f.repo.head), "names head_ref: {msg}");
    assert!(
        msg.contains("version=1.1.0+1.36.1"),
        "names the stale deployed version: {msg}"
    );
    f.assert_nothing_left();
}
