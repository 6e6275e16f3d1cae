//! The dashboard's front page: one row per recipe (latest level and badge, last run, a trend of the
//! last runs as small marks), then the most recent runs of all recipes.

use super::html::{esc, href, page};
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

/// `runs` is sorted oldest first; `recipes` sorted and unique.
pub fn render(runs: &[&RunResult], recipes: &[&str]) -> String {
    let mut b = String::new();
    b.push_str("<h1>cc-ci dashboard</h1>\n");
    b.push_str(&format!(
        "<p class=\"sub\">{} recipe(s) · {} run(s) · level = highest rung proven: L1 install · L2 upgrade · L3 backup/restore · L4 functional · L5 lint</p>\n",
        recipes.len(),
        runs.len()
    ));
    b.push_str("<h2>Recipes</h2>\n<table id=\"recipes\">\n<thead><tr><th>Recipe</th><th>Level</th><th>Last run</th><th>Result</th><th>Trend (oldest → newest)</th><th>Flags</th></tr></thead>\n<tbody>\n");
    for recipe in recipes {
        let mine: Vec<&&RunResult> = runs.iter().filter(|r| r.recipe == *recipe).collect();
        let Some(last) = mine.last() else { continue };
        let ladder = level::compute(last);
        let trend: String = mine
            .iter()
            .rev()
            .take(TREND)
            .rev()
            .map(|r| {
                let l = level::compute(r);
                let failed = if r.passed() { "" } else { " failed-run" };
                format!(
                    "<a class=\"mark l{lv}{failed}\" href=\"{h}\" title=\"{t}\">{lv}</a>",
                    lv = l.level,
                    h = run_href(r),
                    t = esc(&format!(
                        "{} · {} · {}",
                        l.title(),
                        r.started_at,
                        if r.passed() { "passed" } else { "failed" }
                    ))
                )
            })
            .collect();
        let flags = if ladder.flags.is_empty() {
            String::new()
        } else {
            ladder
                .flags
                .iter()
                .map(|f| format!("<div class=\"flag\">{}</div>", esc(f)))
                .collect()
        };
        let cap = ladder
            .cap_reason
            .as_deref()
            .map(|c| format!("<br><small>{}</small>", esc(c)))
            .unwrap_or_default();
        b.push_str(&format!(
            "<tr class=\"recipe\" data-recipe=\"{r}\" data-level=\"{lv}\"><td><b>{r}</b></td><td><img src=\"{badge}\" alt=\"{title}\" height=\"20\"> {title}{cap}</td><td><a href=\"{h}\">{at}</a>{pr}</td><td>{res}</td><td class=\"trend\">{trend}</td><td>{flags}</td></tr>\n",
            r = esc(recipe),
            lv = ladder.level,
            badge = href(&format!("badges/{}.svg", slug(recipe))),
            title = esc(&ladder.title()),
            h = run_href(last),
            at = esc(&last.started_at),
            pr = last.pr.map(|p| format!(" · PR #{p}")).unwrap_or_default(),
            res = result_word(last),
        ));
    }
    b.push_str("</tbody>\n</table>\n");

    b.push_str("<h2>Recent runs</h2>\n<table id=\"runs\">\n<thead><tr><th>Started</th><th>Recipe</th><th>PR</th><th>head_ref</th><th>Level</th><th>Result</th><th>Duration</th></tr></thead>\n<tbody>\n");
    for r in runs.iter().rev().take(RECENT) {
        let l = level::compute(r);
        b.push_str(&format!(
            "<tr class=\"run\" data-run=\"{id}\"><td><a href=\"{h}\">{at}</a></td><td>{recipe}</td><td>{pr}</td><td><code>{head}</code></td><td>{title}</td><td>{res}</td><td>{dur}</td></tr>\n",
            id = esc(&r.run_id),
            h = run_href(r),
            at = esc(&r.started_at),
            recipe = esc(&r.recipe),
            pr = r.pr.map(|p| format!("#{p}")).unwrap_or_default(),
            head = esc(&r.head_ref.as_deref().map(short_ref).unwrap_or_else(|| "unknown".into())),
            title = esc(&l.title()),
            res = result_word(r),
            dur = human_ms(r.duration_ms),
        ));
    }
    b.push_str("</tbody>\n</table>\n");
    page("cc-ci dashboard", &b)
}
