//! HTML helpers for the dashboard: escaping, the page shell with its inline stylesheet, and small
//! shared fragments. No scripts, no external assets: every page works from file://.

use crate::report::level::RungStatus;
use crate::report::model::Outcome;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A ledger or run timestamp (RFC 3339, often with nanoseconds) as a person reads it: `<time>` showing
/// `2026-11-30 16:41:07 UTC`, the exact value kept in its `datetime` and `title`. Text that is not
/// RFC 3339 is shown as it is.
pub fn when(raw: &str) -> String {
    match human_time(raw) {
        Some(h) => format!(
            "<time datetime=\"{r}\" title=\"{r}\">{h}</time>",
            r = esc(raw)
        ),
        None => esc(raw),
    }
}

/// `2026-11-30 16:41:07 UTC` for an RFC 3339 time (any offset, converted to UTC); `None` when `raw`
/// is not one.
pub fn human_time(raw: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(raw, &Rfc3339).ok()?;
    let t = t.to_offset(time::UtcOffset::UTC);
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.format(&fmt).ok()
}

/// Escapes a relative URL path segment by segment (file names chosen by [`super::slug`] need none,
/// but a recipe name could).
pub fn href(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            seg.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    b => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

const CSS: &str = r#"
:root{--fg:#1f2328;--mut:#59636e;--bd:#d1d9e0;--bg:#fff;--alt:#f6f8fa;--ok:#1a7f37;--bad:#cf222e;--skip:#8250df;--unv:#9a6700}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg);margin:0;padding:24px 32px;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--bd);padding-bottom:4px}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
.sub{color:var(--mut);margin:0 0 16px}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{border:1px solid var(--bd);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--alt);font-weight:600}
tr:nth-child(even) td{background:#fbfcfd}
code,pre{font:12.5px/1.4 ui-monospace,"DejaVu Sans Mono",monospace}
pre{background:var(--alt);border:1px solid var(--bd);padding:8px;overflow:auto;white-space:pre-wrap;margin:4px 0}
.pass,.passed{color:var(--ok);font-weight:600}.fail,.failed{color:var(--bad);font-weight:600}
.skip,.ignored{color:var(--skip)}.unverified,.not-run,.unsupported{color:var(--unv)}
.trend{white-space:nowrap}
.mark{display:inline-block;width:18px;height:18px;line-height:18px;margin-right:2px;border-radius:3px;text-align:center;font-size:11px;font-weight:700;color:#fff}
.l0{background:#e05d44}.l1{background:#fe7d37}.l2{background:#dfb317}.l3{background:#a4a61d}.l4{background:#97ca00}.l5{background:#44cc11}
.mark.failed-run{outline:2px solid var(--bad);outline-offset:-2px}
.flag{color:var(--unv)}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:8px 0}dt{color:var(--mut)}dd{margin:0}
"#;

/// A complete page. `title` and `body` are already HTML (the caller escapes).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
}

/// `<span class="pass">pass</span>` for a rung status.
pub fn rung_status(s: &RungStatus) -> String {
    let w = s.word();
    format!("<span class=\"{w}\">{w}</span>")
}

/// A coloured word for an assertion outcome.
pub fn outcome(o: &Outcome) -> String {
    let class = o.label().replace(' ', "-");
    format!("<span class=\"{class}\">{}</span>", esc(o.label()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nanosecond_timestamp_is_shown_as_utc_seconds_with_the_exact_value_kept() {
        let raw = "2026-11-30T16:41:07.123456789Z";
        assert_eq!(
            when(raw),
            "<time datetime=\"2026-11-30T16:41:07.123456789Z\" title=\"2026-11-30T16:41:07.123456789Z\">2026-11-30 16:41:07 UTC</time>"
        );
        // Another offset is converted to UTC; what is not a time is shown as it is, escaped.
        assert_eq!(
            human_time("2026-11-30T18:41:07+02:00").as_deref(),
            Some("2026-11-30 16:41:07 UTC")
        );
        assert_eq!(when("<soon>"), "&lt;soon&gt;");
    }
}
