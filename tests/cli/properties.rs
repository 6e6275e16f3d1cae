//! Property tests (proptest) over every parser that takes input from a person or a file: the spec
//! parser, recipe.yaml, spec text decoding, the `-k`/`-m` grammar, durations, the compose loader and
//! the env-file reader, and the ledger's line format. None may panic on any input; each round-trips
//! where it should. Case counts are bounded (`CASES`) so the properties run in the normal `cargo test`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use cc_ci::coord::event::{canonical, Event, NewEvent, GENESIS};
use cc_ci::discover::{Keyword, MarkExpr};
use cc_ci::duration::{parse_bounded, show};
use proptest::prelude::*;

/// Cases per property: enough to find what the hostile-input review found, small enough for CI.
const CASES: u32 = 256;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text that looks like YAML: keys of the spec language, indentation, flow collections, anchors,
/// quotes, odd bytes.
fn yamlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("tier: ".to_string()),
        Just("install".to_string()),
        Just("tests:".to_string()),
        Just("- name: ".to_string()),
        Just("converged: {}".to_string()),
        Just("exec: {service: app, command: true}".to_string()),
        Just("sleep: ".to_string()),
        Just("before_op:".to_string()),
        Just("op: {skip: x}".to_string()),
        Just("http_timeout: ".to_string()),
        Just("description: [1, 2]".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("<<: *a".to_string()),
        Just("---".to_string()),
        Just("\n".to_string()),
        Just("  ".to_string()),
        Just("\"".to_string()),
        Just("[".to_string()),
        Just("{".to_string()),
        "[0-9]{1,25}[hmsdy]?".prop_map(|s| s),
        any::<String>(),
    ];
    prop::collection::vec(token, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_spec_parser_never_panics(text in yamlish()) {
        let _ = cc_ci::spec::parse_spec_all(Path::new("p.yaml"), &text);
        let _ = cc_ci::spec::parse_meta_all(Path::new("recipe.yaml"), &text);
    }

    #[test]
    fn every_spec_error_names_its_file_and_a_position_inside_the_text(text in yamlish()) {
        if let Err(errors) = cc_ci::spec::parse_spec_all(Path::new("p.yaml"), &text) {
            prop_assert!(!errors.is_empty());
            let lines = text.lines().count().max(1) + 1;
            for e in errors {
                prop_assert!(e.to_string().starts_with("p.yaml"), "{e}");
                prop_assert!(e.line <= lines, "{e} (text has {lines} lines)");
            }
        }
    }

    #[test]
    fn spec_text_decoding_never_panics_and_accepts_exactly_clean_utf8(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let r = cc_ci::spec::decode_text(Path::new("b.yaml"), &bytes);
        let clean = std::str::from_utf8(&bytes).is_ok_and(|s| {
            !s.starts_with('\u{feff}')
                && !s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        });
        prop_assert_eq!(r.is_ok(), clean);
        if let Err(e) = r {
            prop_assert!(e.line >= 1 && e.column >= 1, "{}", e);
        }
    }

    #[test]
    fn keyword_and_mark_parsing_never_panic(s in "[a-z()\\t ]{0,60}|(not |\\(){0,300}x\\){0,300}|.{0,80}") {
        if let Ok(k) = Keyword::parse(&s) {
            let _ = k.matches("install::generic-tests/install.yaml::converged");
        }
        if let Ok(m) = MarkExpr::parse(&s) {
            let _ = m.matches(&["install", "generic"]);
        }
    }

    #[test]
    fn a_rendered_expression_parses_back_to_the_same_meaning(e in expr(), id in "[a-c]{0,6}") {
        let k = Keyword::parse(&e.render()).unwrap();
        prop_assert_eq!(k.matches(&id), e.eval(&id));
    }

    #[test]
    fn durations_never_panic_and_stay_in_their_bounds(s in "[0-9]{0,30}( ?[a-z]{0,6})?|.{0,20}") {
        let max = Duration::from_secs(90 * 86_400);
        if let Ok(d) = parse_bounded(&s, Duration::from_secs(1), max) {
            prop_assert!(d >= Duration::from_secs(1) && d <= max);
            prop_assert!(std::time::Instant::now().checked_add(d).is_some());
        }
        let _ = cc_ci::deploy::compose::parse_duration(&s);
    }

    #[test]
    fn a_shown_duration_parses_back_to_itself(secs in 0u64..(366 * 86_400), millis in 0u64..1000) {
        let d = Duration::from_secs(secs) + Duration::from_millis(millis);
        prop_assert_eq!(parse_bounded(&show(d), Duration::ZERO, Duration::MAX), Ok(d));
    }

    #[test]
    fn the_env_file_reader_never_panics_and_reads_back_what_it_is_given(
        text in ".{0,200}",
        vars in prop::collection::btree_map("[A-Z][A-Z0-9_]{0,8}", "[a-zA-Z0-9_./:-]{0,12}", 0..8),
    ) {
        let file = Path::new(".env.sample");
        let _ = cc_ci::deploy::compose::parse_env(file, &text);
        let written: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        prop_assert_eq!(cc_ci::deploy::compose::parse_env(file, &written).unwrap().vars, vars);
    }

    #[test]
    fn the_compose_loader_never_panics(text in yamlish(), dollar in "(\\$\\{?[A-Z_]{0,4}(:?[-?]?[a-z]{0,3})?\\}?|\\$\\$|[a-z ]){0,12}") {
        let vars: BTreeMap<String, String> = [("A".to_string(), "1".to_string())].into();
        let _ = cc_ci::deploy::compose::load_str(&text, Path::new("compose.yml"), &vars);
        let _ = cc_ci::deploy::compose::interpolate(&dollar, &|k| vars.get(k).cloned());
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("compose.yml"), format!("version: '3.8'\nservices:\n  app:\n    image: x\n{text}")).unwrap();
        std::fs::write(d.path().join(".env.sample"), &dollar).unwrap();
        let _ = cc_ci::deploy::compose::load(d.path(), "s", "d.example", &BTreeMap::new());
    }

    #[test]
    fn a_ledger_line_never_panics_and_an_event_round_trips_through_it(
        line in ".{0,200}",
        subject in any::<String>(),
        outcome in any::<String>(),
        key in any::<String>(),
        value in any::<String>(),
        seq in 1u64..u64::MAX / 2,
    ) {
        let _ = serde_json::from_str::<Event>(&line);
        let ev = cc_ci::coord::event::Stamped::stamp(
            NewEvent::new("op", subject, outcome).data(serde_json::json!({ key: value })),
            "host",
        )
        .chain(seq, GENESIS);
        let back: Event = serde_json::from_str(&ev.to_line()).unwrap();
        prop_assert_eq!(&back, &ev);
        prop_assert_eq!(back.compute_hash(), ev.hash.clone());
        prop_assert_eq!(canonical(&back.data), canonical(&ev.data));
    }
}

/// A `-k` expression with a reference meaning.
#[derive(Debug, Clone)]
enum E {
    Word(String),
    Not(Box<E>),
    And(Vec<E>),
    Or(Vec<E>),
}

impl E {
    fn render(&self) -> String {
        match self {
            E::Word(w) => w.clone(),
            E::Not(a) => format!("not ({})", a.render()),
            E::And(v) => v
                .iter()
                .map(|e| format!("({})", e.render()))
                .collect::<Vec<_>>()
                .join(" and "),
            E::Or(v) => v
                .iter()
                .map(|e| format!("({})", e.render()))
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }

    fn eval(&self, id: &str) -> bool {
        match self {
            E::Word(w) => id.contains(w.as_str()),
            E::Not(a) => !a.eval(id),
            E::And(v) => v.iter().all(|e| e.eval(id)),
            E::Or(v) => v.iter().any(|e| e.eval(id)),
        }
    }
}

fn expr() -> impl Strategy<Value = E> {
    let leaf = "[a-c]{1,2}"
        .prop_filter("keywords", |w| !matches!(w.as_str(), "or"))
        .prop_map(E::Word);
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| E::Not(Box::new(e))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(E::And),
            prop::collection::vec(inner, 2..4).prop_map(E::Or),
        ]
    })
}
