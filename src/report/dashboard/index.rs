//! The dashboard's front page: one row per recipe (latest level and badge, last run, a trend of the
//! last runs as small marks), then the most recent runs of all recipes.

use super::html::{esc, href, human_time, page, when};
use super::load::Ended;
use super::slug;
use crate::report::level;
use crate::report::model::{human_ms, short_ref, RunResult};

/// How many runs the trend shows per recipe.
pub const TREND: usize = 10;
/// How many runs the "recent runs" table lists.
pub const RECENT: usize = 50;

fn run_href(r: &RunResult) -> String {
    href(&format!("runs/{}/index.html", slug(&r.run_id)))
}

fn result_word(r: &RunResult) -> &'static str {
    if r.passed() {
        "<span class=\"pass\">passed</span>"
    } else {
        "<span class=\"fail\">failed</span>"
    }
}

/// `runs` is sorted oldest first; `recipes` sorted and unique; `ended` the runs that ended without
/// results (refused, nothing selected, abandoned, …), in ledger order.
pub fn render(runs: &[&RunResult], recipes: &[&str], ended: &[Ended]) -> String {
    let mut b = String::new();
    b.push_str("<h1>cc-ci dashboard</h1>\n");
    b.push_str(&format!(
        "<p class=\"sub\">{} recipe(s) · {} run(s) · level = highest rung proven: L1 install · L2 upgrade · L3 backup/restore · L4 functional · L5 lint</p>\n",
        recipes.len(),
        runs.len() + ended.len()
    ));
    recipes_table(&mut b, runs, recipes);
    runs_table(&mut b, runs);
    ended_table(&mut b, ended);
    page("cc-ci dashboard", &b)
}

/// The latest run of each recipe. The Flags column is there only when some recipe has flags.
fn recipes_table(b: &mut String, runs: &[&RunResult], recipes: &[&str]) {
    let rows: Vec<(&str, &RunResult, level::Ladder, Vec<&RunResult>)> = recipes
        .iter()
        .filter_map(|recipe| {
            let mine: Vec<&RunResult> = runs
                .iter()
                .copied()
                .filter(|r| r.recipe == *recipe)
                .collect();
            let last = *mine.last()?;
            Some((*recipe, last, level::compute(last), mine))
        })
        .collect();
    let with_flags = rows.iter().any(|(_, _, l, _)| !l.flags.is_empty());
    b.push_str("<h2>Recipes</h2>\n<table id=\"recipes\">\n<thead><tr><th>Recipe</th><th>Level</th><th>Last run</th><th>Result</th><th>Trend (oldest → newest)</th>");
    if with_flags {
        b.push_str(FLAGS_HEADER);
    }
    b.push_str("</tr></thead>\n<tbody>\n");
    for (recipe, last, ladder, mine) in &rows {
        let flags = if with_flags {
            let f: String = ladder
                .flags
                .iter()
                .map(|f| format!("<div class=\"flag\">⚠ {}</div>", esc(f)))
                .collect();
            format!("<td>{f}</td>")
        } else {
            String::new()
        };
        let cap = ladder
            .cap_reason
            .as_deref()
            .map(|c| format!("<br><small>{}</small>", esc(c)))
            .unwrap_or_default();
        b.push_str(&format!(
            "<tr class=\"recipe\" data-recipe=\"{r}\" data-level=\"{lv}\"><td><b>{r}</b></td><td><img src=\"{badge}\" alt=\"{title}\" height=\"20\"> {title}{cap}</td><td><a href=\"{h}\">{at}</a>{pr}</td><td>{res}</td><td class=\"trend\">{trend}</td>{flags}</tr>\n",
            r = esc(recipe),
            lv = ladder.level,
            badge = href(&format!("badges/{}.svg", slug(recipe))),
            title = esc(&ladder.title()),
            h = run_href(last),
            at = when(&last.started_at),
            pr = last.pr.map(|p| format!(" · PR #{p}")).unwrap_or_default(),
            res = result_word(last),
            trend = trend(mine),
        ));
    }
    b.push_str("</tbody>\n</table>\n");
}

/// The Flags column's header: what a flag is, so an entry is not mistaken for a failure.
const FLAGS_HEADER: &str = "<th title=\"Coverage gaps and stale skips in the latest run: worth a look, they never change the level\">Flags<br><small>coverage gaps, stale skips (level unchanged)</small></th>";

/// The last [`TREND`] runs as small level marks, each linking to its run.
fn trend(mine: &[&RunResult]) -> String {
    mine.iter()
        .rev()
        .take(TREND)
        .rev()
        .map(|r| {
            let l = level::compute(r);
            let failed = if r.passed() { "" } else { " failed-run" };
            let at = human_time(&r.started_at).unwrap_or_else(|| r.started_at.clone());
            format!(
                "<a class=\"mark l{lv}{failed}\" href=\"{h}\" title=\"{t}\">{lv}</a>",
                lv = l.level,
                h = run_href(r),
                t = esc(&format!(
                    "{} · {at} · {}",
                    l.title(),
                    if r.passed() { "passed" } else { "failed" }
                ))
            )
        })
        .collect()
}

fn runs_table(b: &mut String, runs: &[&RunResult]) {
    b.push_str("<h2>Recent runs</h2>\n<table id=\"runs\">\n<thead><tr><th>Started</th><th>Recipe</th><th>PR</th><th>head_ref</th><th>Level</th><th>Result</th><th>Duration</th></tr></thead>\n<tbody>\n");
    for r in runs.iter().rev().take(RECENT) {
        let l = level::compute(r);
        b.push_str(&format!(
            "<tr class=\"run\" data-run=\"{id}\"><td><a href=\"{h}\">{at}</a></td><td>{recipe}</td><td>{pr}</td><td><code>{head}</code></td><td>{title}</td><td>{res}</td><td>{dur}</td></tr>\n",
            id = esc(&r.run_id),
            h = run_href(r),
            at = when(&r.started_at),
            recipe = esc(&r.recipe),
            pr = r.pr.map(|p| format!("#{p}")).unwrap_or_default(),
            head = esc(&r.head_ref.as_deref().map(short_ref).unwrap_or_else(|| "unknown".into())),
            title = esc(&l.title()),
            res = result_word(r),
            dur = human_ms(r.duration_ms),
        ));
    }
    b.push_str("</tbody>\n</table>\n");
}

/// Runs that ended without results, newest first, each with its outcome and why (from its run_end).
fn ended_table(b: &mut String, ended: &[Ended]) {
    if ended.is_empty() {
        return;
    }
    b.push_str("<h2>Runs without results</h2>\n<p class=\"sub\">Refused before anything was deployed, nothing selected to run, or abandoned (died without ending): no level, no run page.</p>\n<table id=\"ended\">\n<thead><tr><th>Ended</th><th>Recipe</th><th>Run</th><th>Outcome</th><th>Why</th></tr></thead>\n<tbody>\n");
    for e in ended.iter().rev().take(RECENT) {
        b.push_str(&format!(
            "<tr class=\"ended\" data-run=\"{id}\" data-outcome=\"{o}\"><td>{at}</td><td>{recipe}</td><td><code>{id}</code></td><td><span class=\"{c}\">{word}</span></td><td>{why}</td></tr>\n",
            id = esc(&e.run_id),
            o = esc(&e.outcome),
            at = when(&e.ended_at),
            recipe = esc(&e.recipe),
            c = if e.outcome == "no_tests" { "skip" } else { "fail" },
            word = esc(e.outcome_word()),
            why = esc(&e.reason),
        ));
    }
    b.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    fn index(runs: &[RunResult], ended: &[Ended]) -> String {
        let refs: Vec<&RunResult> = runs.iter().collect();
        render(&refs, &["hello"], ended)
    }

    #[test]
    fn run_times_show_as_utc_seconds_with_the_exact_value_in_the_markup() {
        let mut r = sample::run();
        r.started_at = "2026-11-30T16:41:07.123456789Z".into();
        let html = index(&[r], &[]);
        assert!(!html.contains(">2026-11-30T16:41:07.123456789Z<"), "{html}");
        assert!(
            html.contains("<time datetime=\"2026-11-30T16:41:07.123456789Z\" title=\"2026-11-30T16:41:07.123456789Z\">2026-11-30 16:41:07 UTC</time>"),
            "{html}"
        );
        assert!(
            html.contains("· 2026-11-30 16:41:07 UTC ·"),
            "trend mark title: {html}"
        );
    }

    #[test]
    fn the_flags_column_shows_only_when_a_recipe_has_flags_and_says_what_they_are() {
        let clean = sample::run();
        assert!(
            level::compute(&clean).flags.is_empty(),
            "the sample has no flags"
        );
        assert!(!index(std::slice::from_ref(&clean), &[]).contains("Flags"));

        let mut flagged = clean;
        flagged.tiers.retain(|t| t.tier != "custom");
        let flags = level::compute(&flagged).flags;
        assert!(!flags.is_empty(), "no custom tier is a coverage gap");
        let html = index(&[flagged], &[]);
        assert!(html.contains(FLAGS_HEADER), "{html}");
        assert!(html.contains("coverage gaps, stale skips (level unchanged)"));
        assert!(
            html.contains(&format!("<div class=\"flag\">⚠ {}</div>", esc(&flags[0]))),
            "{html}"
        );
    }

    #[test]
    fn runs_without_results_are_listed_with_outcome_and_reason() {
        let ended = [
            Ended {
                run_id: "r-ref".into(),
                recipe: "hello".into(),
                outcome: "refused".into(),
                reason: "spec x.toml:3: unknown key <k>".into(),
                ended_at: "2026-11-30T16:41:07.5Z".into(),
            },
            Ended {
                run_id: "r-empty".into(),
                recipe: "hello".into(),
                outcome: "no_tests".into(),
                reason: "nothing selected".into(),
                ended_at: "2026-11-30T16:42:00Z".into(),
            },
        ];
        assert!(!index(&[sample::run()], &[]).contains("id=\"ended\""));
        let html = index(&[sample::run()], &ended);
        assert!(html.contains("<h2>Runs without results</h2>"), "{html}");
        let rows: Vec<&str> = html.split("<tr class=\"ended\"").skip(1).collect();
        assert_eq!(rows.len(), 2, "{html}");
        assert!(
            rows[0].contains("data-run=\"r-empty\""),
            "newest first: {html}"
        );
        assert!(
            rows[0].contains("<span class=\"skip\">empty</span></td><td>nothing selected</td>"),
            "{}",
            rows[0]
        );
        assert!(rows[1].contains("<span class=\"fail\">refused</span></td><td>spec x.toml:3: unknown key &lt;k&gt;</td>"), "{}", rows[1]);
        assert!(
            rows[1].contains(">2026-11-30 16:41:07 UTC</time>"),
            "{}",
            rows[1]
        );
    }
}
