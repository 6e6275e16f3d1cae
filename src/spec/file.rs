//! A spec file: one tier, optional seed steps before the op, an optional op override, and named
//! tests with one check each. Parses text into a [`SpecFile`] with every error positioned.

use std::path::{Path, PathBuf};

use super::check::{check_names, parse_check, Check};
use super::decode::{f, Decoder, Field};
use super::error::{closest, SpecError, SpecErrorKind};
use super::node::{self, Value};
use super::step::{parse_op, parse_steps, OpOverride, Step};
use super::tier::Tier;

/// A parsed spec file. `path` is the path shown in trial ids (`overlays/hello/data.yaml`).
#[derive(Debug, Clone)]
pub struct SpecFile {
    pub path: PathBuf,
    pub tier: Tier,
    pub before_op: Vec<Step>,
    pub op: Option<OpOverride>,
    pub tests: Vec<TestCase>,
}

impl SpecFile {
    /// The trial id of one of this file's tests: `<tier>::<path>::<name>`, e.g.
    /// `upgrade::generic-tests/upgrade.yaml::deployed_head`.
    pub fn trial_id(&self, test: &TestCase) -> String {
        let path = self.path.to_string_lossy().replace('\\', "/");
        format!("{}::{}::{}", self.tier, path, test.name)
    }
}

/// One named test: a single check, optionally ignored with a reason (libtest `--ignored` semantics),
/// with the tags `cc-ci run -m` selects by.
#[derive(Debug, Clone)]
pub struct TestCase {
    pub name: String,
    pub line: usize,
    pub check: Check,
    pub ignore: Option<String>,
    pub tags: Vec<String>,
}

/// Top-level keys of a spec file.
pub const FILE_FIELDS: &[Field] = &[
    f("tier", "install | upgrade | backup | restore | custom", true, "the tier whose op these tests follow"),
    f("description", "string", false, "free text for people; ignored by the harness"),
    f("before_op", "list of steps", false, "steps run before the tier's op (seeding)"),
    f("op", "mapping", false, "replaces the tier's default op: `skip: <reason>`, `env: {…}` or `steps: […]` (backup/restore)"),
    f("tests", "list of tests", true, "the tests; each has a `name` and exactly one check"),
];

/// Keys of a test besides its check kind.
pub const TEST_FIELDS: &[Field] = &[
    f(
        "name",
        "name",
        true,
        "unique in the file; letters, digits, `_`, `-`, `.`; part of the trial id",
    ),
    f(
        "ignore",
        "string",
        false,
        "reason to skip this test unless run with `--ignored`",
    ),
    f(
        "tags",
        "list of names",
        false,
        "marks for `cc-ci run -m` (like pytest markers), e.g. `[slow, http]`",
    ),
];

/// Words of the `-m` grammar, which a tag cannot be.
const RESERVED_TAGS: [&str; 3] = ["and", "or", "not"];

/// Parses a spec file, returning the first error (see [`parse_spec_all`] for all of them).
pub fn parse_spec(display_path: &Path, text: &str) -> Result<SpecFile, SpecError> {
    parse_spec_all(display_path, text).map_err(|mut v| v.remove(0))
}

/// Parses a spec file, returning every error found (never an empty error list).
pub fn parse_spec_all(display_path: &Path, text: &str) -> Result<SpecFile, Vec<SpecError>> {
    if let Some(e) = super::source::check_text(display_path, text) {
        return Err(vec![e]);
    }
    let root = node::parse(text).map_err(|e| {
        vec![SpecError {
            file: display_path.to_path_buf(),
            line: e.line,
            column: e.column,
            key: None,
            kind: Box::new(SpecErrorKind::Syntax { message: e.message }),
        }]
    })?;
    let mut dec = Decoder::new(display_path);
    let spec = decode(&mut dec, &root, display_path);
    match (spec, dec.errors.is_empty()) {
        (Some(s), true) => Ok(s),
        _ if dec.errors.is_empty() => Err(vec![SpecError {
            file: display_path.to_path_buf(),
            line: root.line,
            column: root.column,
            key: None,
            kind: Box::new(SpecErrorKind::Io {
                message: "the spec could not be read".into(),
            }),
        }]),
        _ => {
            let mut errors = dec.errors;
            errors.sort_by_key(|e| (e.line, e.column));
            Err(errors)
        }
    }
}

fn decode(dec: &mut Decoder, root: &node::Node, path: &Path) -> Option<SpecFile> {
    let keys: Vec<&str> = FILE_FIELDS.iter().map(|f| f.name).collect();
    if root.is_null() {
        dec.invalid_hint(
            root,
            None,
            "spec file",
            "the file is empty".into(),
            Some("start with `tier: install` and `tests:`".into()),
        );
        return None;
    }
    let fl = dec.fields(root, None, "spec file", &keys)?;
    if let Some(n) = fl.get("description") {
        dec.string(n, "description", "spec file");
    }
    let tier = dec.required(&fl, "tier").and_then(|n| {
        let s = dec.string(n, "tier", "spec file")?;
        match s.parse::<Tier>() {
            Ok(t) => Some(t),
            Err(_) => {
                let hint = closest(&s, Tier::names()).map(|c| format!("did you mean `{c}`?"));
                dec.invalid_hint(
                    n,
                    Some("tier"),
                    "spec file",
                    format!(
                        "unknown tier `{s}` (expected one of: {})",
                        Tier::names().join(", ")
                    ),
                    hint,
                );
                None
            }
        }
    });
    let before_op = fl
        .get("before_op")
        .map(|n| parse_steps(dec, n, "before_op"));
    let op = match (fl.get("op"), tier) {
        (Some(n), Some(t)) => Some(parse_op(dec, n, t)),
        _ => None,
    };
    let tests = dec.required(&fl, "tests").and_then(|n| parse_tests(dec, n));
    Some(SpecFile {
        path: path.to_path_buf(),
        tier: tier?,
        before_op: before_op.unwrap_or(Some(Vec::new()))?,
        op: op.map_or(Some(None), |o| o.map(Some))?,
        tests: tests?,
    })
}

fn parse_tests(dec: &mut Decoder, node: &node::Node) -> Option<Vec<TestCase>> {
    let Value::Seq(items) = &node.value else {
        dec.wrong_type(node, Some("tests"), "spec file", "a list of tests");
        return None;
    };
    if items.is_empty() {
        dec.invalid_hint(
            node,
            Some("tests"),
            "spec file",
            "the list is empty".into(),
            Some("add at least one test".into()),
        );
        return None;
    }
    let kinds = check_names();
    let mut keys: Vec<&str> = TEST_FIELDS.iter().map(|f| f.name).collect();
    keys.extend(kinds.iter().copied());
    let mut out: Vec<TestCase> = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(fl) = dec.fields(item, None, "test", &keys) else {
            ok = false;
            continue;
        };
        let name = dec
            .required(&fl, "name")
            .and_then(|n| dec.name(n, "name", "test"));
        let ignore = fl.get("ignore").map(|n| dec.text(n, "ignore", "test"));
        let tags = fl.get("tags").map(|n| parse_tags(dec, n));
        let label = name
            .clone()
            .unwrap_or_else(|| format!("at line {}", item.line));
        let present: Vec<_> = fl
            .entries
            .iter()
            .filter(|(k, _, _)| kinds.contains(k))
            .collect();
        let raw_keys = match &item.value {
            Value::Map(m) => m.len(),
            _ => 0,
        };
        let check = match present.as_slice() {
            // An unknown key (already reported, with its closest kind) is most likely the check.
            [] if raw_keys > fl.entries.len() => None,
            [] => {
                dec.err(
                    item,
                    None,
                    SpecErrorKind::NoCheck {
                        test: label,
                        expected: kinds.iter().map(|s| s.to_string()).collect(),
                    },
                );
                None
            }
            [(k, _, v)] => parse_check(dec, k, v),
            [(k1, _, _), (k2, kn, _), ..] => {
                dec.err(
                    kn,
                    Some(k2),
                    SpecErrorKind::TwoChecks {
                        test: label,
                        first: k1.to_string(),
                        second: k2.to_string(),
                    },
                );
                None
            }
        };
        if let Some(n) = &name {
            if let Some(first) = out.iter().find(|t| &t.name == n) {
                let first_line = first.line;
                dec.err(
                    item,
                    Some("name"),
                    SpecErrorKind::DuplicateTest {
                        name: n.clone(),
                        first_line,
                    },
                );
                ok = false;
                continue;
            }
        }
        match (
            name,
            check,
            ignore.unwrap_or(Some(String::new())),
            tags.unwrap_or(Some(Vec::new())),
        ) {
            (Some(name), Some(check), Some(ig), Some(tags)) => out.push(TestCase {
                name,
                line: item.line,
                check,
                ignore: (!ig.is_empty()).then_some(ig),
                tags,
            }),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

/// `tags: [slow, http]` (or one name): names, none of them a word of the `-m` grammar.
fn parse_tags(dec: &mut Decoder, node: &node::Node) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut ok = true;
    for n in dec.list(node, "tags", "test")? {
        match dec.name(n, "tags", "test") {
            Some(t) if RESERVED_TAGS.contains(&t.as_str()) => {
                dec.invalid_hint(
                    n,
                    Some("tags"),
                    "test",
                    format!("`{t}` is a word of the `-m` grammar and cannot be a tag"),
                    Some(format!("name it e.g. `{t}_`")),
                );
                ok = false;
            }
            Some(t) if !out.contains(&t) => out.push(t),
            Some(_) => {}
            None => ok = false,
        }
    }
    ok.then_some(out)
}
