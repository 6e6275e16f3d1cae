//! Reads pytest's JUnit XML (xunit1) with quick-junit's reader: one outcome per node, keyed by the node
//! name after `file::` (`test_x`, `TestClass::test_x`, `test_p[1]`). A failure or error carries
//! pytest's message and the tail of its report.

use std::collections::BTreeMap;

use quick_junit::{NonSuccessKind, Report, TestCaseStatus};

use super::pytest::{NodeOutcome, PytestError};

/// Node name → outcome.
pub type NodeOutcomes = BTreeMap<String, NodeOutcome>;

/// How many lines of pytest's failure report a message keeps.
const REPORT_TAIL: usize = 15;

/// The node name of a testcase: the classname minus the module (the file stem), then the name.
fn node_name(classname: &str, name: &str, module: &str) -> String {
    let rest = classname
        .strip_prefix(module)
        .map(|r| r.trim_start_matches('.'))
        .unwrap_or("");
    if rest.is_empty() {
        name.to_string()
    } else {
        format!("{}::{name}", rest.replace('.', "::"))
    }
}

fn outcome(status: &TestCaseStatus) -> NodeOutcome {
    let TestCaseStatus::NonSuccess {
        kind,
        message,
        description,
        ..
    } = status
    else {
        // Passed or skipped: a skipped node is not a failure.
        return NodeOutcome::Passed;
    };
    let word = match kind {
        NonSuccessKind::Error => "error",
        NonSuccessKind::Failure => "failed",
    };
    let mut text = format!(
        "pytest {word}: {}",
        message.as_ref().map(|m| m.as_str()).unwrap_or_default()
    );
    if let Some(d) = description {
        let lines: Vec<&str> = d.as_str().lines().collect();
        text.push('\n');
        text.push_str(&lines[lines.len().saturating_sub(REPORT_TAIL)..].join("\n"));
    }
    NodeOutcome::Failed(text)
}

/// Parses the XML written for `file_name` (e.g. `test_upgrade.py`).
pub fn parse(xml: &str, file_name: &str) -> Result<NodeOutcomes, PytestError> {
    let module = file_name.trim_end_matches(".py");
    let report =
        Report::deserialize_from_str(xml).map_err(|e| PytestError::Junit(e.to_string()))?;
    if report.test_suites.is_empty() {
        return Err(PytestError::NoSuite);
    }
    let mut out = NodeOutcomes::new();
    for case in report.test_suites.iter().flat_map(|s| &s.test_cases) {
        let classname = case.classname.as_ref().map(|c| c.as_str()).unwrap_or("");
        out.insert(
            node_name(classname, case.name.as_str(), module),
            outcome(&case.status),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4">
<testcase classname="test_upgrade" name="test_ok" time="0.001" />
<testcase classname="test_upgrade" name="test_bad" time="0.001"><failure message="assert 1 == 2">def test_bad():
&gt;       assert 1 == 2
E       assert 1 == 2</failure></testcase>
<testcase classname="test_upgrade.TestGroup" name="test_err" time="0.001"><error message="failed on setup with &quot;boom&quot;">boom</error></testcase>
<testcase classname="test_upgrade" name="test_skip" time="0.0"><skipped message="later" type="pytest.skip">later</skipped></testcase>
</testsuite></testsuites>"#;

    fn failed(o: &NodeOutcome) -> &str {
        match o {
            NodeOutcome::Failed(m) => m,
            NodeOutcome::Passed => panic!("expected a failure"),
        }
    }

    #[test]
    fn passing_failing_erroring_and_skipped_nodes_map_to_outcomes() {
        let m = parse(XML, "test_upgrade.py").unwrap();
        assert_eq!(m["test_ok"], NodeOutcome::Passed);
        let bad = failed(&m["test_bad"]);
        assert!(bad.starts_with("pytest failed: assert 1 == 2"), "{bad}");
        assert!(bad.contains("E       assert 1 == 2"), "{bad}");
        let err = failed(&m["TestGroup::test_err"]);
        assert!(err.starts_with("pytest error: failed on setup"), "{err}");
        assert_eq!(m["test_skip"], NodeOutcome::Passed);
        assert_eq!(m.len(), 4);
    }

    #[test]
    fn xml_without_a_testsuite_is_an_error_not_an_empty_result() {
        assert!(parse("this is not junit", "t.py").is_err());
        assert!(parse("<html></html>", "t.py").is_err());
    }
}
