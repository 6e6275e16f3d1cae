//! What a run shows beside its verdicts, as records of the [`RunResult`](super::RunResult) model: the
//! upgrade base and why it was chosen, and the screenshots of the app. Like the rest of the model, renderers only read these; every
//! field added to results.json has `#[serde(default)]` so older files still load.

use serde::{Deserialize, Serialize};

use super::model::short_ref;

/// How the upgrade base was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaseFrom {
    /// The newest green run of the recipe on this host whose head is an ancestor of head_ref.
    LastGreen,
    /// The newest release tag that is an ancestor of head_ref.
    PreviousRelease,
    /// A commit or tag asked for (`--upgrade-from REF`, recipe.yaml `upgrade_base`).
    Ref,
    /// Nothing to upgrade from: the upgrade tier does not run.
    None,
}

impl BaseFrom {
    /// The word the ledger records.
    pub fn word(self) -> &'static str {
        match self {
            BaseFrom::LastGreen => "last_green",
            BaseFrom::PreviousRelease => "previous_release",
            BaseFrom::Ref => "ref",
            BaseFrom::None => "none",
        }
    }
}

/// What install deployed before the upgrade, and why that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeBase {
    pub from: BaseFrom,
    /// The full commit installed; `None` when there is no base.
    pub commit: Option<String>,
    /// The release tag that names the commit, when one does (install then deploys that release).
    pub tag: Option<String>,
    /// The green run whose head the base is (`last_green`).
    pub run_id: Option<String>,
    /// Why this base (or why none), in a sentence.
    pub reason: String,
}

impl UpgradeBase {
    /// `1a2b3c4d (last green run 20261130t…)`, `1a2b3c4d (previous release 1.1.0+1.36.1)`, or
    /// `none (<reason>)`, as the header and the summary show it.
    pub fn describe(&self) -> String {
        let Some(commit) = &self.commit else {
            return format!("none ({})", self.reason);
        };
        let why = match (self.from, &self.tag, &self.run_id) {
            (BaseFrom::LastGreen, _, Some(run)) => format!("last green run {run}"),
            (BaseFrom::PreviousRelease, Some(tag), _) => format!("previous release {tag}"),
            _ => self.reason.clone(),
        };
        format!("{} ({why})", short_ref(commit))
    }
}

/// A screenshot of the app's health page after a tier's op (`--screenshots auto`), or why none was
/// taken. Never a verdict: a screenshot that cannot be taken changes no tier and no exit code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Screenshot {
    /// `install` or `upgrade`.
    pub tier: String,
    /// The PNG (`<artifacts>/screenshot-<tier>.png`); `None` when it was not taken.
    #[serde(default)]
    pub path: Option<std::path::PathBuf>,
    /// The page as the browser asked for it, e.g. `http://hello.ci.local/`.
    #[serde(default)]
    pub url: String,
    /// How the page was reached, e.g. `forwarder ccci-fwd-… on network proxy`.
    #[serde(default)]
    pub via: String,
    /// The image's size in pixels, read from the PNG header.
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    /// Wall time of the forwarder and the browser together.
    #[serde(default)]
    pub duration_ms: u64,
    /// Why it was not taken (`path` is then `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Screenshot {
    /// The terminal's line: `screenshot install: PATH (1280×800, 2.1s)` or why it was not taken.
    pub fn line(&self) -> String {
        let took = super::model::human_ms(self.duration_ms);
        match (&self.path, &self.error) {
            (Some(p), None) => format!(
                "screenshot {}: {} ({}×{}, {took})",
                self.tier,
                p.display(),
                self.width,
                self.height
            ),
            (_, e) => format!(
                "screenshot {}: not taken ({took}): {}",
                self.tier,
                e.as_deref().unwrap_or("no file")
            ),
        }
    }

    /// The file name, for links next to results.json (`screenshot-install.png`).
    pub fn file_name(&self) -> Option<String> {
        self.path
            .as_ref()
            .and_then(|p| p.file_name())
            .map(|f| f.to_string_lossy().into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_is_described_by_its_commit_and_where_it_came_from() {
        let mut b = UpgradeBase {
            from: BaseFrom::LastGreen,
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            tag: None,
            run_id: Some("20261130t101010-abcdef".into()),
            reason: "newest green run".into(),
        };
        assert_eq!(
            b.describe(),
            "01234567 (last green run 20261130t101010-abcdef)"
        );
        b.from = BaseFrom::PreviousRelease;
        b.tag = Some("1.1.0+1.36.1".into());
        assert_eq!(b.describe(), "01234567 (previous release 1.1.0+1.36.1)");
        b.commit = None;
        b.from = BaseFrom::None;
        b.reason = "no release tag".into();
        assert_eq!(b.describe(), "none (no release tag)");
    }

    #[test]
    fn a_screenshot_line_names_the_file_or_why_there_is_none() {
        let mut s = Screenshot {
            tier: "install".into(),
            path: Some("/a/screenshot-install.png".into()),
            url: "http://h/".into(),
            via: "forwarder".into(),
            width: 1280,
            height: 800,
            duration_ms: 2100,
            error: None,
        };
        assert_eq!(
            s.line(),
            "screenshot install: /a/screenshot-install.png (1280×800, 2.1s)"
        );
        assert_eq!(s.file_name().as_deref(), Some("screenshot-install.png"));
        s.path = None;
        s.error = Some("chromium was not found".into());
        assert_eq!(
            s.line(),
            "screenshot install: not taken (2.1s): chromium was not found"
        );
        assert_eq!(s.file_name(), None);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["error"], "chromium was not found");
        let back: Screenshot = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
    }
}
