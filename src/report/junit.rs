//! JUnit XML for CI dashboards (Jenkins, Drone plugins, GitLab): one `<testsuite>` per tier plus a
//! `run` suite holding the run-wide guarantees (deploy-count, teardown, lint). Every suite carries the
//! properties recipe, run-id, head_ref, chaos-version, deploy-count and level. Failures keep their
//! messages; assertions that did not run are `<skipped>` with the reason. Built with `quick-junit`,
//! written atomically.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite, XmlString};

use super::level;
use super::model::{Outcome, RunResult, TierResult, TierStatus};
use super::ReportError;

/// Writes the JUnit report of `r` to `path` (a temporary file beside it, then a rename).
pub fn write(r: &RunResult, path: &Path) -> Result<(), ReportError> {
    let xml = to_string(r).map_err(|message| ReportError::Junit {
        path: path.to_path_buf(),
        message,
    })?;
    write_xml(&xml, path)
}

/// Writes `xml` to `path` atomically, creating missing directories (as pytest does).
pub(super) fn write_xml(xml: &str, path: &Path) -> Result<(), ReportError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io("create directory", dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".junit.")
        .tempfile_in(dir)
        .map_err(|e| ReportError::io("create a temporary file in", dir, e))?;
    tmp.write_all(xml.as_bytes())
        .and_then(|_| super::publish(tmp.path()))
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| ReportError::io("write", tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| ReportError::io("rename into place", path, e.error))?;
    Ok(())
}

/// The JUnit XML text of `r`.
pub fn to_string(r: &RunResult) -> Result<String, String> {
    let mut report = Report::new(format!("cc-ci {}", r.recipe));
    report.set_time(Duration::from_millis(r.duration_ms));
    let props = properties(r);
    for t in &r.tiers {
        report.add_test_suite(tier_suite(r, t, &props));
    }
    report.add_test_suite(run_suite(r, &props));
    report.to_string().map_err(|e| e.to_string())
}

fn properties(r: &RunResult) -> Vec<(&'static str, String)> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        ("recipe", r.recipe.clone()),
        ("run-id", r.run_id.clone()),
        ("pr", r.pr.map(|p| p.to_string()).unwrap_or_default()),
        ("ref", opt(&r.git_ref)),
        ("head_ref", opt(&r.head_ref)),
        ("head_ref_source", r.head_ref_source.clone()),
        ("previous_release", opt(&r.previous_release)),
        ("chaos-version", opt(&r.chaos_version)),
        ("deploy-count", r.deploy_count.to_string()),
        ("deployer", r.deployer.clone()),
        ("level", level::compute(r).title()),
    ]
}

fn suite(name: String, r: &RunResult, props: &[(&'static str, String)]) -> TestSuite {
    let mut s = TestSuite::new(name);
    for (k, v) in props {
        s.add_property((*k, v.as_str()));
    }
    s.extra
        .insert(XmlString::new("timestamp"), XmlString::new(&r.started_at));
    if let Some(h) = &r.host {
        s.extra
            .insert(XmlString::new("hostname"), XmlString::new(h));
    }
    s
}

fn tier_suite(r: &RunResult, t: &TierResult, props: &[(&'static str, String)]) -> TestSuite {
    let mut s = suite(format!("{}::{}", r.recipe, t.tier), r, props);
    s.add_property(("tier-status", tier_status(t).as_str()));
    s.add_property(("generic", t.generic.as_str()));
    s.add_property(("overlay-files", t.overlay_files.to_string().as_str()));
    let classname = format!("{}.{}", r.recipe, t.tier);
    let mut total = Duration::ZERO;
    if let Some(op) = &t.op {
        let status = if op.ok {
            TestCaseStatus::success()
        } else {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
            let e = op.error.as_deref().unwrap_or("the op failed");
            st.set_message(first_line(e))
                .set_type("op")
                .set_description(e);
            st
        };
        let mut c = TestCase::new(format!("op::{}", op.name), status);
        let d = Duration::from_millis(op.duration_ms);
        c.set_classname(classname.as_str()).set_time(d);
        total += d;
        s.add_test_case(c);
    }
    for x in &t.tests {
        let status = match &x.outcome {
            Outcome::Passed => TestCaseStatus::success(),
            Outcome::Failed { message } => {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                st.set_message(first_line(message))
                    .set_type(x.source.as_str())
                    .set_description(message.as_str());
                st
            }
            Outcome::Ignored { reason } | Outcome::NotRun { reason } => {
                let mut st = TestCaseStatus::skipped();
                st.set_message(format!("{}: {reason}", x.outcome.label()));
                st
            }
        };
        let mut c = TestCase::new(format!("{}::{}", x.file, x.name), status);
        let d = Duration::from_millis(x.duration_ms);
        c.set_classname(classname.as_str()).set_time(d);
        total += d;
        s.add_test_case(c);
    }
    if t.tests.is_empty() {
        if let TierStatus::NotRun { .. } | TierStatus::NotApplicable { .. } = t.status {
            // Keep the reason visible in dashboards that only list test cases.
            let mut st = TestCaseStatus::skipped();
            st.set_message(tier_status(t));
            let mut c = TestCase::new(format!("{} tier", t.tier), st);
            c.set_classname(classname.as_str());
            s.add_test_case(c);
        }
    }
    s.set_time(total);
    s
}

fn run_suite(r: &RunResult, props: &[(&'static str, String)]) -> TestSuite {
    let mut s = suite(format!("{}::run", r.recipe), r, props);
    let classname = format!("{}.run", r.recipe);
    let case = |name: &str, ok: bool, message: String, ty: &str| {
        let status = if ok {
            TestCaseStatus::success()
        } else {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_message(first_line(&message))
                .set_type(ty)
                .set_description(message);
            st
        };
        let mut c = TestCase::new(name, status);
        c.set_classname(classname.as_str());
        c
    };
    s.add_test_case(case(
        "deploy-count",
        r.deploy_count == 1,
        format!("deploy-count = {} (expect 1)", r.deploy_count),
        "guarantee",
    ));
    let mut td = format!("teardown left {} resource(s)", r.teardown.leftovers.len());
    for l in &r.teardown.leftovers {
        td.push_str(&format!("\n- {l}"));
    }
    if let Some(e) = &r.teardown.error {
        td.push_str(&format!("\nerror: {e}"));
    }
    let mut tc = case("teardown", r.teardown.clean, td, "guarantee");
    tc.set_time(Duration::from_millis(r.teardown.duration_ms));
    s.add_test_case(tc);
    match &r.lint {
        Some(l) if l.not_run.is_some() => {
            let mut st = TestCaseStatus::skipped();
            st.set_message(format!(
                "not run: {}",
                l.not_run.as_deref().unwrap_or_default()
            ));
            let mut c = TestCase::new(format!("lint ({})", l.tool), st);
            c.set_classname(classname.as_str());
            s.add_test_case(c)
        }
        Some(l) => s.add_test_case(case(
            &format!("lint ({})", l.tool),
            l.passed,
            l.messages.join("\n"),
            "lint",
        )),
        None => {
            let mut st = TestCaseStatus::skipped();
            st.set_message("not run: lint did not run");
            let mut c = TestCase::new("lint", st);
            c.set_classname(classname.as_str());
            s.add_test_case(c)
        }
    };
    s
}

fn tier_status(t: &TierResult) -> String {
    match &t.status {
        TierStatus::Passed => "passed".into(),
        TierStatus::Failed => "failed".into(),
        TierStatus::NotRun { reason } => format!("not run: {reason}"),
        TierStatus::NotApplicable {
            reason,
            declared: true,
        } => format!("declared not applicable: {reason}"),
        TierStatus::NotApplicable { reason, .. } => format!("unsupported: {reason}"),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn one_suite_per_tier_plus_run_with_properties() {
        let xml = to_string(&sample::run()).unwrap();
        for t in ["install", "upgrade", "backup", "restore", "custom", "run"] {
            assert!(
                xml.contains(&format!("<testsuite name=\"hello::{t}\"")),
                "{xml}"
            );
        }
        assert!(
            xml.contains("<property name=\"chaos-version\" value=\"0123abcd\"/>"),
            "{xml}"
        );
        assert!(
            xml.contains("<property name=\"deploy-count\" value=\"1\"/>"),
            "{xml}"
        );
    }

    #[test]
    fn not_run_assertion_is_skipped_with_its_reason() {
        let mut r = sample::run();
        r.tiers[1].tests[0].outcome = Outcome::NotRun {
            reason: "upgrade op failed".into(),
        };
        let xml = to_string(&r).unwrap();
        assert!(
            xml.contains("<skipped message=\"not run: upgrade op failed\"/>"),
            "{xml}"
        );
        // Read back by a JUnit reader: each suite counts its skipped cases once.
        let back = Report::deserialize_from_str(&xml).expect("the XML reads back");
        let upgrade = back
            .test_suites
            .iter()
            .find(|s| s.name.as_str() == "hello::upgrade")
            .unwrap();
        assert_eq!(upgrade.skipped, 1, "{xml}");
    }
}
