//! What a pytest pipeline reads besides the selection, held against real pytest on the same mirror as
//! `pytest_parity`: the `--co` closing line (`N/M tests collected (K deselected)`), and a JUnit file
//! written whenever `--junitxml`/`--junit-xml` is given — for a listing, when nothing is selected, on a
//! usage error once the path is known — in a directory created for it.

use std::path::Path;
use std::process::Output;

use crate::pytest_parity::twin;
use crate::support::cli::text;
use crate::support::pytest_mirror::py;

/// The last non-empty stdout line without its `in 0.12s` tail.
fn closing_line(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim_matches(|c| c == '=' || c == ' ');
    match last.rsplit_once(" in ") {
        Some((head, tail)) if tail.ends_with('s') => head.to_string(),
        _ => last.to_string(),
    }
}

#[test]
fn the_collect_only_closing_line_reads_as_pytest_writes_it() {
    let t = twin();
    for args in [
        &[][..],
        &["-k", "converged"],
        &["-k", "seed or http"],
        &["-k", "nomatch"],
        &["overlays/hello/site.yaml"],
        &["-m", "slow", "overlays/"],
    ] {
        let mut cc = vec!["--co"];
        cc.extend_from_slice(args);
        let c = t.cc_ci(&cc);
        let mut pa: Vec<String> = vec!["--co".into(), "-q".into()];
        pa.extend(args.iter().map(|a| py(a)));
        let pr: Vec<&str> = pa.iter().map(String::as_str).collect();
        let (p, _) = t.pytest(&pr);
        assert!(t.pytest_outcomes().is_empty(), "a listing runs nothing");
        assert_eq!(
            closing_line(&c),
            closing_line(&p),
            "{args:?}\ncc-ci {}\npytest {}",
            text(&c),
            text(&p)
        );
        let line = String::from_utf8_lossy(&c.stdout);
        assert!(
            line.trim_end().ends_with('s') && line.contains(" in "),
            "the closing line ends with the time: {line}"
        );
    }
}

/// A JUnit file with no test case, as pytest writes one (`tests="0"`).
fn assert_empty_junit(path: &Path, who: &str) {
    let xml = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{who} wrote no JUnit file at {}: {e}", path.display()));
    assert!(xml.contains("<testsuites"), "{who}: {xml}");
    assert!(xml.contains("tests=\"0\""), "{who}: {xml}");
    assert!(!xml.contains("<testcase"), "{who}: {xml}");
}

#[test]
fn junit_is_written_for_a_listing_nothing_selected_and_a_bad_expression_as_pytest_does() {
    let t = twin();
    let cases: [(&str, &[&str], i32); 4] = [
        ("listing", &["--co"], 0),
        ("none", &["--co", "-k", "nomatch"], 5),
        ("bad-k", &["--co", "-k", "install and"], 4),
        ("missing-path", &["--co", "tests/"], 4),
    ];
    for (name, args, code) in cases {
        for (who, flag) in [("cc-ci", "--junitxml"), ("pytest", "--junit-xml")] {
            let path = t.dir().join(format!("reports/{who}/{name}/junit.xml"));
            let target = format!("{flag}={}", path.display());
            let mut all: Vec<&str> = args.to_vec();
            all.push(&target);
            let out = if who == "cc-ci" {
                t.cc_ci(&all)
            } else {
                t.pytest(&all).0
            };
            assert_eq!(
                out.status.code(),
                Some(code),
                "{who} {args:?}: {}",
                text(&out)
            );
            assert_empty_junit(&path, who);
        }
    }
}

#[test]
fn a_run_that_selects_nothing_or_refuses_a_flag_still_leaves_its_junit_file() {
    let t = twin();
    let dir = t.dir().join("run-reports");
    // No --co: a real run that stops before deploying anything (exit 5), and usage errors found
    // after the path is known (exit 4): a bad -m, a bad --maxfail combination is not one, a path that
    // does not exist.
    let cases: [(&str, &[&str], i32); 3] = [
        ("none", &["-k", "nomatch"], 5),
        ("bad-m", &["-m", "a or"], 4),
        ("missing-path", &["overlays/nope.yaml"], 4),
    ];
    for (name, args, code) in cases {
        let path = dir.join(name).join("junit.xml");
        let target = format!("--junit-xml={}", path.display());
        let mut all: Vec<&str> = args.to_vec();
        all.push(&target);
        let out = t.cc_ci(&all);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out));
        assert_empty_junit(&path, "cc-ci");
    }
    let xml = std::fs::read_to_string(dir.join("missing-path/junit.xml")).unwrap();
    assert!(
        xml.contains("file or directory not found: overlays/nope.yaml"),
        "the reason is kept: {xml}"
    );
    // An unknown flag is refused before any path is known: no file, as with pytest.
    let path = dir.join("unknown/junit.xml");
    let target = format!("--junitxml={}", path.display());
    let out = t.cc_ci(&["--frobnicate", &target]);
    assert_eq!(out.status.code(), Some(4));
    assert!(!path.exists());
    let (p, _) = t.pytest(&["--frobnicate", &target]);
    assert_eq!(p.status.code(), Some(4));
    assert!(!path.exists());
}
