//! The app env a recipe is deployed with, assembled as abra does: `.env.sample` (the app's env file),
//! then the `export X=Y` lines of `abra.sh` (config versions), then the caller's overrides, then
//! `STACK_NAME` and `DOMAIN`. Also reads the `# length=N` hints of `SECRET_*_VERSION` lines. Pure
//! parsing: it never runs `abra.sh`.

use std::collections::BTreeMap;
use std::path::Path;

/// A parsed env file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EnvFile {
    pub vars: BTreeMap<String, String>,
    /// Secret name (`api_key` from `SECRET_API_KEY_VERSION`) → wanted length, from `# length=N`.
    pub secret_lengths: BTreeMap<String, usize>,
}

/// Parses `KEY=VALUE` lines (optionally `export `-prefixed, quoted, with trailing `# comments`).
pub fn parse_env(text: &str) -> EnvFile {
    let mut env = EnvFile::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((key, rest)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = rest.trim();
        let (value, comment) = split_value(rest);
        if let Some(name) = key
            .strip_prefix("SECRET_")
            .and_then(|k| k.strip_suffix("_VERSION"))
        {
            if let Some(n) = comment
                .split_whitespace()
                .find_map(|w| w.strip_prefix("length="))
            {
                if let Ok(n) = n.parse() {
                    env.secret_lengths.insert(name.to_ascii_lowercase(), n);
                }
            }
        }
        env.vars.insert(key.to_string(), value);
    }
    env
}

/// Splits a raw value into (unquoted value, trailing comment).
fn split_value(rest: &str) -> (String, &str) {
    for q in ['"', '\''] {
        if let Some(body) = rest.strip_prefix(q) {
            if let Some(end) = body.find(q) {
                let after = body[end + 1..].trim_start();
                return (
                    body[..end].to_string(),
                    after.strip_prefix('#').unwrap_or(""),
                );
            }
        }
    }
    match rest.find(" #") {
        Some(i) => (rest[..i].trim().to_string(), &rest[i + 2..]),
        None => (rest.to_string(), ""),
    }
}

/// The full env of an app: `.env.sample` < `abra.sh` exports < `overrides` < STACK_NAME, DOMAIN.
pub fn app_env(
    checkout: &Path,
    stack: &str,
    domain: &str,
    overrides: &BTreeMap<String, String>,
) -> std::io::Result<EnvFile> {
    let mut env = match std::fs::read_to_string(checkout.join(".env.sample")) {
        Ok(t) => parse_env(&t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => EnvFile::default(),
        Err(e) => return Err(e),
    };
    match std::fs::read_to_string(checkout.join("abra.sh")) {
        Ok(t) => {
            let exports: String = t
                .lines()
                .filter(|l| l.trim_start().starts_with("export "))
                .map(|l| format!("{l}\n"))
                .collect();
            env.vars.extend(parse_env(&exports).vars);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    env.vars
        .extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
    env.vars.insert("STACK_NAME".into(), stack.into());
    env.vars.insert("DOMAIN".into(), domain.into());
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines_comments_quotes_and_exports() {
        let e = parse_env(
            "TYPE=hello\n# c\n\nexport A=1\nB=\"two words\" # note\nC='x#y'\nD=v # trailing\n## X=ignored\n",
        );
        assert_eq!(e.vars["TYPE"], "hello");
        assert_eq!(e.vars["A"], "1");
        assert_eq!(e.vars["B"], "two words");
        assert_eq!(e.vars["C"], "x#y");
        assert_eq!(e.vars["D"], "v");
        assert!(!e.vars.contains_key("X"));
    }

    #[test]
    fn secret_length_hints_are_read() {
        let e = parse_env("SECRET_DB_PASSWORD_VERSION=v1 # length=48\nSECRET_API_KEY_VERSION=v2\n");
        assert_eq!(e.secret_lengths.get("db_password"), Some(&48));
        assert_eq!(e.vars["SECRET_API_KEY_VERSION"], "v2");
        assert!(!e.secret_lengths.contains_key("api_key"));
    }

    #[test]
    fn precedence_is_sample_then_abra_sh_then_overrides_then_identity() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join(".env.sample"),
            "A=sample\nB=sample\nC=sample\nDOMAIN=x.example\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("abra.sh"),
            "export B=abra\nexport C=abra\nfoo() { echo; }\n",
        )
        .unwrap();
        let mut o = BTreeMap::new();
        o.insert("C".to_string(), "override".to_string());
        let e = app_env(d.path(), "s_t", "s.t", &o).unwrap();
        assert_eq!(
            (
                e.vars["A"].as_str(),
                e.vars["B"].as_str(),
                e.vars["C"].as_str()
            ),
            ("sample", "abra", "override")
        );
        assert_eq!(
            (e.vars["STACK_NAME"].as_str(), e.vars["DOMAIN"].as_str()),
            ("s_t", "s.t")
        );
    }
}
