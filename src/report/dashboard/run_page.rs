//! One run's page: what was tested, the rungs, the upgrade proof, every tier with its op and tests
//! (timings, messages), teardown, the trust gate and customization manifest, and links to the run's
//! files copied beside the page.

use super::html::{esc, outcome, page, rung_status, when};
use super::RunFiles;
use crate::report::level;
use crate::report::model::{human_ms, short_ref, RunResult, TierResult, TierStatus};

fn opt(v: &Option<String>) -> String {
    esc(v.as_deref().unwrap_or("—"))
}

pub(crate) fn render(r: &RunResult, files: &RunFiles) -> String {
    let ladder = level::compute(r);
    let mut b = String::new();
    head(&mut b, r, &ladder);
    rungs(&mut b, &ladder);
    proof(&mut b, r);
    b.push_str("<h2>Tiers</h2>\n");
    for t in &r.tiers {
        tier(&mut b, t);
    }
    closing(&mut b, r);
    screenshots(&mut b, r, files);
    file_links(&mut b, files);
    page(
        &format!("{} · {} · cc-ci", esc(&r.recipe), esc(&r.run_id)),
        &b,
    )
}

/// The title, the verdict line and what was tested.
fn head(b: &mut String, r: &RunResult, ladder: &level::Ladder) {
    b.push_str("<p><a href=\"../../index.html\">← all recipes</a></p>\n");
    b.push_str(&format!(
        "<h1 id=\"title\">{} · {}</h1>\n",
        esc(&r.recipe),
        esc(&ladder.title())
    ));
    let verdict = if r.passed() {
        "<span class=\"pass\">passed</span>"
    } else {
        "<span class=\"fail\">failed</span>"
    };
    b.push_str(&format!(
        "<p class=\"sub\">run <code>{}</code> · {} · {} · exit {} · {}</p>\n",
        esc(&r.run_id),
        when(&r.started_at),
        human_ms(r.duration_ms),
        r.exit_code,
        verdict
    ));
    b.push_str("<dl>\n");
    let pr = r.pr.map(|p| format!("#{p}")).unwrap_or_else(|| "—".into());
    for (k, v) in [
        ("PR", esc(&pr)),
        ("ref", opt(&r.git_ref)),
        (
            "head_ref",
            format!(
                "<code>{}</code> (from {})",
                opt(&r.head_ref),
                esc(&r.head_ref_source)
            ),
        ),
        ("previous release", opt(&r.previous_release)),
        (
            "upgrade base",
            r.upgrade_base
                .as_ref()
                .map(|b| format!("{} — {}", esc(&b.describe()), esc(&b.reason)))
                .unwrap_or_else(|| "—".into()),
        ),
        ("stages", esc(&r.stages.join(" → "))),
        ("deployer", esc(&r.deployer)),
        (
            "domain",
            format!("{} (stack {})", esc(&r.domain), esc(&r.stack)),
        ),
        ("deploy-count", format!("{} (expect 1)", r.deploy_count)),
    ] {
        b.push_str(&format!("<dt>{k}</dt><dd>{v}</dd>\n"));
    }
    b.push_str("</dl>\n");
}

/// The level's rungs, the cap and the flags.
fn rungs(b: &mut String, ladder: &level::Ladder) {
    b.push_str("<h2>Level</h2>\n<table id=\"rungs\"><thead><tr><th>Rung</th><th>Status</th><th>Why</th></tr></thead><tbody>\n");
    for g in &ladder.rungs {
        b.push_str(&format!(
            "<tr class=\"rung\" data-status=\"{}\"><td>L{} {}</td><td>{}</td><td>{}</td></tr>\n",
            g.status.word(),
            g.level,
            esc(&g.name),
            rung_status(&g.status),
            esc(g.status.reason().unwrap_or(""))
        ));
    }
    b.push_str("</tbody></table>\n");
    if let Some(c) = &ladder.cap_reason {
        b.push_str(&format!("<p>Capped: {}</p>\n", esc(c)));
    }
    for f in &ladder.flags {
        b.push_str(&format!("<p class=\"flag\">⚠ {}</p>\n", esc(f)));
    }
}

fn proof(b: &mut String, r: &RunResult) {
    b.push_str("<h2>Upgrade proof</h2>\n");
    match &r.upgrade_proof {
        Some(p) => b.push_str(&format!(
            "<p id=\"proof\">head_ref=<code>{}</code> chaos-version=<code>{}</code> version={} → {} — {}</p>\n",
            esc(&p.head_ref.as_deref().map(short_ref).unwrap_or_else(|| "unknown".into())),
            opt(&p.chaos_version),
            opt(&p.version_before),
            opt(&p.version_after),
            esc(&p.verdict)
        )),
        None => b.push_str("<p id=\"proof\">upgrade did not run</p>\n"),
    }
}

/// One tier: its status, op, and a table of its tests with their messages.
fn tier(b: &mut String, t: &TierResult) {
    let status = match &t.status {
        TierStatus::NotApplicable { reason, declared } => format!(
            "<span class=\"skip\">{}: {}</span>",
            if *declared {
                "declared n/a"
            } else {
                "unsupported"
            },
            esc(reason)
        ),
        TierStatus::NotRun { reason } => {
            format!("<span class=\"not-run\">not run: {}</span>", esc(reason))
        }
        TierStatus::Passed => "<span class=\"pass\">passed</span>".into(),
        TierStatus::Failed => "<span class=\"fail\">failed</span>".into(),
    };
    b.push_str(&format!(
        "<h3 id=\"tier-{tier}\">{tier} — {status}</h3>\n<p class=\"sub\">generic={} · overlay files={}",
        esc(&t.generic),
        t.overlay_files,
        tier = esc(&t.tier),
    ));
    if let Some(op) = &t.op {
        let state = if op.ok {
            "ok"
        } else {
            "<span class=\"fail\">failed</span>"
        };
        b.push_str(&format!(
            " · op <code>{}</code> {state} in {}",
            esc(&op.name),
            human_ms(op.duration_ms)
        ));
    }
    b.push_str("</p>\n");
    if let Some(e) =
        t.op.as_ref()
            .filter(|o| !o.ok)
            .and_then(|o| o.error.as_ref())
    {
        b.push_str(&format!("<pre>{}</pre>\n", esc(e)));
    }
    if t.tests.is_empty() {
        return;
    }
    b.push_str("<table class=\"tests\"><thead><tr><th>Test</th><th>Source</th><th>Result</th><th>Time</th><th>Message</th></tr></thead><tbody>\n");
    for x in &t.tests {
        let detail = x
            .outcome
            .detail()
            .map(|d| format!("<pre>{}</pre>", esc(d)))
            .unwrap_or_default();
        b.push_str(&format!(
            "<tr class=\"test\" data-outcome=\"{}\"><td><code>{}</code><br><small>{}</small></td><td>{}</td><td>{}</td><td>{}</td><td>{detail}</td></tr>\n",
            esc(x.outcome.label()),
            esc(&x.name),
            esc(&x.file),
            x.source.as_str(),
            outcome(&x.outcome),
            human_ms(x.duration_ms)
        ));
    }
    b.push_str("</tbody></table>\n");
}

/// Teardown, lint, the trust gate and the customization manifest.
fn closing(b: &mut String, r: &RunResult) {
    b.push_str("<h2>Teardown</h2>\n");
    if r.teardown.clean {
        b.push_str(&format!(
            "<p id=\"teardown\"><span class=\"pass\">clean</span> in {}</p>\n",
            human_ms(r.teardown.duration_ms)
        ));
    } else {
        b.push_str(&format!(
            "<p id=\"teardown\"><span class=\"fail\">not clean</span>: {} resource(s) left over in {}</p>\n<ul>",
            r.teardown.leftovers.len(),
            human_ms(r.teardown.duration_ms)
        ));
        for l in &r.teardown.leftovers {
            b.push_str(&format!("<li><code>{}</code></li>", esc(l)));
        }
        b.push_str("</ul>\n");
    }
    if let Some(e) = &r.teardown.error {
        b.push_str(&format!("<pre>{}</pre>\n", esc(e)));
    }
    if let Some(l) = &r.lint {
        let w = match (&l.not_run, l.passed) {
            (Some(_), _) => "unverified",
            (None, true) => "pass",
            (None, false) => "fail",
        };
        b.push_str(&format!(
            "<h2>Lint</h2>\n<p><span class=\"{w}\">{w}</span> ({})</p>\n",
            esc(&l.tool)
        ));
        if !l.messages.is_empty() {
            b.push_str(&format!("<pre>{}</pre>\n", esc(&l.messages.join("\n"))));
        }
    }
    if !r.gate.is_empty() {
        b.push_str("<h2>Trust gate</h2>\n<ul>\n");
        for g in &r.gate {
            let w = g.word();
            let c = match w {
                "allow" => "pass",
                "deny" => "fail",
                _ => "skip",
            };
            b.push_str(&format!(
                "<li><span class=\"{c}\">{w}</span> {} — {}</li>\n",
                esc(&g.subject),
                esc(&g.reason)
            ));
        }
        b.push_str("</ul>\n");
    }
    if !r.customization.is_empty() {
        b.push_str(&format!(
            "<h2>Customization manifest</h2>\n<pre>{}</pre>\n",
            esc(&r.customization.join("\n"))
        ));
    }
}

/// The app as headless Chromium saw it after install and after the upgrade (copied beside the page),
/// or why a screenshot was not taken.
fn screenshots(b: &mut String, r: &RunResult, files: &RunFiles) {
    if r.screenshots.is_empty() {
        return;
    }
    b.push_str("<h2>Screenshots</h2>\n<div id=\"screenshots\">\n");
    for shot in &r.screenshots {
        let tier = esc(&shot.tier);
        let copied = files.screenshots.iter().find(|(t, _)| *t == shot.tier);
        match (copied, &shot.error) {
            (Some((_, name)), _) => b.push_str(&format!(
                "<figure><a href=\"{name}\"><img src=\"{name}\" alt=\"the app after {tier}\" width=\"512\"></a><figcaption>after {tier} ({}×{}, {})</figcaption></figure>\n",
                shot.width,
                shot.height,
                human_ms(shot.duration_ms)
            )),
            (None, Some(why)) => b.push_str(&format!(
                "<p>after {tier}: not taken: {}</p>\n",
                esc(why)
            )),
            (None, None) => b.push_str(&format!(
                "<p>after {tier}: the image is no longer where the run left it</p>\n"
            )),
        }
    }
    b.push_str("</div>\n");
}

/// Links to the run's files copied beside the page.
fn file_links(b: &mut String, files: &RunFiles) {
    b.push_str("<h2>Files</h2>\n<ul id=\"files\">\n");
    for (label, f) in [
        ("results.json", files.results),
        ("JUnit XML", files.junit),
        ("Markdown report", files.markdown),
    ] {
        if let Some(name) = f {
            b.push_str(&format!("<li><a href=\"{name}\">{label}</a></li>\n"));
        }
    }
    b.push_str("</ul>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;
    use crate::report::{Outcome, TeardownResult};

    fn files() -> RunFiles {
        RunFiles {
            results: Some("results.json"),
            junit: None,
            markdown: Some("summary.md"),
            screenshots: Vec::new(),
        }
    }

    #[test]
    fn screenshots_are_shown_beside_the_page_or_why_not() {
        let mut r = sample::run();
        let shot =
            |tier: &str, error: Option<&str>| crate::report::sample::screenshot(tier, error, 3100);
        r.screenshots = vec![
            shot("install", None),
            shot("upgrade", Some("no <chromium>")),
        ];
        let mut f = files();
        f.screenshots = vec![("install".into(), "screenshot-install.png".into())];
        let html = render(&r, &f);
        assert!(
            html.contains("<img src=\"screenshot-install.png\" alt=\"the app after install\""),
            "{html}"
        );
        assert!(html.contains("after install (1280×800, 3.1s)"), "{html}");
        assert!(
            html.contains("after upgrade: not taken: no &lt;chromium&gt;"),
            "{html}"
        );
        assert!(!render(&sample::run(), &files()).contains("Screenshots"));
    }

    #[test]
    fn a_failed_run_page_shows_the_failure_the_leftovers_and_the_files() {
        let mut r = sample::run();
        r.tiers[1].tests[0].outcome = Outcome::Failed {
            message: "stale deploy: <b>x</b>".into(),
        };
        r.teardown = TeardownResult {
            clean: false,
            leftovers: vec!["volume hello_data".into()],
            error: None,
            duration_ms: 1200,
        };
        let html = render(&r, &files());
        assert!(
            html.contains("stale deploy: &lt;b&gt;x&lt;/b&gt;"),
            "{html}"
        );
        assert!(
            html.contains("<li><code>volume hello_data</code></li>"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"summary.md\">Markdown report</a>"),
            "{html}"
        );
        assert!(!html.contains("JUnit XML"), "{html}");
        assert!(
            html.contains("<time datetime=\"2026-11-23T18:00:00Z\" title=\"2026-11-23T18:00:00Z\">2026-11-23 18:00:00 UTC</time>"),
            "the start time is shown for people: {html}"
        );
        for tier in ["install", "upgrade", "backup", "restore", "custom"] {
            assert!(html.contains(&format!("id=\"tier-{tier}\"")), "{tier}");
        }
    }
}
