//! The run command line through the real clap parser: counted and repeated flags, the last `-k`,
//! ignored pytest flags, unknown flags without far-fetched hints.

use clap::Parser;

use super::*;
use crate::cli::run_ignored::without_far_hints;
use crate::cli::{Cli, Command};

fn parse(args: &[&str]) -> Result<Box<crate::cli::run::RunArgs>, clap::Error> {
    let mut argv = vec!["cc-ci", "run"];
    argv.extend_from_slice(args);
    match Cli::try_parse_from(argv)?.command {
        Command::Run(a) => Ok(a),
        other => panic!("not a run: {other:?}"),
    }
}

fn selection(args: &[&str]) -> (Selection, Vec<String>) {
    use clap::CommandFactory;
    let mut argv = vec!["cc-ci", "run"];
    argv.extend_from_slice(args);
    let m = Cli::command().get_matches_from(argv);
    parse(args)
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
        .tests
        .selection(None, m.subcommand_matches("run"))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

#[test]
fn verbosity_and_exitfirst_flags_count_instead_of_being_refused() {
    for args in [
        &["-vv"][..],
        &["-v", "-v"],
        &["-x", "-x"],
        &["-qq"],
        &["-q", "-q", "-v"],
    ] {
        parse(args).unwrap_or_else(|e| panic!("{args:?} refused: {e}"));
    }
    assert!(selection(&["-vv"]).0.verbose);
    assert!(!selection(&["-vv"]).0.libtest.quiet);
    assert!(
        selection(&["-qq", "-v"]).0.libtest.quiet,
        "-qq -v is still quiet"
    );
    assert!(
        !selection(&["-q", "-v"]).0.libtest.quiet,
        "-q -v cancel out"
    );
    assert!(
        !selection(&["-q", "--format", "json"]).0.libtest.quiet,
        "an explicit --format wins over -q"
    );
    assert_eq!(selection(&["-x", "-x"]).0.maxfail, Some(1));
}

#[test]
fn the_last_k_and_m_win_and_a_note_says_so() {
    let (sel, notes) = selection(&["-k", "install", "-k", "http", "-m", "a", "-m", "b"]);
    assert_eq!(sel.keyword.unwrap().source(), "http");
    assert_eq!(sel.marks.unwrap().source(), "b");
    assert_eq!(
        notes,
        [
            "-k given 2 times: the last one wins (-k \"http\")",
            "-m given 2 times: the last one wins (-m \"b\")"
        ]
    );
    assert!(selection(&["-k", "x"]).1.is_empty(), "one -k, no note");
}

#[test]
fn a_newline_in_k_or_a_bad_m_is_a_usage_error() {
    for args in [&["-k", "install\n"][..], &["-m", "a and"], &["-k", "(x"]] {
        let e = parse(args)
            .unwrap()
            .tests
            .selection(None, None)
            .unwrap_err();
        assert!(matches!(e, FlagError::Expression(_)), "{args:?}: {e}");
    }
}

#[test]
fn single_value_options_given_twice_keep_the_last_as_pytest_does() {
    let a = parse(&["--recipe", "a", "--recipe", "b", "--co", "--co"]).unwrap();
    assert_eq!(a.recipe.as_deref(), Some("b"));
    assert!(a.tests.collect_only);
}

#[test]
fn junit_xml_is_an_alias_of_junitxml() {
    let a = parse(&["--junit-xml", "out/j.xml"]).unwrap();
    assert_eq!(
        a.junitxml.as_deref(),
        Some(std::path::Path::new("out/j.xml"))
    );
    let a = parse(&["--junit-xml=out/k.xml"]).unwrap();
    assert_eq!(
        a.junitxml.as_deref(),
        Some(std::path::Path::new("out/k.xml"))
    );
}

#[test]
fn positionals_are_kept_as_typed_for_the_runner_to_resolve() {
    let (sel, _) = selection(&["overlays/", "http", "--", "-s"]);
    assert_eq!(sel.positional, ["overlays/", "http", "-s"]);
    assert!(sel.libtest.filter.is_none());
}

#[test]
fn pytest_reporting_flags_are_accepted_and_named_in_one_note() {
    let (_, notes) = selection(&[
        "-rA",
        "--tb=short",
        "-p",
        "no:cacheprovider",
        "-W",
        "error",
        "-o",
        "junit_family=xunit2",
        "--strict-markers",
        "--import-mode=importlib",
        "-n",
        "auto",
        "--cov",
        "--disable-warnings",
    ]);
    assert_eq!(notes.len(), 1, "{notes:?}");
    let n = &notes[0];
    for flag in [
        "-rA",
        "--tb=short",
        "-p no:cacheprovider",
        "-W error",
        "-o junit_family=xunit2",
        "--strict-markers",
        "--import-mode=importlib",
        "-n auto",
        "--cov",
        "--disable-warnings",
    ] {
        assert!(n.contains(flag), "{flag} missing from {n}");
    }
    assert!(
        n.contains("(pytest's own report; cc-ci prints its own)"),
        "{n}"
    );
    assert!(n.contains("pytest-xdist"), "{n}");
    assert!(selection(&["-v"]).1.is_empty());
}

#[test]
fn pytest_color_words_are_accepted() {
    let c = |w: &str| selection(&["--color", w]).0.libtest.color;
    assert_eq!(c("yes"), Some(libtest_mimic::ColorSetting::Always));
    assert_eq!(c("no"), Some(libtest_mimic::ColorSetting::Never));
    assert_eq!(c("auto"), Some(libtest_mimic::ColorSetting::Auto));
}

fn rendered(args: &[&str]) -> String {
    let e = parse(args).unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::UnknownArgument);
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    cmd.build();
    let usage = cmd.find_subcommand_mut("run").unwrap().render_usage();
    without_far_hints(e, Some(usage)).render().to_string()
}

#[test]
fn an_unknown_flag_keeps_only_a_hint_that_is_close() {
    let far = rendered(&["--frobnicate"]);
    assert!(far.contains("'--frobnicate'"), "{far}");
    assert!(!far.contains("--format"), "a far hint is dropped: {far}");
    assert!(far.contains("docs/pytest.md"), "{far}");
    assert!(far.contains("Usage: cc-ci run [OPTIONS]"), "{far}");
    let near = rendered(&["--junitxm", "x"]);
    assert!(near.contains("'--junitxml'"), "{near}");
    let prefix = rendered(&["--dom", "x"]);
    assert!(prefix.contains("'--domain'"), "{prefix}");
    let short = rendered(&["-y"]);
    assert!(
        !short.contains("-- -y"),
        "no trailing-argument hint: {short}"
    );
}

#[test]
fn x_is_maxfail_one_and_the_one_given_last_wins_as_in_pytest() {
    let mf = |args: &[&str]| selection(args).0.maxfail;
    assert_eq!(mf(&[]), None);
    assert_eq!(mf(&["-x"]), Some(1));
    assert_eq!(mf(&["--maxfail=3"]), Some(3));
    assert_eq!(mf(&["-x", "--maxfail=3"]), Some(3));
    assert_eq!(mf(&["--maxfail=3", "-x"]), Some(1));
    assert_eq!(mf(&["--maxfail", "2", "-x", "--maxfail=4"]), Some(4));
    assert_eq!(mf(&["--maxfail=0"]), None, "0 never stops");
    assert!(
        parse(&["--maxfail=-1"]).is_err(),
        "a negative count is a usage error"
    );
}

#[test]
fn lf_and_ff_read_as_pytest_spells_them() {
    use crate::runner::LastFailed;
    let lf = |args: &[&str]| selection(args).0.last_failed;
    assert_eq!(lf(&[]), LastFailed::Off);
    assert_eq!(
        lf(&["--lf"]),
        LastFailed::Only {
            none_runs_all: true
        }
    );
    assert_eq!(
        lf(&["--last-failed", "--lfnf=none"]),
        LastFailed::Only {
            none_runs_all: false
        }
    );
    assert_eq!(lf(&["--ff"]), LastFailed::First);
    assert_eq!(
        lf(&["--failed-first", "--lf"]),
        LastFailed::Only {
            none_runs_all: true
        }
    );
}

#[test]
fn durations_and_their_minimum_are_read_and_bounded() {
    let d = |args: &[&str]| parse(args).unwrap().tests.durations_shown();
    assert_eq!(d(&[]), None);
    assert_eq!(d(&["--durations=5"]), Some((5, 5)));
    assert_eq!(
        d(&["--durations", "0", "--durations-min=1.5"]),
        Some((0, 1500))
    );
    assert_eq!(
        d(&["--durations=3", "-vv"]),
        Some((3, 0)),
        "-vv shows the short ones"
    );
    assert_eq!(d(&["--durations=3", "-vv", "-q"]), Some((3, 5)));
    for bad in [
        "--durations-min=-1",
        "--durations-min=7200",
        "--durations-min=abc",
    ] {
        assert!(parse(&["--durations=1", bad]).is_err(), "{bad}");
    }
}

#[test]
fn s_capture_no_and_nocapture_show_output() {
    let shown = |args: &[&str]| selection(args).0.show_output;
    assert!(!shown(&[]));
    assert!(!shown(&["--capture=fd"]));
    for args in [
        &["-s"][..],
        &["--capture=no"],
        &["--capture", "tee-sys"],
        &["--nocapture"],
    ] {
        assert!(shown(args), "{args:?}");
    }
}

#[test]
fn chromium_is_the_first_executable_of_the_names_along_path() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    // Not executable: passed over.
    std::fs::write(a.join("chromium"), "").unwrap();
    std::fs::write(b.join("chromium-browser"), "").unwrap();
    std::fs::set_permissions(
        b.join("chromium-browser"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let path = std::env::join_paths([&a, &b]).unwrap();
    let names = ["chromium", "chromium-browser"];
    assert_eq!(
        on_path(&names, Some(&path)),
        Some(b.join("chromium-browser"))
    );
    std::fs::set_permissions(a.join("chromium"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(on_path(&names, Some(&path)), Some(a.join("chromium")));
    assert_eq!(on_path(&names, None), None);
    assert_eq!(on_path(&["nothing-here"], Some(&path)), None);
}

#[test]
fn screenshots_take_auto_or_off_and_refuse_anything_else() {
    assert_eq!(
        parse(&[]).unwrap().screenshots,
        crate::runner::ScreenshotMode::Auto
    );
    let off = parse(&["--screenshots", "off"]).unwrap();
    assert_eq!(off.screenshots, crate::runner::ScreenshotMode::Off);
    let e = parse(&["--screenshots", "sometimes"]).unwrap_err();
    assert!(e.to_string().contains("expected auto or off"), "{e}");
}
