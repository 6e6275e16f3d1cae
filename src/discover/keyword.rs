//! The pytest `-k` keyword expression: `and`, `or`, `not`, parentheses and keywords, each keyword a
//! case-insensitive substring of the trial id. Parses and matches; never selects ops.

use std::fmt;

/// A parsed `-k` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyword {
    expr: Option<Expr>,
    source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Word(String),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
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
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        let col = s[..pos].chars().count() + 1;
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
            while i < chars.len() && is_word_char(chars[i].1) {
                i += 1;
            }
            let w: String = chars[start..i].iter().map(|(_, c)| c).collect();
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
    out.push((Tok::End, s.chars().count() + 1));
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<(Tok, usize)>,
    at: usize,
    src: &'a str,
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
        let mut e = self.and()?;
        while *self.peek() == Tok::Or {
            self.at += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }
    fn and(&mut self) -> Result<Expr, KeywordError> {
        let mut e = self.not()?;
        while *self.peek() == Tok::And {
            self.at += 1;
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }
    fn not(&mut self) -> Result<Expr, KeywordError> {
        match self.peek().clone() {
            Tok::Not => {
                self.at += 1;
                Ok(Expr::Not(Box::new(self.not()?)))
            }
            Tok::LParen => {
                self.at += 1;
                let e = self.or()?;
                if *self.peek() != Tok::RParen {
                    return Err(self.fail("right parenthesis"));
                }
                self.at += 1;
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
        Expr::And(a, b) => eval(a, id) && eval(b, id),
        Expr::Or(a, b) => eval(a, id) || eval(b, id),
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
}
