//! What a person reads in the CI log: the run header (what is being tested and how it was customized),
//! one banner per tier, and the closing summary (upgrade proof, deploy-count, verdicts, teardown, level,
//! where the files are). Plain text without colour codes, so CI logs stay readable. Writes to any
//! `io::Write`; never decides a verdict.

use std::io::{self, Write};

use super::level::{self, RungStatus};
use super::model::{human_ms, short_ref, RunResult, TierResult, TierStatus};

/// Width of banners and rules.
const WIDTH: usize = 78;

fn rule(title: &str) -> String {
    let head = format!("── {title} ");
    let n = WIDTH.saturating_sub(head.chars().count()).max(2);
    format!("{head}{}", "─".repeat(n))
}

fn or_dash(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("—")
}

/// The run header: recipe, ref, PR, stages, head_ref and its source, previous release, deployer,
/// domain, the customization manifest and every trust-gate decision.
pub fn header(r: &RunResult, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "{}", rule(&format!("cc-ci · {}", r.recipe)))?;
    let pr = r.pr.map(|p| format!("#{p}")).unwrap_or_else(|| "—".into());
    writeln!(w, "  recipe            {}", r.recipe)?;
    writeln!(w, "  ref               {}   PR {pr}", or_dash(&r.git_ref))?;
    writeln!(w, "  stages            {}", r.stages.join(" → "))?;
    writeln!(
        w,
        "  head_ref          {} (from {})",
        r.head_ref
            .as_deref()
            .map(short_ref)
            .unwrap_or_else(|| "unknown".into()),
        r.head_ref_source
    )?;
    writeln!(w, "  previous release  {}", or_dash(&r.previous_release))?;
    base_line(r, w)?;
    writeln!(w, "  deployer          {}", r.deployer)?;
    writeln!(w, "  domain            {} (stack {})", r.domain, r.stack)?;
    writeln!(
        w,
        "  run               {}  started {}",
        r.run_id, r.started_at
    )?;
    writeln!(w, "  customization manifest:")?;
    if r.customization.is_empty() {
        writeln!(w, "    (none: generic tiers only)")?;
    }
    for line in &r.customization {
        writeln!(w, "    {line}")?;
    }
    writeln!(w, "  trust gate:")?;
    if r.gate.is_empty() {
        writeln!(w, "    (no repo-local code requested)")?;
    }
    for g in &r.gate {
        writeln!(w, "    {:<11}  {} — {}", g.word(), g.subject, g.reason)?;
    }
    Ok(())
}

/// The banner printed before a tier's assertions: `── upgrade (generic=run, overlay=2 files) ──`.
pub fn tier_banner(t: &TierResult, w: &mut dyn Write) -> io::Result<()> {
    let title = match &t.status {
        TierStatus::NotApplicable { reason, declared } => {
            let how = if *declared {
                "declared n/a"
            } else {
                "unsupported"
            };
            format!("{} ({how}: {reason})", t.tier)
        }
        TierStatus::NotRun { reason } => format!("{} (not run: {reason})", t.tier),
        _ => {
            let files = if t.overlay_files == 1 {
                "file"
            } else {
                "files"
            };
            let mut s = format!(
                "{} (generic={}, overlay={} {files})",
                t.tier, t.generic, t.overlay_files
            );
            if let Some(op) = &t.op {
                let state = if op.ok { "ok" } else { "FAILED" };
                s.push_str(&format!(
                    " op {} {state} {}",
                    op.name,
                    human_ms(op.duration_ms)
                ));
            }
            s
        }
    };
    writeln!(w, "{}", rule(&title))
}

/// The closing summary.
pub fn summary(r: &RunResult, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "{}", rule(&format!("summary · {}", r.recipe)))?;
    proof(r, w)?;
    for t in &r.tiers {
        tier_line(t, w)?;
    }
    teardown_and_lint(r, w)?;
    ladder_and_result(r, w)?;
    let a = &r.artifacts;
    for (name, p) in [
        ("junit", &a.junit),
        ("markdown", &a.markdown),
        ("results", &a.results),
        ("ledger", &a.ledger),
    ] {
        if let Some(p) = p {
            writeln!(w, "  {name:<17} {}", p.display())?;
        }
    }
    Ok(())
}

/// `upgrade base  <sha8> (last green run <run>)` and why, when upgrade was selected.
fn base_line(r: &RunResult, w: &mut dyn Write) -> io::Result<()> {
    if let Some(b) = &r.upgrade_base {
        writeln!(w, "  upgrade base      {}", b.describe())?;
        if b.commit.is_some() {
            writeln!(w, "                    why: {}", b.reason)?;
        }
    }
    Ok(())
}

/// The upgrade base, the upgrade proof and deploy-count.
fn proof(r: &RunResult, w: &mut dyn Write) -> io::Result<()> {
    base_line(r, w)?;
    match &r.upgrade_proof {
        Some(p) => writeln!(
            w,
            "  upgrade proof     head_ref={} chaos-version={}{} version={}→{}  ({})",
            p.head_ref
                .as_deref()
                .map(short_ref)
                .unwrap_or_else(|| "unknown".into()),
            p.chaos_version_before
                .as_deref()
                .map(|b| format!("{b}→"))
                .unwrap_or_default(),
            or_dash(&p.chaos_version),
            or_dash(&p.version_before),
            or_dash(&p.version_after),
            p.verdict
        )?,
        None => writeln!(w, "  upgrade proof     — (upgrade did not run)")?,
    }
    let dc = if r.deploy_count == 1 {
        ""
    } else {
        "  ← FAIL"
    };
    writeln!(w, "  deploy-count = {} (expect 1){dc}", r.deploy_count)?;
    Ok(())
}

/// A tier's status and counts, then its failed op and failed assertions.
fn tier_line(t: &TierResult, w: &mut dyn Write) -> io::Result<()> {
    let c = t.counts();
    let detail = match &t.status {
        TierStatus::NotApplicable {
            reason,
            declared: true,
        } => format!("declared: {reason}"),
        TierStatus::NotApplicable { reason, .. } | TierStatus::NotRun { reason } => reason.clone(),
        _ => {
            let mut s = format!("{} passed, {} failed", c.passed, c.failed);
            if c.ignored > 0 {
                s.push_str(&format!(", {} ignored", c.ignored));
            }
            if c.not_run > 0 {
                s.push_str(&format!(", {} not run", c.not_run));
            }
            s
        }
    };
    writeln!(w, "  {:<9} {:<8} {detail}", t.tier, t.status_word())?;
    if let Some(op) = t.op.as_ref().filter(|o| !o.ok) {
        let e = op.error.as_deref().unwrap_or("no error message");
        writeln!(w, "      ✗ op {}: {}", op.name, indent(e))?;
    }
    for x in &t.tests {
        if let Some(m) = x.outcome.detail().filter(|_| x.outcome.label() == "failed") {
            writeln!(w, "      ✗ {}: {}", x.id, indent(m))?;
        }
    }
    Ok(())
}

/// Teardown (and anything left over) and the lint.
fn teardown_and_lint(r: &RunResult, w: &mut dyn Write) -> io::Result<()> {
    if r.teardown.clean {
        writeln!(
            w,
            "  teardown          clean ({})",
            human_ms(r.teardown.duration_ms)
        )?;
    } else {
        writeln!(
            w,
            "  teardown          NOT CLEAN: {} left over ({})",
            r.teardown.leftovers.len(),
            human_ms(r.teardown.duration_ms)
        )?;
        for l in &r.teardown.leftovers {
            writeln!(w, "      - {l}")?;
        }
    }
    if let Some(e) = &r.teardown.error {
        writeln!(w, "      teardown error: {}", indent(e))?;
    }
    if let Some(l) = &r.lint {
        lint_lines(l, w)?;
    }
    Ok(())
}

/// The lint's verdict and its first messages.
pub fn lint_lines(l: &crate::report::LintResult, w: &mut dyn Write) -> io::Result<()> {
    match &l.not_run {
        Some(why) => writeln!(w, "  lint              NOT RUN ({}): {why}", l.tool)?,
        None => {
            let word = if l.passed { "passed" } else { "FAILED" };
            writeln!(w, "  lint              {word} ({})", l.tool)?
        }
    }
    for m in l.messages.iter().take(10) {
        writeln!(w, "      {m}")?;
    }
    Ok(())
}

/// The level ladder, interruption, secrets, and the verdict with the exit code.
fn ladder_and_result(r: &RunResult, w: &mut dyn Write) -> io::Result<()> {
    let ladder = level::compute(r);
    writeln!(w, "  level             {}", ladder.title())?;
    let marks: Vec<String> = ladder
        .rungs
        .iter()
        .map(|g| {
            let m = match g.status {
                RungStatus::Pass => "✓",
                RungStatus::Fail { .. } => "✗",
                RungStatus::Skip { .. } => "–",
                RungStatus::Unsupported { .. } => "⊘",
                RungStatus::Unverified { .. } => "?",
            };
            format!("L{} {} {m}", g.level, g.name)
        })
        .collect();
    writeln!(w, "      {}", marks.join("  "))?;
    if let Some(c) = &ladder.cap_reason {
        writeln!(w, "      capped: {c}")?;
    }
    for f in &ladder.flags {
        writeln!(w, "      flag: {f}")?;
    }
    if r.interrupted {
        writeln!(
            w,
            "  interrupted       yes: tiers after the signal did not run"
        )?;
    }
    if r.secrets_printed {
        writeln!(
            w,
            "  secrets           A SECRET VALUE REACHED THE OUTPUT (masked in reports)"
        )?;
    }
    if let Some(why) = &r.infrastructure {
        writeln!(
            w,
            "  infrastructure    {} (not the recipe's fault)",
            indent(why)
        )?;
    }
    let verdict = match (&r.infrastructure, r.passed()) {
        (Some(_), _) => "INFRASTRUCTURE FAILURE",
        (None, true) => "PASSED",
        (None, false) => "FAILED",
    };
    writeln!(
        w,
        "  result            {verdict} (exit {}) in {}",
        r.exit_code,
        human_ms(r.duration_ms)
    )?;
    if let Some(c) = &r.ledger_checkpoint {
        writeln!(w, "  ledger checkpoint {c}")?;
    }
    Ok(())
}

/// Continuation lines of a multi-line message, indented under their first line.
fn indent(s: &str) -> String {
    s.trim_end().replace('\n', "\n        ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    fn text(f: impl Fn(&mut dyn Write) -> io::Result<()>) -> String {
        let mut buf = Vec::new();
        f(&mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn banner_names_generic_and_overlay_counts() {
        let mut t = sample::passing_tier("upgrade");
        t.overlay_files = 2;
        t.op = None;
        let s = text(|w| tier_banner(&t, w));
        assert!(
            s.starts_with("── upgrade (generic=run, overlay=2 files) ──"),
            "{s}"
        );
        assert_eq!(s.trim_end().chars().count(), WIDTH);
    }

    #[test]
    fn summary_shows_the_upgrade_proof_and_deploy_count() {
        let s = text(|w| summary(&sample::run(), w));
        assert!(
            s.contains(
                "head_ref=0123abcd chaos-version=0123abcd version=1.1.0+1.36.1→1.2.0+1.36.1"
            ),
            "{s}"
        );
        assert!(s.contains("deploy-count = 1 (expect 1)\n"), "{s}");
        assert!(s.contains("level             L5 lint"), "{s}");
        let c = format!("128:{}", "3f".repeat(32));
        assert!(s.ends_with(&format!("  ledger checkpoint {c}\n")), "{s}");
    }

    #[test]
    fn header_prints_every_gate_decision_and_the_manifest() {
        let s = text(|w| header(&sample::run(), w));
        assert!(
            s.contains(
                "    deny         repo-local .cc-ci/extra.yaml — recipe not on the allowlist"
            ),
            "{s}"
        );
        assert!(s.contains("    recipe.yaml: deploy timeout 300s"), "{s}");
        assert!(s.contains("head_ref          0123abcd (from REF)"), "{s}");
    }
}
