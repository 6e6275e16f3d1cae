//! Reads pytest's JUnit XML (xunit1): one outcome per node, keyed by the node name after `file::`
//! (`test_x`, `TestClass::test_x`, `test_p[1]`). A failure or error carries pytest's message.

use std::collections::BTreeMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Node name → `Ok(())` (passed or skipped) or `Err(message)` (failed or errored).
pub type NodeOutcomes = BTreeMap<String, Result<(), String>>;

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name.as_bytes())
        .and_then(|a| a.unescape_value().ok().map(|v| v.to_string()))
}

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

/// Parses the XML written for `file_name` (e.g. `test_upgrade.py`).
pub fn parse(xml: &str, file_name: &str) -> Result<NodeOutcomes, String> {
    let module = file_name.trim_end_matches(".py");
    let mut reader = Reader::from_str(xml);
    let mut out = NodeOutcomes::new();
    let mut current: Option<String> = None;
    let mut failure: Option<String> = None;
    let mut in_failure = false;
    let mut seen_suite = false;
    loop {
        match reader.read_event() {
            Err(e) => return Err(format!("pytest's JUnit XML is unreadable: {e}")),
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.name().as_ref() == b"testsuite" => {
                seen_suite = true;
            }
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.name().as_ref() == b"testcase" => {
                let classname = attr(&e, "classname").unwrap_or_default();
                let name = attr(&e, "name").unwrap_or_default();
                let node = node_name(&classname, &name, module);
                failure = None;
                out.insert(node.clone(), Ok(()));
                current = Some(node);
            }
            Ok(Event::Start(e)) | Ok(Event::Empty(e))
                if matches!(e.name().as_ref(), b"failure" | b"error") =>
            {
                let kind = if e.name().as_ref() == b"error" {
                    "error"
                } else {
                    "failed"
                };
                let msg = attr(&e, "message").unwrap_or_default();
                failure = Some(format!("pytest {kind}: {msg}"));
                in_failure = true;
                if let Some(n) = &current {
                    out.insert(n.clone(), Err(failure.clone().unwrap_or_default()));
                }
            }
            Ok(Event::Text(t)) if in_failure => {
                if let (Some(n), Some(f)) = (&current, &failure) {
                    let text = t
                        .decode()
                        .map(|c| {
                            quick_xml::escape::unescape(&c)
                                .map(|u| u.to_string())
                                .unwrap_or_else(|_| c.to_string())
                        })
                        .unwrap_or_default();
                    let lines: Vec<&str> = text.lines().collect();
                    let tail = lines[lines.len().saturating_sub(15)..].join("\n");
                    out.insert(n.clone(), Err(format!("{f}\n{tail}")));
                }
            }
            Ok(Event::End(e)) if matches!(e.name().as_ref(), b"failure" | b"error") => {
                in_failure = false;
            }
            Ok(Event::End(e)) if e.name().as_ref() == b"testcase" => current = None,
            Ok(_) => {}
        }
    }
    if !seen_suite {
        return Err("pytest's JUnit XML holds no testsuite".into());
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

    #[test]
    fn passing_failing_erroring_and_skipped_nodes_map_to_outcomes() {
        let m = parse(XML, "test_upgrade.py").unwrap();
        assert_eq!(m["test_ok"], Ok(()));
        let bad = m["test_bad"].clone().unwrap_err();
        assert!(bad.starts_with("pytest failed: assert 1 == 2"), "{bad}");
        assert!(bad.contains("E       assert 1 == 2"), "{bad}");
        let err = m["TestGroup::test_err"].clone().unwrap_err();
        assert!(err.starts_with("pytest error: failed on setup"), "{err}");
        assert_eq!(m["test_skip"], Ok(()));
        assert_eq!(m.len(), 4);
    }

    #[test]
    fn xml_without_a_testsuite_is_an_error_not_an_empty_result() {
        assert!(parse("this is not junit", "t.py").is_err());
        assert!(parse("<html></html>", "t.py").is_err());
    }
}
