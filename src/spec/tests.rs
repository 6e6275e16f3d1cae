//! Unit tests of spec and recipe.yaml parsing, and of lint, through the public parse functions.

use std::path::Path;
use std::time::Duration;

use super::*;

fn spec(text: &str) -> SpecFile {
    parse_spec(Path::new("overlays/x/a.yaml"), text).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> String {
    parse_spec(Path::new("overlays/x/a.yaml"), text)
        .unwrap_err()
        .to_string()
}

fn one(check_yaml: &str) -> Check {
    let s = spec(&format!(
        "tier: restore\ntests:\n  - name: t\n    {check_yaml}\n"
    ));
    s.tests.into_iter().next().unwrap().check
}

#[test]
fn a_full_spec_file_parses_with_steps_op_and_tests() {
    let s = spec(
        "tier: backup\nbefore_op:\n  - exec: {service: app, command: [touch, /x], record: touched}\n  - record: {name: n, service: app, command: cat /x}\n  - sleep: 2s\n  - wait_healthy: {}\nop:\n  env: {BACKUP_FAST: \"1\"}\ntests:\n  - name: a\n    backup_exists: {}\n  - name: b\n    ignore: flaky on slow disks\n    converged:\n",
    );
    assert_eq!(s.tier, Tier::Backup);
    assert_eq!(s.path, Path::new("overlays/x/a.yaml"));
    assert_eq!(s.before_op.len(), 4);
    assert_eq!(
        s.before_op[0],
        Step::Exec {
            service: "app".into(),
            command: Command::Argv(vec!["touch".into(), "/x".into()]),
            record: Some("touched".into())
        }
    );
    assert_eq!(s.before_op[2], Step::Sleep(Duration::from_secs(2)));
    assert_eq!(s.before_op[3], Step::WaitHealthy);
    assert!(matches!(&s.op, Some(OpOverride::Env { env }) if env["BACKUP_FAST"] == "1"));
    assert_eq!((s.tests[0].name.as_str(), s.tests[0].line), ("a", 10));
    assert!(s.tests[0].ignore.is_none());
    assert_eq!(s.tests[1].ignore.as_deref(), Some("flaky on slow disks"));
    assert!(matches!(s.tests[1].check, Check::Converged));
}

#[test]
fn exec_defaults_and_matchers() {
    match one("exec: {service: app, command: echo hi}") {
        Check::Exec {
            service,
            command,
            exit,
            stdout,
            stderr,
            record,
        } => {
            assert_eq!(service, "app");
            assert_eq!(command.argv(), ["sh", "-c", "echo hi"]);
            assert_eq!(exit, 0);
            assert!(stdout.is_none() && stderr.is_none() && record.is_none());
        }
        c => panic!("{c:?}"),
    }
    match one("exec: {service: db, command: x, exit: 3, stdout: hi, stderr: {regex: \"^warn\"}, record: r1}") {
        Check::Exec { exit, stdout, stderr, record, .. } => {
            assert_eq!(exit, 3);
            assert_eq!(stdout, Some(TextMatch::Equals("hi".into())));
            assert!(stderr.unwrap().matches("warn: x"));
            assert_eq!(record.as_deref(), Some("r1"));
        }
        c => panic!("{c:?}"),
    }
}

#[test]
fn label_file_logs_http_recorded_parse() {
    assert!(
        matches!(one("label: {key: \"coop-cloud.{stack}.chaos\", equals: \"true\"}"),
        Check::Label { service: None, ref key, expect: TextMatch::Equals(ref v) } if key == "coop-cloud.{stack}.chaos" && v == "true")
    );
    assert!(matches!(
        one("label: {service: web, key: k, regex: \"^1\"}"),
        Check::Label {
            service: Some(_),
            expect: TextMatch::Regex(_),
            ..
        }
    ));
    assert!(
        matches!(one("file: {service: app, path: /x, contains: hello}"),
        Check::File { exists: true, contains: Some(TextMatch::Contains(ref c)), .. } if c == "hello")
    );
    assert!(matches!(
        one("file: {service: app, path: /x, exists: false}"),
        Check::File {
            exists: false,
            contains: None,
            ..
        }
    ));
    match one("logs: {service: app, matches: started, not_matches: [panic, fatal]}") {
        Check::Logs {
            matches,
            not_matches,
            ..
        } => assert_eq!((matches.len(), not_matches.len()), (1, 2)),
        c => panic!("{c:?}"),
    }
    match one("http: {}") {
        Check::Http {
            path,
            status,
            body,
            service,
            port,
        } => {
            assert_eq!(path, "", "an omitted path defers to recipe.yaml");
            assert!(status.is_empty() && body.is_none() && service.is_none() && port.is_none());
            assert_eq!(RecipeMeta::default().http_path(&path), "/");
        }
        c => panic!("{c:?}"),
    }
    assert!(
        matches!(one("http: {path: /login, status: [200, 302], body: Sign in, port: 8080}"),
        Check::Http { ref status, body: Some(TextMatch::Contains(_)), port: Some(8080), .. } if status == &[200, 302])
    );
    assert!(matches!(
        one("recorded: {name: n, service: app, command: cat /x, compare: differs}"),
        Check::Recorded {
            compare: Compare::Differs,
            ..
        }
    ));
    assert!(matches!(
        one("recorded: {name: n, service: app, command: cat /x}"),
        Check::Recorded {
            compare: Compare::Equals,
            ..
        }
    ));
    for k in [
        "converged: {}",
        "healthy:",
        "deployed_head: true",
        "version_moved: {}",
        "backup_exists: {}",
    ] {
        assert_eq!(one(k).kind(), k.split(':').next().unwrap());
    }
}

#[test]
fn op_overrides_are_limited_to_tiers_where_they_make_sense() {
    let t = |tier: &str, op: &str| {
        parse_spec(
            Path::new("a.yaml"),
            &format!("tier: {tier}\nop: {op}\ntests:\n  - name: t\n    converged: {{}}\n"),
        )
    };
    assert!(matches!(
        t("upgrade", "{skip: no upgrade path yet}").unwrap().op,
        Some(OpOverride::Skip { .. })
    ));
    assert!(
        matches!(t("restore", "{steps: [{exec: {service: db, command: restore.sh}}]}").unwrap().op, Some(OpOverride::Script { ref steps }) if steps.len() == 1)
    );
    assert!(t("install", "{skip: x}")
        .unwrap_err()
        .to_string()
        .contains("cannot be skipped"));
    assert!(t("upgrade", "{steps: []}")
        .unwrap_err()
        .to_string()
        .contains("is a deploy"));
    assert!(t("custom", "{skip: x}")
        .unwrap_err()
        .to_string()
        .contains("no op"));
    assert!(t("backup", "{skip: a, env: {}}").is_err());
}

#[test]
fn every_error_is_collected_and_sorted_by_position() {
    let errs = parse_spec_all(Path::new("a.yaml"), "tier: backup\ntests:\n  - name: a\n    exec: {service: app, comand: x}\n  - name: b\n    htp: {}\n").unwrap_err();
    let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
    assert_eq!(
        lines,
        [4, 4, 6],
        "{errs:#?} (a misspelt check is not also reported as a missing one)"
    );
    assert_eq!(errs[0].key.as_deref(), Some("command"));
    assert!(
        matches!(&*errs[1].kind, SpecErrorKind::UnknownKey { hint: Some(h), .. } if h == "command")
    );
}

#[test]
fn errors_name_file_line_column_key_and_hint() {
    assert_eq!(err("tier: install\ntests:\n  - name: t\n    exec:\n      service: app\n      command: x\n      stdot: y\n"),
        "overlays/x/a.yaml:7:7: unknown key `stdot` in exec check (expected one of: service, command, exit, stdout, stderr, record; hint: did you mean `stdout`?)");
    assert_eq!(err("tier: install\ntests:\n  - name: t\n    exec: {service: app, command: x, exit: one}\n"),
        "overlays/x/a.yaml:4:44: wrong type for `exit` in exec check: expected an integer, found the string \"one\"");
    assert_eq!(err("tier: install\ntests:\n  - name: t\n    http: {status: 700}\n"),
        "overlays/x/a.yaml:4:20: invalid value for `status` in http check: 700 is not an HTTP status (100–599)");
    assert!(err("tier: install\ntests: {}\n").contains(
        "wrong type for `tests` in spec file: expected a list of tests, found a mapping"
    ));
    assert!(err("").contains("the file is empty"));
    assert!(err("tier: upgrad\ntests: []\n").contains("did you mean `upgrade`?"));
    assert!(err("tier: [install\n").contains("yaml syntax error"));
}

#[test]
fn meta_parses_every_key() {
    let m = parse_meta(Path::new("overlays/x/recipe.yaml"), "tiers: [install, upgrade]\nnot_applicable: {backup: no volumes, restore: no volumes}\nskip_generic: [upgrade]\ndeploy_timeout: 5m\nhttp_timeout: 45\nhealth_path: /health\naccepted_statuses: [200, 401]\nreadiness: {tcp: {port: 5432}}\nupgrade_base: 1.0.0+1.36.1\nenv_install: {A: \"1\", B: }\nenv_upgrade: {C: x}\ndomain: App.Example.org\nmain_service: web\nhttp_port: 8080\nbackup_verify: {exec: {service: db, command: pg_restore --list /backup.dump}}\n").unwrap();
    assert_eq!(m.tiers, Some(vec![Tier::Install, Tier::Upgrade]));
    assert_eq!(m.not_applicable.len(), 2);
    assert_eq!(m.skip_generic, [Tier::Upgrade]);
    assert_eq!(m.deploy_timeout, Some(Duration::from_secs(300)));
    assert_eq!(m.http_timeout, Some(Duration::from_secs(45)));
    assert_eq!(m.health_path.as_deref(), Some("/health"));
    assert_eq!(m.accepted_statuses, Some(vec![200, 401]));
    assert_eq!(m.readiness, Some(Readiness::Tcp { port: 5432 }));
    assert_eq!(m.upgrade_base.as_deref(), Some("1.0.0+1.36.1"));
    assert_eq!(
        (
            m.env_install["A"].as_str(),
            m.env_install["B"].as_str(),
            m.env_upgrade["C"].as_str()
        ),
        ("1", "", "x")
    );
    assert_eq!(m.domain.as_deref(), Some("app.example.org"));
    assert_eq!(
        (m.main_service(), m.http_port(None), m.http_path("")),
        ("web", 8080, "/health")
    );
    assert!(matches!(m.backup_verify, Some(Check::Exec { .. })));
    assert!(m.supports(Tier::Install) && !m.supports(Tier::Backup) && m.supports(Tier::Custom));
}

#[test]
fn meta_rejects_what_cannot_be_honoured() {
    let e = |t: &str| {
        parse_meta(Path::new("recipe.yaml"), t)
            .unwrap_err()
            .to_string()
    };
    assert!(e("accepted_statuses: [200, 404]\n").contains("404 never counts"));
    assert!(e("skip_generic: [custom]\n").contains("no generic tests"));
    assert!(e("tiers: [install, bakup]\n").contains("did you mean `backup`?"));
    assert!(e("tiers: [backup]\nnot_applicable: {backup: x}\n").contains("both in `tiers`"));
    assert!(e("deploy_timeout: soon\n").contains("is not a duration"));
    assert!(e("domain: a..b\n").contains("not a domain"));
    assert!(e(&format!("domain: {}.org\n", "a".repeat(64))).contains("not a domain"));
    assert!(e("readiness: {http: {}, tcp: {port: 1}}\n").contains("exactly one"));
    assert_eq!(e("deploy_timout: 5m\n"), "recipe.yaml:1:1: unknown key `deploy_timout` in recipe.yaml (expected one of: tiers, not_applicable, skip_generic, deploy_timeout, http_timeout, health_path, accepted_statuses, readiness, upgrade_base, env_install, env_upgrade, domain, main_service, http_port, backup_verify, backup_attempts, description; hint: did you mean `deploy_timeout`?)");
    assert!(parse_meta(Path::new("recipe.yaml"), "# only comments\n").is_ok());
}

#[test]
fn lint_warns_about_unsupported_tiers_never_failing_checks_and_unrecorded_values() {
    let meta = parse_meta(
        Path::new("recipe.yaml"),
        "tiers: [install, restore]\nnot_applicable: {backup: stateless}\n",
    )
    .unwrap();
    let backup = parse_spec(
        Path::new("b.yaml"),
        "tier: backup\ntests:\n  - name: t\n    backup_exists: {}\n",
    )
    .unwrap();
    let w = lint(&backup, &meta);
    assert_eq!(w.len(), 1);
    assert!(
        w[0].to_string()
            .starts_with("b.yaml:1: warning: tier `backup` is not applicable"),
        "{}",
        w[0]
    );
    let upgrade = parse_spec(
        Path::new("u.yaml"),
        "tier: upgrade\ntests:\n  - name: t\n    converged: {}\n",
    )
    .unwrap();
    assert!(lint(&upgrade, &meta)[0]
        .message
        .contains("not in the recipe's `tiers`"));
    let vacuous = parse_spec(Path::new("i.yaml"), "tier: install\ntests:\n  - name: a\n    exec: {service: app, command: x, stdout: {contains: \"\"}}\n  - name: b\n    http: {body: {regex: \".*\"}}\n  - name: c\n    logs: {service: app, matches: \"x?\"}\n  - name: d\n    exec: {service: app, command: x, stdout: {regex: \".+\"}}\n").unwrap();
    let w = lint(&vacuous, &meta);
    assert_eq!(
        w.iter().map(|w| w.line).collect::<Vec<_>>(),
        [3, 5, 7],
        "{w:?}"
    );
    let restore = parse_spec(Path::new("r.yaml"), "tier: restore\ntests:\n  - name: seed\n    recorded: {name: seed, service: app, command: cat /s}\n").unwrap();
    let w = lint_set(std::slice::from_ref(&restore), &meta);
    assert!(w[0].message.contains("no `record` step"), "{w:?}");
    let seeded = parse_spec(Path::new("s.yaml"), "tier: install\nbefore_op:\n  - record: {name: seed, service: app, command: cat /s}\ntests:\n  - name: t\n    converged: {}\n").unwrap();
    assert!(lint_set(&[seeded.clone(), restore.clone()], &meta).is_empty());
    let later = parse_spec(Path::new("l.yaml"), "tier: restore\ntests:\n  - name: t\n    exec: {service: app, command: cat /s, record: seed}\n").unwrap();
    assert_eq!(
        lint_set(&[later, restore], &meta).len(),
        1,
        "an exec record in the same tier does not count"
    );
}

#[test]
fn tags_are_names_and_none_is_a_word_of_the_mark_grammar() {
    let s = spec("tier: install\ntests:\n  - name: a\n    tags: [slow, http-probe]\n    converged: {}\n  - name: b\n    tags: single\n    converged: {}\n  - name: c\n    converged: {}\n");
    assert_eq!(s.tests[0].tags, ["slow", "http-probe"]);
    assert_eq!(s.tests[1].tags, ["single"]);
    assert!(s.tests[2].tags.is_empty());
    let e = err("tier: install\ntests:\n  - name: a\n    tags: [slow, not]\n    converged: {}\n");
    assert!(
        e.contains("`not` is a word of the `-m` grammar") && e.contains(":4:"),
        "{e}"
    );
    let e = err("tier: install\ntests:\n  - name: a\n    tags: [\"a b\"]\n    converged: {}\n");
    assert!(e.contains("may hold only letters"), "{e}");
}
