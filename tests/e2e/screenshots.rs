//! Screenshots on the real engine with Debian's Chromium: a run of the example recipe with
//! `--screenshots auto` leaves `screenshot-install.png` and `screenshot-upgrade.png` among its
//! artifacts (PNGs of at least 1024×700 showing the app's page, read from their headers), names them in
//! results.json, the Markdown comment and the terminal, and leaves no forwarder behind. `off` takes none;
//! a browser that fails is reported with the reason and the run still passes.

use std::path::Path;
use std::process::Command;

use crate::support::cli::text;
use crate::support::run::RunFixture;
use crate::support::schema::schema_errors;

/// Runs install (and upgrade when asked) with `extra`; returns results.json, the Markdown and the
/// terminal text, after checking the run passed and left nothing of its stack.
fn run(f: &RunFixture, stages: &str, extra: &[&str]) -> (serde_json::Value, String, String) {
    let md = f.dir.path().join("summary.md");
    let md_s = md.display().to_string();
    let mut args = vec!["--stages", stages, "--summary-md", &md_s];
    args.extend(extra);
    let out = f.run(&args);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    f.assert_nothing_left();
    let markdown = std::fs::read_to_string(&md).unwrap();
    (f.results(), markdown, shown)
}

/// Width and height from the PNG's IHDR chunk, read here independently of cc-ci.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{} is a PNG", path.display());
    assert_eq!(&b[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Forwarder services and containers still on the engine for `run_id`, with the docker CLI.
fn forwarders_of(run_id: &str) -> Vec<String> {
    let containers = Command::new("docker")
        .args(["ps", "-a", "--filter", "label=cc-ci.forwarder"])
        .args(["--format", "{{.Names}} {{.Label \"cc-ci.run-id\"}}"])
        .output()
        .unwrap();
    let mut left: Vec<String> = String::from_utf8_lossy(&containers.stdout)
        .lines()
        .filter(|l| l.ends_with(&format!(" {run_id}")))
        .map(|l| format!("container {l}"))
        .collect();
    let ids = Command::new("docker")
        .args(["service", "ls", "-q", "--filter", "label=cc-ci.forwarder"])
        .output()
        .unwrap();
    for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
        let f = "{{.Spec.Name}} {{index .Spec.Labels \"cc-ci.run-id\"}}";
        let o = Command::new("docker")
            .args(["service", "inspect", "-f", f, id])
            .output()
            .unwrap();
        let line = String::from_utf8_lossy(&o.stdout).trim().to_string();
        if line.ends_with(&format!(" {run_id}")) {
            left.push(line);
        }
    }
    left
}

/// Every screenshot record of results.json, by tier.
fn shots(r: &serde_json::Value) -> Vec<serde_json::Value> {
    r["screenshots"].as_array().cloned().unwrap_or_default()
}

#[test]
fn install_and_upgrade_each_leave_a_screenshot_named_in_every_report_and_no_forwarder() {
    let f = RunFixture::new("shot");
    let (r, md, shown) = run(&f, "install,upgrade", &["--screenshots", "auto"]);
    let all = shots(&r);
    assert_eq!(all.len(), 2, "{all:#?}\n{shown}");
    assert_eq!(schema_errors(&r), Vec::<String>::new());
    for (s, tier) in all.iter().zip(["install", "upgrade"]) {
        assert_eq!(s["tier"], tier, "{s:#}");
        assert!(s.get("error").is_none(), "{s:#}\n{shown}");
        let path = f.artifacts.join(format!("screenshot-{tier}.png"));
        assert_eq!(s["path"], path.display().to_string(), "{s:#}");
        let (w, h) = png_size(&path);
        assert!(w >= 1024 && h >= 700, "{tier}: {w}×{h}");
        assert_eq!(
            (s["width"].as_u64(), s["height"].as_u64()),
            (Some(w.into()), Some(h.into()))
        );
        assert_eq!(s["url"], format!("http://{}/", f.domain), "{s:#}");
        assert!(
            s["via"]
                .as_str()
                .unwrap()
                .starts_with("forwarder ccci-fwd-"),
            "{s:#}"
        );
        assert!(
            md.contains(&format!("![{tier} screenshot](screenshot-{tier}.png)")),
            "{md}"
        );
        assert!(
            shown.contains(&format!("screenshot {tier}: {} ({w}×{h}, ", path.display())),
            "{shown}"
        );
        // The timing cost of a screenshot (forwarder and browser), for the closing note of #16.
        eprintln!("screenshot {tier}: {} ms", s["duration_ms"]);
    }
    // A page, not a blank: the app's greeting renders dark text, so the PNG is more than a flat fill.
    let size = std::fs::metadata(f.artifacts.join("screenshot-install.png"))
        .unwrap()
        .len();
    assert!(size > 2_000, "the screenshot is {size} bytes");
    let run_id = r["run_id"].as_str().unwrap();
    assert_eq!(forwarders_of(run_id), Vec::<String>::new());
    let events = std::fs::read_to_string(f.artifacts.join("events.jsonl")).unwrap();
    assert_eq!(events.matches("\"event\":\"screenshot\"").count(), 2);
    // The dashboard shows them too, copied beside the run's page.
    let out = f.dir.path().join("dashboard");
    let o = crate::support::cli::cc_ci(f.dir.path())
        .args(["dashboard", "--coord-dir"])
        .arg(&f.coord)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", crate::support::cli::text(&o));
    let page_dir = out
        .join("runs")
        .join(cc_ci::report::dashboard::slug(run_id));
    let page = std::fs::read_to_string(page_dir.join("index.html")).unwrap();
    for tier in ["install", "upgrade"] {
        assert!(
            page.contains(&format!("<img src=\"screenshot-{tier}.png\"")),
            "{page}"
        );
        assert_eq!(
            png_size(&page_dir.join(format!("screenshot-{tier}.png"))),
            png_size(&f.artifacts.join(format!("screenshot-{tier}.png")))
        );
    }
}

#[test]
fn screenshots_off_takes_none_and_says_nothing_of_them() {
    let f = RunFixture::new("shotoff");
    let (r, md, shown) = run(&f, "install", &["--screenshots", "off"]);
    assert!(r.get("screenshots").is_none(), "{r:#}");
    assert!(!f.artifacts.join("screenshot-install.png").exists());
    assert!(!md.contains("Screenshots"), "{md}");
    assert!(!shown.contains("screenshot install"), "{shown}");
}

#[test]
fn a_browser_that_fails_is_reported_with_the_reason_and_the_run_still_passes() {
    let f = RunFixture::new("shotfail");
    let (r, md, shown) = run(
        &f,
        "install",
        &["--screenshots", "auto", "--chromium", "/bin/false"],
    );
    let all = shots(&r);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(schema_errors(&r), Vec::<String>::new());
    let s = &all[0];
    assert_eq!(s["path"], serde_json::Value::Null);
    let why = s["error"].as_str().unwrap();
    assert_eq!(why, "/bin/false exited with exit status: 1", "{s:#}");
    assert!(!f.artifacts.join("screenshot-install.png").exists());
    assert!(
        md.contains(&format!("- **install** · not taken: {why}")),
        "{md}"
    );
    assert!(shown.contains("screenshot install: not taken ("), "{shown}");
    assert!(shown.contains(why), "{shown}");
    assert_eq!(r["exit_code"], 0);
    assert_eq!(
        forwarders_of(r["run_id"].as_str().unwrap()),
        Vec::<String>::new()
    );
}

#[test]
fn bad_screenshot_mode_is_a_usage_error() {
    let f = RunFixture::new("shotbad");
    let out = f.run(&["--screenshots", "sometimes"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(4), "{shown}");
    assert!(shown.contains("expected auto or off"), "{shown}");
}
