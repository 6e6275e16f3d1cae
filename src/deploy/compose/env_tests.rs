//! The env file rules abra applies (godotenv 1.5), one behaviour per test.

use super::*;

fn parse(text: &str) -> EnvFile {
    parse_env(Path::new(".env.sample"), text).unwrap()
}

fn var(text: &str, key: &str) -> String {
    parse(text).vars[key].clone()
}

#[test]
fn comments_quotes_exports_and_trailing_comments() {
    let e = parse(
        "TYPE=hello\n# c\n\nexport A=1\nB=\"two words\" # note\nC='x#y'\nD=v # trailing\n## X=ignored\nE=a#b\n",
    );
    assert_eq!(e.vars["TYPE"], "hello");
    assert_eq!(e.vars["A"], "1");
    assert_eq!(e.vars["B"], "two words");
    assert_eq!(e.vars["C"], "x#y");
    assert_eq!(e.vars["D"], "v");
    assert_eq!(
        e.vars["E"], "a#b",
        "a # not after a space is part of the value"
    );
    assert!(!e.vars.contains_key("X"));
}

#[test]
fn compose_file_expands_against_what_was_read_so_far() {
    let text = "COMPOSE_FILE=\"compose.yml\"\nCOMPOSE_FILE=\"$COMPOSE_FILE:compose.postgres.yml\"\n#COMPOSE_FILE=\"$COMPOSE_FILE:compose.smtp.yml\"\nCOMPOSE_FILE=${COMPOSE_FILE}:compose.mail.yml\n";
    assert_eq!(
        var(text, "COMPOSE_FILE"),
        "compose.yml:compose.postgres.yml:compose.mail.yml"
    );
}

#[test]
fn later_lines_win_and_a_variable_defined_later_is_not_seen_earlier() {
    let e = parse("A=$B\nB=b\nA2=$B\nB=c\n");
    assert_eq!(e.vars["A"], "", "B was not read yet");
    assert_eq!(e.vars["A2"], "b");
    assert_eq!(e.vars["B"], "c");
}

#[test]
fn single_quotes_are_literal() {
    assert_eq!(var("X=x\nY='$X ${X}'\n", "Y"), "$X ${X}");
}

#[test]
fn only_upper_case_names_expand_and_defaults_are_not_shell_syntax() {
    let e = parse("X=x\nlow=l\nA=$low\nB=${X:-d}\nC=\\$X\nD=\"\\$X\"\nE=$X$X\n");
    assert_eq!(
        e.vars["A"], "$low",
        "a lower-case name is not a variable to godotenv"
    );
    assert_eq!(
        e.vars["B"], "x:-d}",
        "`${{X` expands and the rest stays as written"
    );
    assert_eq!(e.vars["C"], "$X");
    assert_eq!(e.vars["D"], "$X");
    assert_eq!(e.vars["E"], "xx");
}

#[test]
fn unknown_variables_expand_to_nothing() {
    assert_eq!(var("A=a${NOPE}b\n", "A"), "ab");
}

#[test]
fn double_quotes_unescape_and_span_lines() {
    let e = parse("A=\"l1\\nl2\"\nB=\"x\ny\"\nC=\"say \\\"hi\\\" now\"\n");
    assert_eq!(e.vars["A"], "l1\nl2");
    assert_eq!(e.vars["B"], "x\ny");
    assert_eq!(e.vars["C"], "say \"hi\" now");
}

#[test]
fn yaml_style_and_spaces_around_equals() {
    let e = parse("A: 1\nB = two\n  C=3\n");
    assert_eq!(
        (
            e.vars["A"].as_str(),
            e.vars["B"].as_str(),
            e.vars["C"].as_str()
        ),
        ("1", "two", "3")
    );
}

#[test]
fn an_empty_value_and_a_value_that_starts_with_a_hash() {
    let e = parse("A=\nB= #not-a-comment\nC=x\n");
    assert_eq!(e.vars["A"], "");
    assert_eq!(e.vars["B"], "#not-a-comment");
    assert_eq!(e.vars["C"], "x");
}

#[test]
fn secret_length_hints_are_read() {
    let e = parse("SECRET_DB_PASSWORD_VERSION=v1 # length=48\nSECRET_API_KEY_VERSION=v2\nSECRET_Q_VERSION=\"v3\" # length=12\n");
    assert_eq!(e.secret_lengths.get("db_password"), Some(&48));
    assert_eq!(e.secret_lengths.get("q"), Some(&12));
    assert_eq!(e.vars["SECRET_API_KEY_VERSION"], "v2");
    assert!(!e.secret_lengths.contains_key("api_key"));
}

#[test]
fn a_line_without_equals_is_refused_with_its_line() {
    let e = parse_env(Path::new("r/.env.sample"), "A=1\n\nJUST_A_WORD\nB=2\n").unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.to_string().starts_with("r/.env.sample:3: "), "{e}");
}

#[test]
fn an_unterminated_quote_is_refused() {
    let e = parse_env(Path::new(".env.sample"), "A=1\nB=\"open\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("unterminated"), "{e}");
}

#[test]
fn lines_remember_where_a_variable_was_last_set() {
    let e = parse("A=1\n# x\nB=2\nA=3\n");
    assert_eq!((e.lines["A"], e.lines["B"]), (4, 3));
}

#[test]
fn abra_sh_exports_are_literal() {
    let x = abra_sh_exports(
        "#!/bin/bash\nexport APP_CONF_VERSION=v2\n  export ENTRYPOINT_VERSION=\"v3\"\nexport -f fn\nfoo() { echo; }\nexport PLAIN\n",
    );
    assert_eq!(x["APP_CONF_VERSION"], "v2");
    assert_eq!(x["ENTRYPOINT_VERSION"], "\"v3\"");
    assert_eq!(x.len(), 2);
}

#[test]
fn precedence_is_sample_then_abra_sh_then_overrides_then_identity() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join(".env.sample"),
        "A=sample\nB=sample\nC=sample\nDOMAIN=x.example\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("abra.sh"),
        "export B=abra\nexport C=abra\nfoo() { echo; }\n",
    )
    .unwrap();
    let mut o = BTreeMap::new();
    o.insert("C".to_string(), "override".to_string());
    let e = app_env(d.path(), "s_t", "s.t", &o).unwrap();
    assert_eq!(
        (
            e.vars["A"].as_str(),
            e.vars["B"].as_str(),
            e.vars["C"].as_str()
        ),
        ("sample", "abra", "override")
    );
    assert_eq!(
        (e.vars["STACK_NAME"].as_str(), e.vars["DOMAIN"].as_str()),
        ("s_t", "s.t")
    );
}

#[test]
fn an_env_sample_that_is_a_directory_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join(".env.sample")).unwrap();
    let e = read_env_sample(d.path()).unwrap_err();
    assert!(e.to_string().contains("regular file"), "{e}");
}

#[test]
fn the_app_domain_is_edited_into_the_file_so_later_lines_see_it() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join(".env.sample"),
        "DOMAIN=x.example.com\nMAIL_FROM=noreply@$DOMAIN\nHOST=${DOMAIN}\n",
    )
    .unwrap();
    let e = app_env(d.path(), "app_ci", "app.ci.local", &BTreeMap::new()).unwrap();
    assert_eq!(e.vars["MAIL_FROM"], "noreply@app.ci.local");
    assert_eq!(e.vars["HOST"], "app.ci.local");
}
