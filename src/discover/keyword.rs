//! pytest's `-k` keyword expression and `-m` marker expression: `and`, `or`, `not`, parentheses and
//! identifiers, lexed as pytest lexes them (only spaces and tabs separate tokens: a newline is refused).
//! Under `-k` an identifier is a case-insensitive substring of the trial id (or, as in pytest, of one of
//! its marks); under `-m` it is the exact
//! name of one of the trial's marks (its tier, its kind, its tags). Parses and matches; never selects ops.
//! Nesting (`not`, parentheses) is bounded by [`MAX_DEPTH`] and `and`/`or` chains are flat, so no
//! expression can overflow the stack while parsing, matching or being dropped.

use std::fmt;

/// A parsed `-k` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyword {
    expr: Option<Expr>,
    source: String,
}

/// A parsed `-m` expression: identifiers name marks exactly (case-sensitive, as in pytest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkExpr {
    expr: Option<Expr>,
    source: String,
}

/// The deepest nesting of `not` and parentheses an expression may have.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Word(String),
    Not(Box<Expr>),
    /// Every operand holds (a chain `a and b and c` is one node).
    And(Vec<Expr>),
    /// Some operand holds.
    Or(Vec<Expr>),
}

/// A syntax error in a `-k` or `-m` expression, with its 1-based column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad {option} expression {expr:?} at column {column}: expected {expected}, got {got} (hint: identifiers combine with `and`, `or`, `not` and parentheses)")]
pub struct KeywordError {
    /// `-k` or `-m`.
    pub option: &'static str,
    pub expr: String,
    pub column: usize,
    pub expected: String,
    pub got: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Word(String),
    End,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::LParen => f.write_str("left parenthesis"),
            Tok::RParen => f.write_str("right parenthesis"),
            Tok::And => f.write_str("`and`"),
            Tok::Or => f.write_str("`or`"),
            Tok::Not => f.write_str("`not`"),
            Tok::Word(w) => write!(f, "identifier `{w}`"),
            Tok::End => f.write_str("end of input"),
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | ':' | '+' | '-' | '.' | '[' | ']' | '\\' | '/')
}

/// pytest's scanner skips spaces and tabs only; any other whitespace (a newline) is an error.
fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn lex(s: &str, option: &'static str) -> Result<Vec<(Tok, usize)>, KeywordError> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if is_blank(c) {
            i += 1;
        } else if c == '(' {
            out.push((Tok::LParen, col));
            i += 1;
        } else if c == ')' {
            out.push((Tok::RParen, col));
            i += 1;
        } else if is_word_char(c) {
            let start = i;
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
            let w: String = chars[start..i].iter().collect();
            let t = match w.as_str() {
                "and" => Tok::And,
                "or" => Tok::Or,
                "not" => Tok::Not,
                _ => Tok::Word(w),
            };
            out.push((t, col));
        } else {
            return Err(KeywordError {
                option,
                expr: s.into(),
                column: col,
                expected: "an identifier, `and`, `or`, `not` or a parenthesis".into(),
                got: format!("the character {c:?}"),
            });
        }
    }
    out.push((Tok::End, chars.len() + 1));
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<(Tok, usize)>,
    at: usize,
    src: &'a str,
    option: &'static str,
    /// `not`s and parentheses open around the current token.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].0
    }
    fn fail(&self, expected: &str) -> KeywordError {
        let (t, col) = &self.toks[self.at];
        KeywordError {
            option: self.option,
            expr: self.src.into(),
            column: *col,
            expected: expected.into(),
            got: t.to_string(),
        }
    }
    fn or(&mut self) -> Result<Expr, KeywordError> {
        let mut terms = vec![self.and()?];
        while *self.peek() == Tok::Or {
            self.at += 1;
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }
    fn and(&mut self) -> Result<Expr, KeywordError> {
        let mut terms = vec![self.not()?];
        while *self.peek() == Tok::And {
            self.at += 1;
            terms.push(self.not()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }
    /// Enters one level of nesting, refusing to go deeper than [`MAX_DEPTH`].
    fn deeper(&mut self) -> Result<(), KeywordError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.fail(&format!(
                "at most {MAX_DEPTH} nested `not`s and parentheses"
            )));
        }
        Ok(())
    }
    fn not(&mut self) -> Result<Expr, KeywordError> {
        match self.peek().clone() {
            Tok::Not => {
                self.deeper()?;
                self.at += 1;
                let e = Expr::Not(Box::new(self.not()?));
                self.depth -= 1;
                Ok(e)
            }
            Tok::LParen => {
                self.deeper()?;
                self.at += 1;
                let e = self.or()?;
                if *self.peek() != Tok::RParen {
                    return Err(self.fail("right parenthesis"));
                }
                self.at += 1;
                self.depth -= 1;
                Ok(e)
            }
            Tok::Word(w) => {
                self.at += 1;
                Ok(Expr::Word(w))
            }
            _ => Err(self.fail("not OR left parenthesis OR identifier")),
        }
    }
}

/// Parses `expr` for `option` (`-k` or `-m`); `None` when it is empty or blank (matches everything).
fn parse(expr: &str, option: &'static str) -> Result<Option<Expr>, KeywordError> {
    let toks = lex(expr, option)?;
    if toks.len() == 1 {
        return Ok(None);
    }
    let mut p = Parser {
        toks,
        at: 0,
        src: expr,
        option,
        depth: 0,
    };
    let e = p.or()?;
    if *p.peek() != Tok::End {
        return Err(p.fail("end of input"));
    }
    Ok(Some(e))
}

impl Keyword {
    /// Parses an expression; an empty or blank one matches everything.
    pub fn parse(expr: &str) -> Result<Keyword, KeywordError> {
        Ok(Keyword {
            expr: parse(expr, "-k")?.map(|e| e.lowercased()),
            source: expr.into(),
        })
    }

    /// Whether the trial id is selected.
    pub fn matches(&self, test_id: &str) -> bool {
        self.matches_names(&[test_id])
    }

    /// Whether a trial known by `names` (its id, and its marks as pytest's `-k` also sees them) is
    /// selected: an identifier is true when it is a substring of one of the names.
    pub fn matches_names<S: AsRef<str>>(&self, names: &[S]) -> bool {
        let names: Vec<String> = names.iter().map(|n| n.as_ref().to_lowercase()).collect();
        self.expr
            .as_ref()
            .is_none_or(|e| e.eval(&|w| names.iter().any(|n| n.contains(w))))
    }

    /// The expression as typed.
    pub fn source(&self) -> &str {
        &self.source
    }
}

impl MarkExpr {
    /// Parses a `-m` expression; an empty or blank one matches everything.
    pub fn parse(expr: &str) -> Result<MarkExpr, KeywordError> {
        Ok(MarkExpr {
            expr: parse(expr, "-m")?,
            source: expr.into(),
        })
    }

    /// Whether a trial carrying `marks` is selected: an identifier is true when it equals one mark.
    pub fn matches<S: AsRef<str>>(&self, marks: &[S]) -> bool {
        self.expr
            .as_ref()
            .is_none_or(|e| e.eval(&|w| marks.iter().any(|m| m.as_ref() == w)))
    }

    /// The expression as typed.
    pub fn source(&self) -> &str {
        &self.source
    }
}

impl Expr {
    fn lowercased(self) -> Expr {
        match self {
            Expr::Word(w) => Expr::Word(w.to_lowercase()),
            Expr::Not(a) => Expr::Not(Box::new(a.lowercased())),
            Expr::And(terms) => Expr::And(terms.into_iter().map(Expr::lowercased).collect()),
            Expr::Or(terms) => Expr::Or(terms.into_iter().map(Expr::lowercased).collect()),
        }
    }

    fn eval(&self, word: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Expr::Word(w) => word(w),
            Expr::Not(a) => !a.eval(word),
            Expr::And(terms) => terms.iter().all(|t| t.eval(word)),
            Expr::Or(terms) => terms.iter().any(|t| t.eval(word)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: [&str; 4] = [
        "install::generic-tests/install.yaml::converged",
        "upgrade::generic-tests/upgrade.yaml::deployed_head",
        "backup::overlays/hello/data.yaml::seed_recorded",
        "restore::overlays/hello/data.yaml::seed_survived",
    ];

    fn sel(expr: &str) -> Vec<&'static str> {
        let k = Keyword::parse(expr).unwrap();
        IDS.iter().copied().filter(|id| k.matches(id)).collect()
    }

    #[test]
    fn a_keyword_is_a_case_insensitive_substring() {
        assert_eq!(sel("HEAD"), [IDS[1]]);
        assert_eq!(sel("hello/data"), [IDS[2], IDS[3]]);
        assert_eq!(sel("upgrade::generic-tests"), [IDS[1]]);
    }

    #[test]
    fn and_or_not_and_parentheses_follow_pytest_precedence() {
        assert_eq!(sel("not generic"), [IDS[2], IDS[3]]);
        assert_eq!(sel("install or restore and seed"), [IDS[0], IDS[3]]);
        assert_eq!(sel("(install or restore) and not seed"), [IDS[0]]);
        assert_eq!(sel("not not converged"), [IDS[0]]);
        assert_eq!(sel("seed and not survived or converged"), [IDS[0], IDS[2]]);
    }

    #[test]
    fn an_empty_expression_selects_everything() {
        assert_eq!(sel("  ").len(), 4);
    }

    #[test]
    fn bad_syntax_names_the_column() {
        let e = Keyword::parse("install and").unwrap_err();
        assert_eq!(e.column, 12);
        assert_eq!(e.got, "end of input");
        let e = Keyword::parse("(install").unwrap_err();
        assert_eq!((e.column, e.expected.as_str()), (9, "right parenthesis"));
        let e = Keyword::parse("install restore").unwrap_err();
        assert_eq!(e.column, 9);
        let e = Keyword::parse("a $ b").unwrap_err();
        assert_eq!(e.column, 3);
        assert!(e.to_string().contains("column 3"), "{e}");
        assert!(Keyword::parse("or").is_err());
    }

    #[test]
    fn deep_nesting_is_refused_and_long_chains_are_fine() {
        let parens = format!("{}x{}", "(".repeat(2600), ")".repeat(2600));
        let e = Keyword::parse(&parens).unwrap_err();
        assert_eq!(e.column, MAX_DEPTH + 1);
        assert!(e.to_string().contains("at most 64 nested"), "{e}");
        let nots = format!("{}x", "not ".repeat(10_000));
        assert!(Keyword::parse(&nots).is_err());
        assert!(MarkExpr::parse(&nots).is_err());
        let ok = format!("{}x{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(Keyword::parse(&ok).unwrap().matches("x"));
        let chain = vec!["x"; 100_000].join(" or ");
        let k = Keyword::parse(&chain).unwrap();
        assert!(k.matches("x") && !k.matches("y"));
        let chain = vec!["x"; 100_000].join(" and ");
        assert!(Keyword::parse(&chain).unwrap().matches("x"));
    }

    #[test]
    fn only_spaces_and_tabs_separate_tokens_as_in_pytest() {
        assert_eq!(sel("converged\tor head"), [IDS[0], IDS[1]]);
        let e = Keyword::parse("converged\n").unwrap_err();
        assert_eq!((e.column, e.got.as_str()), (10, "the character '\\n'"));
        assert!(e.to_string().starts_with("bad -k expression"), "{e}");
        assert!(Keyword::parse("a\r").is_err());
    }

    #[test]
    fn a_mark_expression_names_marks_exactly_and_case_sensitively() {
        let marks = ["install", "generic", "slow"];
        let m = |e: &str| MarkExpr::parse(e).unwrap().matches(&marks);
        assert!(m("install and not upgrade"));
        assert!(m("slow or nothing"));
        assert!(!m("inst"), "a mark is never a substring");
        assert!(!m("Install"), "marks are case-sensitive");
        assert!(m(""));
        let e = MarkExpr::parse("install and").unwrap_err();
        assert!(e.to_string().starts_with("bad -m expression"), "{e}");
    }
}
