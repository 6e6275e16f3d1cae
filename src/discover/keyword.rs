//! The pytest `-k` keyword expression: `and`, `or`, `not`, parentheses and keywords, each keyword a
//! case-insensitive substring of the trial id. Parses and matches; never selects ops. Nesting (`not`,
//! parentheses) is bounded by [`MAX_DEPTH`] and `and`/`or` chains are flat, so no expression can
//! overflow the stack while parsing, matching or being dropped.

use std::fmt;

/// A parsed `-k` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyword {
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

/// A syntax error in a `-k` expression, with its 1-based column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad -k expression {expr:?} at column {column}: expected {expected}, got {got} (hint: keywords combine with `and`, `or`, `not` and parentheses)")]
pub struct KeywordError {
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

fn lex(s: &str) -> Result<Vec<(Tok, usize)>, KeywordError> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
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
                expr: s.into(),
                column: col,
                expected: "a keyword, `and`, `or`, `not` or a parenthesis".into(),
                got: format!("the character `{c}`"),
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
                Ok(Expr::Word(w.to_lowercase()))
            }
            _ => Err(self.fail("not OR left parenthesis OR identifier")),
        }
    }
}

impl Keyword {
    /// Parses an expression; an empty or blank one matches everything.
    pub fn parse(expr: &str) -> Result<Keyword, KeywordError> {
        let toks = lex(expr)?;
        if toks.len() == 1 {
            return Ok(Keyword {
                expr: None,
                source: expr.into(),
            });
        }
        let mut p = Parser {
            toks,
            at: 0,
            src: expr,
            depth: 0,
        };
        let e = p.or()?;
        if *p.peek() != Tok::End {
            return Err(p.fail("end of input"));
        }
        Ok(Keyword {
            expr: Some(e),
            source: expr.into(),
        })
    }

    /// Whether the trial id is selected.
    pub fn matches(&self, test_id: &str) -> bool {
        let id = test_id.to_lowercase();
        self.expr.as_ref().is_none_or(|e| eval(e, &id))
    }

    /// The expression as typed.
    pub fn source(&self) -> &str {
        &self.source
    }
}

fn eval(e: &Expr, id: &str) -> bool {
    match e {
        Expr::Word(w) => id.contains(w.as_str()),
        Expr::Not(a) => !eval(a, id),
        Expr::And(terms) => terms.iter().all(|t| eval(t, id)),
        Expr::Or(terms) => terms.iter().any(|t| eval(t, id)),
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
        let ok = format!("{}x{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(Keyword::parse(&ok).unwrap().matches("x"));
        let chain = vec!["x"; 100_000].join(" or ");
        let k = Keyword::parse(&chain).unwrap();
        assert!(k.matches("x") && !k.matches("y"));
        let chain = vec!["x"; 100_000].join(" and ");
        assert!(Keyword::parse(&chain).unwrap().matches("x"));
    }
}
