//! A loose reader of abra's rule table. abra prints one row per rule — `ref | rule | severity |
//! satisfied | skipped | resolve` — with ASCII or box-drawing borders, `yes`/`no`/`-` or ✅/❌ cells,
//! and possibly colours (strip them first). A cell it cannot read is never taken for a pass.

/// One row of abra's rule table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    pub reference: String,
    pub rule: String,
    /// `warn`, `error`, `critical`, … as printed (lowercased); empty when the table has no such column.
    pub severity: String,
    /// `None` when the cell says neither yes nor no (e.g. `-` for a skipped rule).
    pub satisfied: Option<bool>,
    pub skipped: bool,
    pub resolve: String,
}

impl TableRow {
    /// A rule that was not skipped, is not merely a warning, and is not plainly satisfied (a cell that
    /// cannot be read counts as unsatisfied).
    pub fn fails(&self) -> bool {
        !self.skipped && self.satisfied != Some(true) && !self.is_warning()
    }

    fn is_warning(&self) -> bool {
        matches!(
            self.severity.as_str(),
            "warn" | "warning" | "info" | "notice"
        )
    }

    /// What a person should read about this row: failures and unsatisfied warnings.
    pub fn message(&self) -> Option<String> {
        if self.skipped || self.satisfied == Some(true) {
            return None;
        }
        let kind = if self.fails() { "error" } else { "warning" };
        let hint = if self.resolve.is_empty() {
            String::new()
        } else {
            format!(" (hint: {})", self.resolve)
        };
        Some(format!(
            "{kind}: {} {}: not satisfied{hint}",
            self.reference, self.rule
        ))
    }
}

/// Reads abra's rule table out of `text`: rows split on `|`, `│`, `┃` or `║`, the columns found by the
/// header row (`rule`, `satisfied`, …), or abra's default order when there is no header.
pub fn parse_table(text: &str) -> Vec<TableRow> {
    let mut cols = Columns::default();
    let mut rows = Vec::new();
    for line in text.lines() {
        let cells = cells(line);
        if cells.len() < 3 {
            continue;
        }
        let lower: Vec<String> = cells.iter().map(|c| c.to_lowercase()).collect();
        if lower.iter().any(|c| c == "rule") && lower.iter().any(|c| c == "satisfied") {
            cols = Columns::from_header(&lower);
            continue;
        }
        let Some(reference) = cells.get(cols.reference) else {
            continue;
        };
        if !looks_like_ref(reference) {
            continue;
        }
        let get = |i: Option<usize>| i.and_then(|i| cells.get(i)).cloned().unwrap_or_default();
        rows.push(TableRow {
            reference: reference.clone(),
            rule: get(cols.rule),
            severity: get(cols.severity).to_lowercase(),
            satisfied: yes_no(&get(cols.satisfied)),
            skipped: yes_no(&get(cols.skipped)) == Some(true),
            resolve: get(cols.resolve),
        });
    }
    rows
}

/// Column positions; abra's order by default.
struct Columns {
    reference: usize,
    rule: Option<usize>,
    severity: Option<usize>,
    satisfied: Option<usize>,
    skipped: Option<usize>,
    resolve: Option<usize>,
}

impl Default for Columns {
    fn default() -> Self {
        Columns {
            reference: 0,
            rule: Some(1),
            severity: Some(2),
            satisfied: Some(3),
            skipped: Some(4),
            resolve: Some(5),
        }
    }
}

impl Columns {
    fn from_header(h: &[String]) -> Columns {
        let find = |names: &[&str]| h.iter().position(|c| names.contains(&c.as_str()));
        Columns {
            reference: find(&["ref", "reference", "id"]).unwrap_or(0),
            rule: find(&["rule", "description"]),
            severity: find(&["severity", "level"]),
            satisfied: find(&["satisfied", "ok"]),
            skipped: find(&["skipped", "skip"]),
            resolve: find(&["resolve", "how to resolve", "hint"]),
        }
    }
}

/// The trimmed cells of a table line, without the empty cells the outer borders leave.
fn cells(line: &str) -> Vec<String> {
    let parts: Vec<&str> = line.split(['|', '│', '┃', '║']).collect();
    if parts.len() < 2 {
        return Vec::new();
    }
    let mut cells: Vec<String> = parts.iter().map(|c| c.trim().to_string()).collect();
    if cells.first().is_some_and(String::is_empty) {
        cells.remove(0);
    }
    if cells.last().is_some_and(String::is_empty) {
        cells.pop();
    }
    cells
}

/// `R001`, `R014`, … (abra's rule references).
fn looks_like_ref(s: &str) -> bool {
    let mut ch = s.chars();
    matches!(ch.next(), Some('R' | 'r')) && s.len() > 1 && ch.all(|c| c.is_ascii_digit())
}

fn yes_no(cell: &str) -> Option<bool> {
    match cell.trim().to_lowercase().as_str() {
        "yes" | "y" | "true" | "ok" | "✅" | "✔" | "✔️" | "✓" | "☑" => Some(true),
        "no" | "n" | "false" | "❌" | "✘" | "✗" | "x" | "☒" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::abra::strip_ansi;

    const LIPGLOSS: &str = "\
┏━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ REF  ┃ RULE                                ┃ SEVERITY ┃ SATISFIED ┃ SKIPPED ┃ RESOLVE                   ┃
┣━━━━━━╋━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╋━━━━━━━━━━╋━━━━━━━━━━━╋━━━━━━━━━╋━━━━━━━━━━━━━━━━━━━━━━━━━━━┫
┃ R001 ┃ compose config has expected version ┃ warn     ┃ ✅        ┃ ❌      ┃ ensure 'version: \"3.8\"' ┃
┃ R002 ┃ healthcheck enabled for all services┃ warn     ┃ ❌        ┃ ❌      ┃ add healthchecks          ┃
┃ R009 ┃ one service named 'app'             ┃ error    ┃ ❌        ┃ ❌      ┃ name a service 'app'      ┃
┃ R013 ┃ git.coopcloud.tech repo exists      ┃ error    ┃ ❌        ┃ ✅      ┃ upload your recipe        ┃
┗━━━━━━┻━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┻━━━━━━━━━━┻━━━━━━━━━━━┻━━━━━━━━━┻━━━━━━━━━━━━━━━━━━━━━━━━━━━┛
";

    #[test]
    fn box_drawing_table_with_emoji_cells_is_read() {
        let rows = parse_table(LIPGLOSS);
        assert_eq!(rows.len(), 4, "{rows:?}");
        assert_eq!(rows[0].reference, "R001");
        assert_eq!(rows[0].satisfied, Some(true));
        assert!(!rows[1].fails(), "an unsatisfied warning does not fail");
        assert!(rows[2].fails());
        assert!(
            rows[3].skipped && !rows[3].fails(),
            "a skipped rule does not fail"
        );
        assert_eq!(
            rows[2].message().unwrap(),
            "error: R009 one service named 'app': not satisfied (hint: name a service 'app')"
        );
        assert!(rows[1].message().unwrap().starts_with("warning: R002"));
        assert_eq!(rows[3].message(), None);
    }

    #[test]
    fn ascii_table_with_colours_and_yes_no_cells_is_read() {
        let text = "\u{1b}[1mINFO\u{1b}[0m linting hello\n\
+------+------+----------+-----------+---------+---------+\n\
| REF  | RULE | SEVERITY | SATISFIED | SKIPPED | RESOLVE |\n\
+------+------+----------+-----------+---------+---------+\n\
| R006 | has published version | error | \u{1b}[31mNO\u{1b}[0m | - | tag a release |\n\
| R008 | .env.sample provided | error | yes | - | add it |\n";
        let rows = parse_table(&strip_ansi(text));
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(rows[0].fails());
        assert!(!rows[1].fails());
        assert_eq!(rows[0].resolve, "tag a release");
    }

    #[test]
    fn header_order_is_followed_and_unreadable_cells_never_pass() {
        let text =
            "| satisfied | rule | ref |\n| maybe | odd rule | R100 |\n| no | other | R101 |\n";
        let rows = parse_table(text);
        assert_eq!(rows[0].satisfied, None);
        assert_eq!(rows[0].severity, "");
        assert!(rows[0].fails(), "an unreadable cell is not a pass");
        assert!(
            rows[1].fails(),
            "no severity column: an unsatisfied rule fails"
        );
        assert!(parse_table("no table here\n| a | b |\n").is_empty());
    }
}
