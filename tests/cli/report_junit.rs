//! The JUnit XML validates against the schema CI dashboards use (checked with xmllint), keeps failure
//! messages, and reports not-run assertions as skipped with their reason.

use std::path::Path;
use std::process::Command;

use crate::support::report::{passing, stale_upgrade};
use cc_ci::report::junit;

fn xmllint_validate(xml: &Path) -> std::process::Output {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit.xsd");
    Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(xml)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run xmllint: {e} (hint: run scripts/setup-chromium.sh, which installs libxml2-utils)")
        })
}

#[test]
fn junit_of_passing_and_failing_runs_validates_against_junit_xsd() {
    let dir = tempfile::tempdir().unwrap();
    for (name, r) in [
        ("pass.xml", passing("hello", "r1", "2026-11-23T18:00:00Z")),
        (
            "fail.xml",
            stale_upgrade("hello", "r2", "2026-11-23T19:00:00Z"),
        ),
    ] {
        let path = dir.path().join("nested").join(name);
        junit::write(&r, &path).unwrap();
        let out = xmllint_validate(&path);
        assert!(
            out.status.success(),
            "{name} does not validate:\n{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&path).unwrap()
        );
    }
}

#[test]
fn schema_check_rejects_a_document_that_breaks_it() {
    // Proves the validation above can fail: a testcase without its required name.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.xml");
    std::fs::write(
        &path,
        r#"<testsuites><testsuite name="x" tests="1" failures="0" errors="0"><testcase/></testsuite></testsuites>"#,
    )
    .unwrap();
    let out = xmllint_validate(&path);
    assert!(
        !out.status.success(),
        "xmllint accepted an invalid document"
    );
}

#[test]
fn failure_keeps_its_message_and_not_run_tests_are_skipped_with_the_reason() {
    let xml = junit::to_string(&stale_upgrade("hello", "r2", "2026-11-23T19:00:00Z")).unwrap();
    assert!(
        xml.contains("<failure message=\"chaos-version 1111aaaa does not match head_ref 0123abcd\" type=\"generic\">"),
        "{xml}"
    );
    assert!(
        xml.contains("(hint: the upgrade redeployed a stale checkout)</failure>"),
        "{xml}"
    );
    assert!(
        xml.contains("<skipped message=\"not run: upgrade failed\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<testsuite name=\"hello::backup\" tests=\"1\" skipped=\"1\" errors=\"0\" failures=\"0\""
        ),
        "{xml}"
    );
    // Run-wide guarantees as test cases.
    assert!(
        xml.contains("<testcase name=\"teardown\" classname=\"hello.run\""),
        "{xml}"
    );
    assert!(xml.contains("volume hello-r2_ci_local_data"), "{xml}");
    assert!(
        xml.contains("<property name=\"level\" value=\"L1 install\"/>"),
        "{xml}"
    );
}
