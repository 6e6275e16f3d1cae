//! Warnings about specs that parse but are probably wrong: a tier the recipe does not support, an
//! assertion that can never fail, a recorded value nobody records. Warnings never fail a check.

use std::fmt;
use std::path::PathBuf;

use super::check::Check;
use super::file::SpecFile;
use super::meta::RecipeMeta;
use super::step::{OpOverride, Step};
use super::text::regex_matches_everything;
use super::tier::Tier;

/// A warning with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: warning: {}",
            self.file.display(),
            self.line,
            self.message
        )
    }
}

/// Warnings for one file against its recipe's metadata.
pub fn lint(spec: &SpecFile, meta: &RecipeMeta) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut warn = |line: usize, message: String| {
        out.push(Warning {
            file: spec.path.clone(),
            line,
            message,
        })
    };
    if let Some(reason) = meta.not_applicable.get(&spec.tier) {
        warn(
            1,
            format!(
                "tier `{}` is not applicable to this recipe ({reason}); these tests will not run",
                spec.tier
            ),
        );
    } else if !meta.supports(spec.tier) {
        warn(
            1,
            format!(
                "tier `{}` is not in the recipe's `tiers`; these tests will not run",
                spec.tier
            ),
        );
    }
    for t in &spec.tests {
        for what in never_fails(&t.check) {
            warn(t.line, format!("test `{}` can never fail: {what}", t.name));
        }
    }
    out
}

fn never_fails(check: &Check) -> Vec<String> {
    let mut v = Vec::new();
    let mut m = |name: &str, tm: &Option<super::text::TextMatch>| {
        if let Some(tm) = tm {
            if tm.never_fails() {
                v.push(format!("`{name}` {tm} matches every text"));
            }
        }
    };
    match check {
        Check::Label { expect, .. } => m("label", &Some(expect.clone())),
        Check::Exec { stdout, stderr, .. } => {
            m("stdout", stdout);
            m("stderr", stderr);
        }
        Check::File { contains, .. } => m("contains", contains),
        Check::Http { body, .. } => m("body", body),
        Check::Logs { matches, .. } => {
            for r in matches.iter().filter(|r| regex_matches_everything(r)) {
                v.push(format!(
                    "`matches` regex /{}/ matches the empty string",
                    r.as_str()
                ));
            }
        }
        _ => {}
    }
    v
}

/// Warnings for a set of files of one recipe (generic and overlays): [`lint`] of each, plus every
/// `recorded` check whose name no `record` step (same or earlier tier) or exec `record` (earlier
/// tier) sets.
pub fn lint_set(specs: &[SpecFile], meta: &RecipeMeta) -> Vec<Warning> {
    let mut out: Vec<Warning> = specs.iter().flat_map(|s| lint(s, meta)).collect();
    // (name, tier from which a check may use it)
    let mut recorded: Vec<(String, Tier, bool)> = Vec::new();
    for s in specs {
        let mut steps: Vec<&Step> = s.before_op.iter().collect();
        if let Some(OpOverride::Script { steps: op }) = &s.op {
            steps.extend(op.iter());
        }
        for st in steps {
            if let Some(n) = st.records() {
                recorded.push((n.to_string(), s.tier, true));
            }
        }
        for t in &s.tests {
            if let Check::Exec {
                record: Some(n), ..
            } = &t.check
            {
                recorded.push((n.clone(), s.tier, false));
            }
        }
    }
    for s in specs {
        for t in &s.tests {
            let Check::Recorded { name, .. } = &t.check else {
                continue;
            };
            let found = recorded.iter().any(|(n, tier, same_ok)| {
                n == name && (*tier < s.tier || (*same_ok && *tier == s.tier))
            });
            if !found {
                out.push(Warning {
                    file: s.path.clone(),
                    line: t.line,
                    message: format!(
                        "test `{}` compares with `{name}`, but no `record` step in this or an earlier tier (nor an exec `record` in an earlier tier) records it",
                        t.name
                    ),
                });
            }
        }
    }
    out
}
