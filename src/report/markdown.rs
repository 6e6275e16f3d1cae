//! The Markdown PR comment (Gitea/GitHub flavoured): leads with the level and the rung table, then the
//! upgrade proof, one table per tier (passing tiers folded), failures with their messages, teardown and
//! deploy-count. Every value from the run is escaped for tables and code spans; nothing here decides a
//! verdict.

use std::fmt::Write as _;

use super::level::{self, RungStatus};
use super::model::{human_ms, short_ref, Outcome, RunResult, TierResult, TierStatus};

/// Escapes text for a table cell (pipes, newlines) and inline Markdown/HTML.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '*' | '_' | '`' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// An inline code span that survives backticks in its content.
fn code(s: &str) -> String {
    let s = s.replace('\n', " ");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

/// A fenced block whose fence is longer than any backtick run inside.
fn fenced(s: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", s.trim_end())
}

fn rung_icon(s: &RungStatus) -> &'static str {
    match s {
        RungStatus::Pass => "✅",
        RungStatus::Fail { .. } => "❌",
        RungStatus::Skip { .. } => "⏭️",
        RungStatus::Unsupported { .. } => "🚫",
        RungStatus::Unverified { .. } => "❔",
    }
}

/// The PR comment for `r`.
pub fn render(r: &RunResult) -> String {
    let ladder = level::compute(r);
    let mut md = String::new();
    head(&mut md, r, &ladder);
    proof(&mut md, r);
    for t in &r.tiers {
        tier(&mut md, t);
    }
    screenshots(&mut md, r);
    closing(&mut md, r);
    md
}

/// The title line with the level, the cap, the rung table and the flags.
fn head(md: &mut String, r: &RunResult, ladder: &level::Ladder) {
    let verdict = match (&r.infrastructure, r.passed()) {
        (Some(_), _) => "⚠️ infrastructure failure",
        (None, true) => "✅ passed",
        (None, false) => "❌ failed",
    };
    let pr = r.pr.map(|p| format!(" · PR #{p}")).unwrap_or_default();
    let _ = writeln!(
        md,
        "### cc-ci · {}{pr} · **{}** · {verdict}\n",
        code(&r.recipe),
        ladder.title()
    );
    if let Some(why) = &r.infrastructure {
        let _ = writeln!(
            md,
            "> **Infrastructure failure (exit 3), not the recipe's fault:** {} — the level below says nothing about the recipe; run it again.\n",
            cell(why)
        );
    }
    if let Some(c) = &ladder.cap_reason {
        let _ = writeln!(md, "> Capped: {}\n", cell(c));
    }
    md.push_str("| rung | | result |\n|---|:-:|---|\n");
    for g in &ladder.rungs {
        let detail = match g.status.reason() {
            Some(why) => format!("{}: {}", g.status.word(), cell(why)),
            None => g.status.word().to_string(),
        };
        let icon = rung_icon(&g.status);
        let _ = writeln!(md, "| L{} {} | {icon} | {detail} |", g.level, g.name);
    }
    for f in &ladder.flags {
        let _ = writeln!(md, "\n⚠️ {}", cell(f));
    }
    md.push('\n');
}

/// The upgrade base, the upgrade proof and deploy-count.
fn proof(md: &mut String, r: &RunResult) {
    if let Some(b) = &r.upgrade_base {
        let _ = match &b.commit {
            Some(c) => writeln!(
                md,
                "**Upgrade base:** {} {} — {}\n",
                code(&short_ref(c)),
                cell(&b.describe()[short_ref(c).len() + 1..]),
                cell(&b.reason)
            ),
            None => writeln!(md, "**Upgrade base:** none — {}\n", cell(&b.reason)),
        };
    }
    match &r.upgrade_proof {
        Some(p) => {
            let head = p.head_ref.as_deref().map(short_ref);
            let _ = writeln!(
                md,
                "**Upgrade proof:** head_ref {} ({}) · chaos-version {}{} · version {} → {} · {}\n",
                code(&head.unwrap_or_else(|| "unknown".into())),
                cell(&r.head_ref_source),
                p.chaos_version_before
                    .as_deref()
                    .map(|b| format!("{} → ", code(b)))
                    .unwrap_or_default(),
                code(p.chaos_version.as_deref().unwrap_or("—")),
                code(p.version_before.as_deref().unwrap_or("—")),
                code(p.version_after.as_deref().unwrap_or("—")),
                cell(&p.verdict)
            );
        }
        None => md.push_str("**Upgrade proof:** upgrade did not run\n\n"),
    }
    let dc = if r.deploy_count == 1 { "✅" } else { "❌" };
    let _ = writeln!(
        md,
        "**deploy-count** = {} (expect 1) {dc}\n",
        r.deploy_count
    );
}

/// One tier, folded unless it failed: its op, a table of its tests, each failure in full.
fn tier(md: &mut String, t: &TierResult) {
    let c = t.counts();
    let failed = matches!(t.status, TierStatus::Failed) || c.failed > 0;
    let status = match &t.status {
        TierStatus::NotApplicable { reason, declared } => {
            let how = if *declared {
                "declared n/a"
            } else {
                "unsupported"
            };
            format!("{how}: {}", cell(reason))
        }
        TierStatus::NotRun { reason } => format!("not run: {}", cell(reason)),
        _ => format!(
            "{} · {} passed, {} failed",
            t.status_word(),
            c.passed,
            c.failed
        ),
    };
    let open = if failed { " open" } else { "" };
    let _ = writeln!(
        md,
        "<details{open}><summary><b>{}</b> — {status} (generic={}, overlay={} {})</summary>\n",
        t.tier,
        cell(&t.generic),
        t.overlay_files,
        if t.overlay_files == 1 {
            "file"
        } else {
            "files"
        }
    );
    if let Some(op) = &t.op {
        let state = if op.ok { "ok" } else { "**failed**" };
        let _ = writeln!(
            md,
            "op {} {state} in {}\n",
            code(&op.name),
            human_ms(op.duration_ms)
        );
        if let Some(e) = op.error.as_deref().filter(|_| !op.ok) {
            md.push_str(&fenced(e));
            md.push('\n');
        }
    }
    if !t.tests.is_empty() {
        md.push_str("| test | source | result | time |\n|---|---|---|--:|\n");
        for x in &t.tests {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                code(&format!("{}::{}", x.file, x.name)),
                x.source.as_str(),
                result_cell(&x.outcome),
                human_ms(x.duration_ms)
            );
        }
        md.push('\n');
    }
    for x in &t.tests {
        if let Outcome::Failed { message } = &x.outcome {
            let _ = writeln!(md, "**{}**", cell(&x.id));
            md.push_str(&fenced(message));
            md.push('\n');
        }
    }
    md.push_str("</details>\n\n");
}

/// A test's result cell: icon, word, and the first line of why.
fn result_cell(o: &Outcome) -> String {
    let icon = match o {
        Outcome::Passed => "✅",
        Outcome::Failed { .. } => "❌",
        Outcome::Ignored { .. } => "⏭️",
        Outcome::NotRun { .. } => "❔",
    };
    match o {
        Outcome::Failed { message } => {
            format!(
                "{icon} failed: {}",
                cell(message.lines().next().unwrap_or(""))
            )
        }
        o => match o.detail() {
            Some(d) => format!("{icon} {}: {}", o.label(), cell(d)),
            None => format!("{icon} {}", o.label()),
        },
    }
}

/// Teardown, lint, the trust gate, the customization manifest and the run's identity.
/// The app after install and upgrade: each PNG linked by its file name (it lies beside results.json in
/// the run's artifacts), or why it was not taken.
fn screenshots(md: &mut String, r: &RunResult) {
    if r.screenshots.is_empty() {
        return;
    }
    md.push_str(
        "**Screenshots** (the app's health page after the op; files in the run's artifacts)\n\n",
    );
    for s in &r.screenshots {
        match (s.file_name(), &s.error) {
            (Some(file), None) => {
                let _ = writeln!(
                    md,
                    "- **{}** · {} · {}×{} · {}\n\n  ![{} screenshot]({file})\n",
                    cell(&s.tier),
                    code(&s.url),
                    s.width,
                    s.height,
                    human_ms(s.duration_ms),
                    cell(&s.tier)
                );
            }
            (_, error) => {
                let why = error.as_deref().unwrap_or("no file");
                let _ = writeln!(md, "- **{}** · not taken: {}\n", cell(&s.tier), cell(why));
            }
        }
    }
}

fn closing(md: &mut String, r: &RunResult) {
    if r.teardown.clean {
        let _ = writeln!(
            md,
            "**Teardown:** clean in {} ✅\n",
            human_ms(r.teardown.duration_ms)
        );
    } else {
        let _ = writeln!(
            md,
            "**Teardown:** ❌ {} resource(s) left over",
            r.teardown.leftovers.len()
        );
        for l in &r.teardown.leftovers {
            let _ = writeln!(md, "- {}", code(l));
        }
        md.push('\n');
    }
    if let Some(e) = &r.teardown.error {
        md.push_str(&fenced(e));
        md.push('\n');
    }
    if let Some(l) = &r.lint {
        let word = match (&l.not_run, l.passed) {
            (Some(why), _) => format!("could not run ❔ — {}", cell(why)),
            (None, true) => "passed ✅".to_string(),
            (None, false) => "failed ❌".to_string(),
        };
        let _ = writeln!(md, "**Lint** ({}): {word}\n", cell(&l.tool));
        if !l.messages.is_empty() && !l.passed {
            md.push_str(&fenced(&l.messages.join("\n")));
            md.push('\n');
        }
    }
    if !r.gate.is_empty() {
        md.push_str("<details><summary>Trust gate</summary>\n\n");
        for g in &r.gate {
            let w = g.word();
            let _ = writeln!(md, "- {w}: {} — {}", cell(&g.subject), cell(&g.reason));
        }
        md.push_str("\n</details>\n\n");
    }
    if !r.customization.is_empty() {
        md.push_str("<details><summary>Customization manifest</summary>\n\n");
        md.push_str(&fenced(&r.customization.join("\n")));
        md.push_str("\n</details>\n\n");
    }
    if let Some(c) = &r.ledger_checkpoint {
        let _ = writeln!(
            md,
            "**Ledger checkpoint:** {} — `cc-ci ledger verify --checkpoint {}` proves the host's ledger still holds this run's record\n",
            code(c),
            c
        );
    }
    let _ = writeln!(
        md,
        "<sub>run {} · {} · {} · deployer {} · exit {}</sub>",
        code(&r.run_id),
        cell(&r.started_at),
        human_ms(r.duration_ms),
        cell(&r.deployer),
        r.exit_code
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn comment_leads_with_the_level_and_escapes_table_cells() {
        let mut r = sample::run();
        r.tiers[1].tests[0].outcome = Outcome::Failed {
            message: "a | b\nsecond line ```x```".into(),
        };
        r.tiers[1].status = TierStatus::Failed;
        r.exit_code = 1;
        let md = render(&r);
        assert!(
            md.starts_with("### cc-ci · `hello` · PR #42 · **L1 install** · ❌ failed"),
            "{md}"
        );
        assert!(md.contains("failed: a \\| b |"), "{md}");
        assert!(
            md.contains("````text\na | b\nsecond line ```x```\n````"),
            "{md}"
        );
        assert!(md.contains("<details open><summary><b>upgrade</b>"), "{md}");
        let c = format!("128:{}", "3f".repeat(32));
        assert!(
            md.contains(&format!(
                "**Ledger checkpoint:** `{c}` — `cc-ci ledger verify --checkpoint {c}`"
            )),
            "{md}"
        );
    }

    #[test]
    fn screenshots_are_linked_by_file_name_and_a_missing_one_says_why() {
        let mut r = crate::report::sample::run();
        assert!(!render(&r).contains("Screenshots"), "none taken, none said");
        let shot =
            |tier: &str, error: Option<&str>| crate::report::sample::screenshot(tier, error, 2100);
        r.screenshots = vec![
            shot("install", None),
            shot("upgrade", Some("chromium | crashed")),
        ];
        let md = render(&r);
        assert!(
            md.contains("- **install** · `http://hello.ci.local/` · 1280×800 · 2.1s"),
            "{md}"
        );
        assert!(
            md.contains("![install screenshot](screenshot-install.png)"),
            "{md}"
        );
        assert!(
            md.contains("- **upgrade** · not taken: chromium \\| crashed"),
            "{md}"
        );
        assert!(!md.contains("/a/screenshot"), "links are relative: {md}");
    }
}
