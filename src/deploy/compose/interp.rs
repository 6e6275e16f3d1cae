//! Variable interpolation in compose values, as `docker stack deploy` does it: `$VAR`, `${VAR}`,
//! `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `${VAR:+alt}`,
//! `${VAR+alt}` and `$$` for a literal `$`. Defaults may nest further interpolation. Pure string work.

/// Why a value could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpError {
    /// `${VAR:?msg}` / `${VAR?msg}` with VAR missing: (variable, message).
    Required(String, String),
    /// A `${` without its `}` or an invalid name.
    Syntax(String),
}

/// Interpolates `input`, looking variables up with `lookup`.
pub fn interpolate(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpError> {
    let mut out = String::with_capacity(input.len());
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('$') => {
                out.push('$');
                i += 2;
            }
            Some('{') => {
                let end = matching_brace(&chars, i + 1)
                    .ok_or_else(|| InterpError::Syntax(format!("unclosed `${{` in {input:?}")))?;
                let inner: String = chars[i + 2..end].iter().collect();
                out.push_str(&expand(&inner, lookup)?);
                i = end + 1;
            }
            Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let name: String = chars[i + 1..j].iter().collect();
                out.push_str(&lookup(&name).unwrap_or_default());
                i = j;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Index of the `}` closing the `{` at `open`, counting nested `${…}`.
fn matching_brace(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn expand(inner: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, InterpError> {
    let name_end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(InterpError::Syntax(format!(
            "invalid variable name in `${{{inner}}}`"
        )));
    }
    let rest = &inner[name_end..];
    let value = lookup(name);
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    let (op, arg) = if rest.starts_with(":-") || rest.starts_with(":?") || rest.starts_with(":+") {
        (&rest[..2], &rest[2..])
    } else if rest.is_empty() {
        ("", "")
    } else {
        (&rest[..1], &rest[1..])
    };
    match op {
        "" => Ok(value.unwrap_or_default()),
        ":-" if non_empty => Ok(value.unwrap_or_default()),
        ":-" => interpolate(arg, lookup),
        "-" if set => Ok(value.unwrap_or_default()),
        "-" => interpolate(arg, lookup),
        ":?" if non_empty => Ok(value.unwrap_or_default()),
        "?" if set => Ok(value.unwrap_or_default()),
        ":?" | "?" => Err(InterpError::Required(
            name.to_string(),
            interpolate(arg, lookup)?,
        )),
        ":+" if non_empty => interpolate(arg, lookup),
        "+" if set => interpolate(arg, lookup),
        ":+" | "+" => Ok(String::new()),
        _ => Err(InterpError::Syntax(format!(
            "unsupported expansion `${{{inner}}}`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Result<String, InterpError> {
        let lookup = |k: &str| match k {
            "SET" => Some("v".to_string()),
            "EMPTY" => Some(String::new()),
            "STACK_NAME" => Some("hello_x".to_string()),
            _ => None,
        };
        interpolate(s, &lookup)
    }

    #[test]
    fn plain_and_braced_variables() {
        assert_eq!(run("a $SET b ${SET}c").unwrap(), "a v b vc");
        assert_eq!(
            run("coop-cloud.${STACK_NAME}.version=1").unwrap(),
            "coop-cloud.hello_x.version=1"
        );
        assert_eq!(run("${UNSET}|$UNSET").unwrap(), "|");
    }

    #[test]
    fn colon_dash_defaults_on_unset_or_empty() {
        assert_eq!(run("${UNSET:-d}").unwrap(), "d");
        assert_eq!(run("${EMPTY:-d}").unwrap(), "d");
        assert_eq!(run("${SET:-d}").unwrap(), "v");
    }

    #[test]
    fn dash_defaults_only_on_unset() {
        assert_eq!(run("${UNSET-d}").unwrap(), "d");
        assert_eq!(run("${EMPTY-d}").unwrap(), "");
    }

    #[test]
    fn required_variables_fail_with_their_message() {
        assert_eq!(
            run("${UNSET:?set UNSET please}").unwrap_err(),
            InterpError::Required("UNSET".into(), "set UNSET please".into())
        );
        assert!(run("${EMPTY:?x}").is_err());
        assert_eq!(run("${EMPTY?x}").unwrap(), "");
        assert_eq!(run("${SET:?x}").unwrap(), "v");
    }

    #[test]
    fn alternatives_apply_when_set() {
        assert_eq!(run("${SET:+alt}").unwrap(), "alt");
        assert_eq!(run("${UNSET:+alt}").unwrap(), "");
        assert_eq!(run("${EMPTY+alt}").unwrap(), "alt");
    }

    #[test]
    fn double_dollar_is_a_literal_dollar() {
        assert_eq!(run("echo $$GREETING $$$SET").unwrap(), "echo $GREETING $v");
    }

    #[test]
    fn defaults_nest() {
        assert_eq!(run("${UNSET:-${SET}-x}").unwrap(), "v-x");
    }

    #[test]
    fn unclosed_brace_is_a_syntax_error() {
        assert!(matches!(run("${SET"), Err(InterpError::Syntax(_))));
    }

    #[test]
    fn lone_dollar_is_kept() {
        assert_eq!(run("cost: 5$ or $1").unwrap(), "cost: 5$ or $1");
    }
}
