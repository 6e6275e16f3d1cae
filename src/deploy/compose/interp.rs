//! Variable interpolation in compose values, exactly as `docker stack deploy` (and abra, which vendors
//! the same loader) does it: `$$` is a literal `$`; `$VAR` and `${VAR}` (names `[_a-zA-Z][_a-zA-Z0-9]*`)
//! expand, unset to nothing; `${VAR:-default}` (unset or empty), `${VAR-default}` (unset),
//! `${VAR:?message}` and `${VAR?message}` (required). A default is taken literally up to the first `}`:
//! it is not interpolated again, so `${A:-${B}}` gives `${B` followed by `}`. There is no `:+`. Any
//! other `$` is an error. Docker's quirks are kept on purpose (see the tests): the goal is the stack
//! Docker would deploy, not the one a shell would. Pure string work.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// Why a value could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpError {
    /// `${VAR:?msg}` / `${VAR?msg}` with VAR missing: (variable, message).
    Required(String, String),
    /// A `$` Docker cannot read (`$1`, `${`, `${A:+x}`, a lone `$`): the whole template.
    Syntax(String),
}

impl std::fmt::Display for InterpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InterpError::Required(var, msg) => {
                write!(f, "required variable {var} is missing a value: {msg}")
            }
            InterpError::Syntax(t) => write!(
                f,
                "invalid interpolation format {t:?} (hint: write $$ for a literal $)"
            ),
        }
    }
}

static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    let subst = r"[_a-z][_a-z0-9]*(?::?[-?][^}]*)?";
    Regex::new(&format!(
        r"\$(?i:(?P<escaped>\$)|(?P<named>{subst})|\{{(?P<braced>{subst})\}}|(?P<invalid>))"
    ))
    .expect("valid regex")
});

/// Interpolates `input`, looking variables up with `lookup` (`None` = unset).
///
/// Like Docker, an error is the one of the *last* expansion that touched it: a later successful
/// `${X}` in the same string clears an earlier bad `$` (Docker then drops the bad `$` silently).
pub fn interpolate(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpError> {
    let mut err: Option<InterpError> = None;
    let out = PATTERN.replace_all(input, |c: &Captures| {
        if let Some(e) = c.name("escaped") {
            return e.as_str().to_string();
        }
        let sub = c
            .name("named")
            .or_else(|| c.name("braced"))
            .map(|m| m.as_str())
            .unwrap_or("");
        if sub.is_empty() {
            err = Some(InterpError::Syntax(input.to_string()));
            return String::new();
        }
        match substitute(sub, lookup) {
            Ok(v) => {
                err = None;
                v
            }
            Err(e) => {
                err = Some(e);
                String::new()
            }
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(out.into_owned()),
    }
}

/// One substitution, tried as Docker tries it: soft default, hard default, required non-empty,
/// required — each recognised by its separator appearing anywhere in the text.
fn substitute(sub: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, InterpError> {
    if let Some((name, default)) = sub.split_once(":-") {
        return Ok(lookup(name)
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_string()));
    }
    if let Some((name, default)) = sub.split_once('-') {
        return Ok(lookup(name).unwrap_or_else(|| default.to_string()));
    }
    for (sep, non_empty) in [(":?", true), ("?", false)] {
        if let Some((name, message)) = sub.split_once(sep) {
            return match lookup(name) {
                Some(v) if !non_empty || !v.is_empty() => Ok(v),
                _ => Err(InterpError::Required(name.to_string(), message.to_string())),
            };
        }
    }
    Ok(lookup(sub).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Result<String, InterpError> {
        let lookup = |k: &str| match k {
            "SET" => Some("v".to_string()),
            "EMPTY" => Some(String::new()),
            "lower" => Some("l".to_string()),
            "STACK_NAME" => Some("hello_x".to_string()),
            _ => None,
        };
        interpolate(s, &lookup)
    }

    #[test]
    fn plain_and_braced_variables_of_any_case() {
        assert_eq!(run("a $SET b ${SET}c").unwrap(), "a v b vc");
        assert_eq!(
            run("coop-cloud.${STACK_NAME}.version=1").unwrap(),
            "coop-cloud.hello_x.version=1"
        );
        assert_eq!(run("${UNSET}|$UNSET|$lower").unwrap(), "||l");
    }

    #[test]
    fn colon_dash_defaults_on_unset_or_empty() {
        assert_eq!(run("${UNSET:-d}").unwrap(), "d");
        assert_eq!(run("${EMPTY:-d}").unwrap(), "d");
        assert_eq!(run("${SET:-d}").unwrap(), "v");
        assert_eq!(run("${UNSET:-}").unwrap(), "");
        assert_eq!(run("${UNSET:-a b c}").unwrap(), "a b c");
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
    fn defaults_are_literal_up_to_the_first_closing_brace() {
        assert_eq!(run("${UNSET:-${SET}x}").unwrap(), "${SETx}");
        assert_eq!(run("${UNSET:-$SET}").unwrap(), "$SET");
        assert_eq!(run("${UNSET:-a}b}").unwrap(), "ab}");
        assert_eq!(run("x${UNSET:-{}}y").unwrap(), "x{}y");
    }

    #[test]
    fn a_dash_in_a_required_message_makes_it_a_default_as_in_docker() {
        assert_eq!(run("${UNSET:?must-be-set}").unwrap(), "be-set");
    }

    #[test]
    fn double_dollar_is_a_literal_dollar() {
        assert_eq!(
            run("echo $$GREETING $$$SET $${X}").unwrap(),
            "echo $GREETING $v ${X}"
        );
    }

    #[test]
    fn a_dollar_docker_cannot_read_is_an_error() {
        for bad in [
            "$1",
            "cost 5$",
            "${SET",
            "${SET:+alt}",
            "${EMPTY+alt}",
            "${:-x}",
        ] {
            assert!(
                matches!(run(bad), Err(InterpError::Syntax(_))),
                "{bad:?} → {:?}",
                run(bad)
            );
        }
    }

    #[test]
    fn a_later_good_expansion_hides_an_earlier_bad_dollar_as_in_docker() {
        assert_eq!(
            run("$1 $SET").unwrap(),
            "1 v",
            "the bad `$` is dropped, the 1 stays"
        );
    }

    #[test]
    fn names_end_at_the_first_non_name_character() {
        assert_eq!(run("$SET.x ${SET}_y $SET_z").unwrap(), "v.x v_y ");
    }
}
