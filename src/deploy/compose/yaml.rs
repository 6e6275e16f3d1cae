//! Reading one compose file's YAML as Docker's loader (go-yaml v3) reads it: merge keys (`<<: *a`
//! and `<<: [*a, *b]`, explicit keys winning, earlier merges winning over later ones) are applied;
//! plain scalars resolve as go-yaml resolves them (`0555` is octal, `1_000` is 1000, `08` is 8,
//! `true`/`false` are booleans, `yes` is a string); quoted scalars stay strings. Every value's line is
//! kept by its key path (`services.app.ports[0]`) so later errors can name it. Built on the project's
//! positioned YAML reader (`spec::node`), which also refuses alias bombs and second documents.

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Number, Value};

use crate::spec::node::{self, Node, Value as N};

/// Lines of the values of one file, by key path.
pub type Lines = BTreeMap<String, usize>;

/// A YAML problem with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

/// Parses `text` into a value with merge keys applied, and the line of every key path.
pub fn parse(text: &str) -> Result<(Value, Lines), YamlError> {
    let root = node::parse(text).map_err(|e| YamlError {
        line: e.line,
        message: e.message,
    })?;
    let root = merged(root)?;
    let mut lines = Lines::new();
    let v = to_value(&root, "", &mut lines)?;
    Ok((v, lines))
}

/// The node with every `<<` merge key applied, innermost first.
fn merged(n: Node) -> Result<Node, YamlError> {
    let (line, column) = (n.line, n.column);
    let value = match n.value {
        N::Seq(items) => N::Seq(items.into_iter().map(merged).collect::<Result<_, _>>()?),
        N::Map(entries) => {
            let mut own: Vec<(Node, Node)> = Vec::new();
            let mut merges: Vec<Node> = Vec::new();
            for (k, v) in entries {
                let v = merged(v)?;
                let is_merge =
                    matches!(&k.value, N::Scalar { text, quoted: false } if text == "<<");
                if is_merge {
                    merges.push(v);
                } else {
                    own.push((k, v));
                }
            }
            for m in merges {
                let sources = match m.value {
                    N::Map(_) => vec![m],
                    N::Seq(items) => items,
                    _ => return Err(bad_merge(&m)),
                };
                for src in sources {
                    let N::Map(src_entries) = src.value else {
                        return Err(bad_merge(&src));
                    };
                    for (k, v) in src_entries {
                        if !own.iter().any(|(o, _)| same_key(o, &k)) {
                            own.push((k, v));
                        }
                    }
                }
            }
            N::Map(own)
        }
        other => other,
    };
    Ok(Node {
        value,
        line,
        column,
    })
}

fn bad_merge(n: &Node) -> YamlError {
    YamlError {
        line: n.line,
        message: format!(
            "`<<` merges a mapping or a list of mappings, not {} (hint: point it at an anchor of a mapping, e.g. `<<: *defaults`)",
            n.describe()
        ),
    }
}

fn same_key(a: &Node, b: &Node) -> bool {
    a.scalar().is_some() && a.scalar() == b.scalar()
}

fn to_value(n: &Node, path: &str, lines: &mut Lines) -> Result<Value, YamlError> {
    lines.insert(path.to_string(), n.line);
    Ok(match &n.value {
        N::Null => Value::Null,
        N::Scalar { text, quoted: true } => Value::String(text.clone()),
        N::Scalar {
            text,
            quoted: false,
        } => resolve_plain(text),
        N::Seq(items) => Value::Sequence(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| to_value(item, &format!("{path}[{i}]"), lines))
                .collect::<Result<_, _>>()?,
        ),
        N::Map(entries) => {
            let mut m = Mapping::new();
            for (k, v) in entries {
                let Some(key) = k.scalar() else {
                    return Err(YamlError {
                        line: k.line,
                        message: "a key must be a plain word, not a list or a mapping".into(),
                    });
                };
                let sub = if path.is_empty() {
                    key.to_string()
                } else {
                    format!("{path}.{key}")
                };
                let value = to_value(v, &sub, lines)?;
                m.insert(Value::String(key.to_string()), value);
            }
            Value::Mapping(m)
        }
    })
}

/// A plain scalar as go-yaml v3 resolves it.
pub fn resolve_plain(text: &str) -> Value {
    match text {
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Number(Number::from(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Number(Number::from(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Value::Number(Number::from(f64::NAN)),
        _ => {}
    }
    let numeric_start = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.'));
    if !numeric_start {
        return Value::String(text.to_string());
    }
    let plain = text.replace('_', "");
    if let Some(i) = go_parse_int(&plain) {
        return Value::Number(Number::from(i));
    }
    if let Some(u) = go_parse_uint(&plain) {
        return Value::Number(Number::from(u));
    }
    if is_yaml_float(&plain) {
        if let Ok(f) = plain.parse::<f64>() {
            return Value::Number(Number::from(f));
        }
    }
    Value::String(text.to_string())
}

/// Go's `strconv.ParseInt(s, 0, 64)`: sign, then `0x`/`0o`/`0b` or a leading `0` (octal) or decimal.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mag = go_parse_uint(body)?;
    if neg {
        if mag <= i64::MAX as u64 + 1 {
            Some((mag as i128).wrapping_neg() as i64)
        } else {
            None
        }
    } else {
        i64::try_from(mag).ok()
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)` (no sign).
fn go_parse_uint(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// go-yaml's float syntax: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        None => digits(mantissa),
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
    };
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exp_ok
}

/// A number as Go's `fmt.Sprint` writes it (how Docker turns a number into an env or label value):
/// integers as they are, floats in `%g` form (`1.5`, `1000`, `1e+06`).
pub fn go_number_string(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if f == 0.0 {
        return "0".into();
    }
    // Shortest round-trip digits, then Go's %v choice: exponent form when exp < -4 || exp >= 6.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Value {
        parse(text).unwrap().0
    }

    #[test]
    fn merge_keys_apply_with_explicit_keys_winning() {
        let x = v("x-env: &env\n  A: a\n  B: b\nservices:\n  app:\n    environment:\n      <<: *env\n      B: own\n");
        let env = &x["services"]["app"]["environment"];
        assert_eq!(env["A"], Value::from("a"));
        assert_eq!(env["B"], Value::from("own"));
        assert!(env.get("<<").is_none());
    }

    #[test]
    fn a_list_of_merges_gives_earlier_maps_precedence() {
        let x = v("a: &a {k: 1, only_a: 1}\nb: &b {k: 2, only_b: 2}\nc:\n  <<: [*a, *b]\n");
        assert_eq!(x["c"]["k"], Value::from(1));
        assert_eq!(x["c"]["only_b"], Value::from(2));
    }

    #[test]
    fn chained_merges_resolve() {
        let x = v("base: &base {a: 1}\nmid: &mid\n  <<: *base\n  b: 2\ntop:\n  <<: *mid\n  c: 3\n");
        let top = x["top"].as_mapping().unwrap();
        assert_eq!(top.len(), 3, "{top:?}");
        assert_eq!(x["top"]["a"], Value::from(1));
    }

    #[test]
    fn a_merge_of_a_scalar_is_an_error_with_its_line() {
        let e = parse("a:\n  b: 1\n  <<: nope\n").unwrap_err();
        assert_eq!(e.line, 3, "{e:?}");
    }

    #[test]
    fn plain_scalars_resolve_like_go_yaml() {
        let x = v("a: 0555\nb: 1_000\nc: 08\nd: 0o17\ne: 0x1F\nf: 1e3\ng: yes\nh: true\ni: '0555'\nj: .5\nk: -0\nl: 1.50\nm: 12345678901234567890\n");
        assert_eq!(x["a"], Value::from(365));
        assert_eq!(x["b"], Value::from(1000));
        assert_eq!(x["c"], Value::from(8.0));
        assert_eq!(x["d"], Value::from(15));
        assert_eq!(x["e"], Value::from(31));
        assert_eq!(x["f"], Value::from(1000.0));
        assert_eq!(x["g"], Value::from("yes"));
        assert_eq!(x["h"], Value::Bool(true));
        assert_eq!(x["i"], Value::from("0555"));
        assert_eq!(x["j"], Value::from(0.5));
        assert_eq!(x["k"], Value::from(0));
        assert_eq!(x["m"], Value::from(12345678901234567890u64));
    }

    #[test]
    fn numbers_print_as_go_prints_them() {
        let s = |t: &str| match &v(&format!("a: {t}"))["a"] {
            Value::Number(n) => go_number_string(n),
            other => panic!("{other:?}"),
        };
        assert_eq!(s("0400"), "256");
        assert_eq!(s("1.50"), "1.5");
        assert_eq!(s("1e3"), "1000");
        assert_eq!(s("1.0"), "1");
        assert_eq!(s("1e6"), "1e+06");
        assert_eq!(s("123456.5"), "123456.5");
        assert_eq!(s("1234567.0"), "1.234567e+06");
        assert_eq!(s("0.00001"), "1e-05");
        assert_eq!(s(".5"), "0.5");
    }

    #[test]
    fn lines_are_kept_by_key_path() {
        let (_, lines) = parse("services:\n  app:\n    ports:\n      - 80\n      - 81\n").unwrap();
        assert_eq!(lines["services.app.ports[1]"], 5);
    }
}
