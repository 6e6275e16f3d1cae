//! Headless Chromium for tests that look at HTML output as a person would.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's Chromium; a clear failure when it is missing (never a silent pass).
pub fn chromium() -> PathBuf {
    for c in ["chromium", "chromium-browser"] {
        if let Ok(out) = Command::new("which").arg(c).output() {
            if out.status.success() {
                return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            }
        }
    }
    panic!("chromium is not installed: the dashboard cannot be checked as a person sees it (hint: run scripts/setup-chromium.sh)");
}

/// Runs headless Chromium on `url` with `extra` flags (`--dump-dom`, `--screenshot=…`); returns stdout.
pub fn browse(profile: &Path, url: &str, extra: &[&str]) -> String {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("running chromium");
    assert!(
        out.status.success(),
        "chromium failed on {url}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
