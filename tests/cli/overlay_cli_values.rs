//! `cc-ci overlay check` through the real binary: one test per "invalid value" message, each with
//! its exact position, so every message a maintainer can meet is pinned down.

use crate::support::cli::{cc_ci, text};

fn check_fails(file_text: &str) -> String {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("overlays/app/t.yaml");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, file_text).unwrap();
    let home = d.path().join(".home");
    std::fs::create_dir_all(&home).unwrap();
    let out = cc_ci(&home)
        .current_dir(d.path())
        .args(["overlay", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// One test: a spec with a single test whose check is `$check`, and the message expected.
macro_rules! message {
    ($name:ident, $tier:literal, $check:literal, $expected:literal) => {
        #[test]
        fn $name() {
            let out = check_fails(concat!(
                "tier: ",
                $tier,
                "\ntests:\n  - name: t\n    ",
                $check,
                "\n"
            ));
            assert!(
                out.contains($expected),
                "expected {:?} in:\n{out}",
                $expected
            );
        }
    };
    ($name:ident, file $body:literal, $expected:literal) => {
        #[test]
        fn $name() {
            let out = check_fails($body);
            assert!(
                out.contains($expected),
                "expected {:?} in:\n{out}",
                $expected
            );
        }
    };
}

message!(label_needs_a_matcher, "install", "label: {key: k}",
    "t.yaml:4:13: invalid value for `label` in label check: needs one of `equals`, `contains`, `regex` (hint: e.g. `equals: \"true\"`");
message!(label_takes_one_matcher, "install", "label: {key: k, equals: a, regex: b}",
    "t.yaml:4:32: invalid value for `regex` in label check: only one of `equals`, `contains`, `regex` may be given (hint: write a second test for a second condition)");
message!(test_name_with_spaces, "install", "converged: {}\n  - name: two words\n    healthy: {}",
    "t.yaml:5:11: invalid value for `name` in test: `two words` may hold only letters, digits, `_`, `-` and `.` (hint: try `two_words`)");
message!(
    empty_command,
    "install",
    "exec: {service: app, command: \"  \"}",
    "t.yaml:4:35: invalid value for `command` in exec check: must not be empty"
);
message!(empty_argv, "install", "exec: {service: app, command: []}",
    "t.yaml:4:35: wrong type for `command` in exec check: expected a shell string or a non-empty list of arguments, found a list");
message!(
    port_out_of_range,
    "install",
    "http: {port: 70000}",
    "t.yaml:4:18: invalid value for `port` in http check: 70000 is not a port (1–65535)"
);
message!(
    status_out_of_range,
    "install",
    "http: {status: [200, 99]}",
    "t.yaml:4:26: invalid value for `status` in http check: 99 is not an HTTP status (100–599)"
);
message!(http_path_without_slash, "install", "http: {path: login}",
    "t.yaml:4:18: invalid value for `path` in http check: `login` does not start with `/` (hint: write `/login`)");
message!(file_path_not_absolute, "install", "file: {service: app, path: etc/x}",
    "t.yaml:4:32: invalid value for `path` in file check: `etc/x` is not an absolute path (hint: write `/etc/x`)");
message!(absent_file_with_content, "install", "file: {service: app, path: /x, exists: false, contains: y}",
    "t.yaml:4:61: invalid value for `contains` in file check: a path that must not exist has no content to match");
message!(logs_checking_nothing, "install", "logs: {service: app}",
    "t.yaml:4:12: invalid value for `logs` in logs check: checks nothing (hint: give `matches` or `not_matches`)");
message!(bad_compare, "restore", "recorded: {name: n, service: app, command: x, compare: same}",
    "t.yaml:4:60: invalid value for `compare` in recorded check: expected `equals` or `differs`, found the string \"same\"");
message!(options_on_an_optionless_check, "install", "converged: {service: app}",
    "t.yaml:4:17: invalid value for `converged` in converged check: takes no options, found a mapping (hint: write `converged: {}`; to disable a test use `ignore: <reason>`)");
message!(service_name_with_slash, "install", "exec: {service: a/b, command: x}",
    "t.yaml:4:21: invalid value for `service` in exec check: `a/b` may hold only letters, digits, `_`, `-` and `.`");
message!(matcher_of_the_wrong_shape, "install", "exec: {service: app, command: x, stdout: [a]}",
    "t.yaml:4:46: wrong type for `stdout` in exec check: expected a string or a mapping with one of `equals`, `contains`, `regex`, found a list");
message!(empty_test_list, file "tier: install\ntests: []\n",
    "t.yaml:2:8: invalid value for `tests` in spec file: the list is empty (hint: add at least one test)");
message!(bad_sleep, file "tier: backup\nbefore_op:\n  - sleep: a while\ntests:\n  - name: t\n    backup_exists: {}\n",
    "t.yaml:3:12: invalid value for `sleep` in sleep step: `a while` is not a duration");
message!(wait_healthy_with_options, file "tier: backup\nbefore_op:\n  - wait_healthy: {timeout: 5}\ntests:\n  - name: t\n    backup_exists: {}\n",
    "t.yaml:3:20: invalid value for `wait_healthy` in wait_healthy step: takes no options (hint: write `wait_healthy: {}`)");
message!(step_with_two_kinds, file "tier: backup\nbefore_op:\n  - {sleep: 1s, wait_healthy: {}}\ntests:\n  - name: t\n    backup_exists: {}\n",
    "t.yaml:3:6: invalid step: names more than one step kind (hint: one of: exec, record, sleep, wait_healthy)");
message!(unknown_step_kind, file "tier: backup\nbefore_op:\n  - exce: {service: app, command: x}\ntests:\n  - name: t\n    backup_exists: {}\n",
    "t.yaml:3:5: unknown key `exce` in a step (expected one of: exec, record, sleep, wait_healthy; hint: did you mean `exec`?)");
message!(install_cannot_be_skipped, file "tier: install\nop: {skip: no}\ntests:\n  - name: t\n    converged: {}\n",
    "t.yaml:2:6: invalid value for `skip` in op: install deploys the app and cannot be skipped (hint: to leave install out, select tiers with STAGES)");
message!(upgrade_cannot_be_steps, file "tier: upgrade\nop: {steps: []}\ntests:\n  - name: t\n    converged: {}\n",
    "t.yaml:2:6: invalid value for `steps` in op: the upgrade op is a deploy and cannot be replaced by steps (hint: use `op: {env: {…}}` to change how it deploys)");
message!(custom_has_no_op, file "tier: custom\nop: {skip: x}\ntests:\n  - name: t\n    converged: {}\n",
    "t.yaml:2:6: invalid value for `op` in custom tier: the custom tier has no op to replace (hint: remove `op:` or choose another tier)");
message!(op_with_two_keys, file "tier: backup\nop: {skip: x, env: {}}\ntests:\n  - name: t\n    backup_exists: {}\n",
    "t.yaml:2:6: invalid value for `op` in op: needs exactly one of `skip`, `env`, `steps`");
message!(op_env_bad_name, file "tier: upgrade\nop: {env: {\"BAD-NAME\": x}}\ntests:\n  - name: t\n    converged: {}\n",
    "t.yaml:2:12: invalid value for `BAD-NAME` in op env: is not an environment variable name");
