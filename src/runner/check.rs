//! How each spec check is evaluated against the live app. A spec says *what*; this file owns *how*.
//! Every failure message says what was expected and what was found.

use crate::spec::{Check, Command, Compare, TextMatch};

use super::context::{Live, LiveError, Snapshot};
use super::http;

/// Why a check failed: what was expected and what was found (redacted), as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Failure(pub String);

impl From<LiveError> for Failure {
    fn from(e: LiveError) -> Self {
        Failure(e.to_string())
    }
}

impl From<String> for Failure {
    fn from(m: String) -> Self {
        Failure(m)
    }
}

impl From<&str> for Failure {
    fn from(m: &str) -> Self {
        Failure(m.to_string())
    }
}

/// A failed check with `message`.
pub fn fail<T>(message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure(message.into()))
}

/// Evaluates one check. `Err` carries the failure message shown in reports.
pub fn evaluate(live: &Live, check: &Check) -> Result<(), Failure> {
    match check {
        Check::Converged => converged(live),
        Check::Healthy => healthy(live),
        Check::Label {
            service,
            key,
            expect,
        } => label(live, service.as_deref(), key, expect),
        Check::DeployedHead => deployed_head(live),
        Check::VersionMoved => version_moved(live),
        Check::Exec {
            service,
            command,
            exit,
            stdout,
            stderr,
            record,
        } => {
            let out = live.exec(service, &command.argv(), Some(*exit))?;
            let expect = [
                ("stdout", &out.stdout, stdout),
                ("stderr", &out.stderr, stderr),
            ];
            for (what, got, m) in expect {
                if let Some(m) = m {
                    expect_text(what, got, m)?;
                }
            }
            if let Some(name) = record {
                live.record(name, out.stdout.trim_end().to_string());
            }
            Ok(())
        }
        Check::File {
            service,
            path,
            exists,
            contains,
        } => file(live, service, path, *exists, contains.as_ref()),
        Check::Logs {
            service,
            matches,
            not_matches,
        } => logs(live, service, matches, not_matches),
        Check::Http {
            path,
            status,
            body,
            service,
            port,
        } => http::check(live, service.as_deref(), *port, path, status, body.as_ref()),
        Check::Recorded {
            name,
            service,
            command,
            compare,
        } => recorded(live, name, service, command, compare),
        Check::BackupExists => backup_exists(live),
    }
}

/// A label of a service's spec matches; `{stack}` in the key is the stack.
fn label(live: &Live, service: Option<&str>, key: &str, expect: &TextMatch) -> Result<(), Failure> {
    let svc = service.unwrap_or(&live.main_service);
    let key = key.replace("{stack}", &live.app.stack);
    let s = live.service(svc)?;
    match s.labels.get(&key) {
        None => fail(format!("service `{svc}` has no label `{key}`")),
        Some(v) if expect.matches(v) => Ok(()),
        Some(v) => fail(format!(
            "label `{key}` of service `{svc}` is {v:?}, expected it to {}",
            describe(expect)
        )),
    }
}

/// The service's last 2000 log lines match every regex of `matches` and none of `not_matches`.
fn logs(
    live: &Live,
    service: &str,
    matches: &[regex::Regex],
    not_matches: &[regex::Regex],
) -> Result<(), Failure> {
    let logs = live
        .engine
        .logs(&live.app.stack, service, 2000)
        .map_err(|e| live.engine_error(e))?;
    let logs = live.app.redactor.redact(&logs);
    for re in matches {
        if !re.is_match(&logs) {
            return fail(format!(
                "logs of `{service}` do not match /{re}/ (last lines:\n{})",
                tail(&logs, 10)
            ));
        }
    }
    for re in not_matches {
        if let Some(m) = re.find(&logs) {
            return fail(format!(
                "logs of `{service}` match /{re}/, which must not appear: {:?}",
                m.as_str()
            ));
        }
    }
    Ok(())
}

fn describe(m: &TextMatch) -> String {
    match m {
        TextMatch::Equals(s) => format!("equal {s:?}"),
        TextMatch::Contains(s) => format!("contain {s:?}"),
        TextMatch::Regex(r) => format!("match /{r}/"),
    }
}

fn expect_text(what: &str, got: &str, m: &TextMatch) -> Result<(), Failure> {
    let got_cmp = got.trim_end_matches('\n');
    if m.matches(got_cmp) {
        Ok(())
    } else {
        fail(format!(
            "{what} was {:?}, expected it to {}",
            tail(got_cmp, 20),
            describe(m)
        ))
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn converged(live: &Live) -> Result<(), Failure> {
    let services = live.services()?;
    if services.is_empty() {
        return fail(format!("no services in stack {}", live.app.stack));
    }
    let mut problems = Vec::new();
    for s in &services {
        if s.running < s.desired {
            problems.push(format!(
                "{}: {}/{} replicas running",
                s.name, s.running, s.desired
            ));
        }
        if s.healthy == Some(false) {
            problems.push(format!("{}: unhealthy", s.name));
        }
        if let Some(u) = &s.update_state {
            if u.contains("rollback") || u == "paused" {
                problems.push(format!("{}: update {u}", s.name));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        fail(format!("not converged: {}", problems.join("; ")))
    }
}

fn healthy(live: &Live) -> Result<(), Failure> {
    let services = live.services()?;
    let unhealthy: Vec<String> = services
        .iter()
        .filter(|s| s.healthy == Some(false) || s.running == 0)
        .map(|s| s.name.clone())
        .collect();
    if unhealthy.is_empty() {
        Ok(())
    } else {
        fail(format!("unhealthy services: {}", unhealthy.join(", ")))
    }
}

/// The upgrade proof: the deployed chaos-version must be head_ref.
pub fn deployed_head(live: &Live) -> Result<(), Failure> {
    let now = live.snapshot()?;
    if let Some(u) = &now.update_state {
        if u.contains("rollback") {
            return fail(format!(
                "upgrade rolled back: swarm reverted service `{}` to its previous spec (update state {u}); the head was never running",
                live.main_service
            ));
        }
    }
    let Some(head) = live.head_ref.as_deref() else {
        return version_moved(live)
            .map_err(|e| Failure(format!("head_ref unknown, fallback: {e}")));
    };
    verify_chaos_version(head, now.chaos_version.as_deref(), &live.app.stack).map_err(|e| {
        Failure(format!(
            "{e}; deployed: version={}, image={}",
            now.version.as_deref().unwrap_or("(no version label)"),
            now.image
        ))
    })
}

/// Compares a deployed chaos-version with head_ref. Pure, so every rule has a unit test.
pub fn verify_chaos_version(
    head: &str,
    deployed: Option<&str>,
    stack: &str,
) -> Result<(), Failure> {
    let Some(cv) = deployed else {
        return fail(format!(
            "no label coop-cloud.{stack}.chaos-version on the deployed service: the head was not chaos-deployed (head_ref={head})"
        ));
    };
    if cv.ends_with("+U") {
        return fail(format!(
            "deployed chaos-version {cv} carries the dirty marker +U: the tree that ran is not head_ref={head}"
        ));
    }
    let ok = cv.len() >= 7
        && cv.chars().all(|c| c.is_ascii_hexdigit())
        && head
            .to_ascii_lowercase()
            .starts_with(&cv.to_ascii_lowercase());
    if ok {
        Ok(())
    } else {
        fail(format!(
            "stale deploy: deployed chaos-version={cv} is not head_ref={head}"
        ))
    }
}

fn version_moved(live: &Live) -> Result<(), Failure> {
    let before = live
        .install
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .ok_or("no install snapshot to compare with (install op did not complete)")?;
    let now = live.snapshot()?;
    moved(&before, &now)
}

/// The fallback upgrade proof: the version label, the image or the chaos marker moved.
pub fn moved(before: &Snapshot, now: &Snapshot) -> Result<(), Failure> {
    if before.version != now.version
        || before.image != now.image
        || (before.chaos_version != now.chaos_version && now.chaos_version.is_some())
    {
        Ok(())
    } else {
        fail(format!(
            "nothing moved: version {:?}, image {}, chaos-version {:?} are the same as at install",
            now.version, now.image, now.chaos_version
        ))
    }
}

fn file(
    live: &Live,
    service: &str,
    path: &str,
    exists: bool,
    contains: Option<&TextMatch>,
) -> Result<(), Failure> {
    let test = vec!["test".into(), "-e".into(), path.to_string()];
    let out = live.exec(service, &test, None)?;
    let present = out.exit_code == 0;
    if present != exists {
        return fail(if exists {
            format!("{path} does not exist in `{service}`")
        } else {
            format!("{path} exists in `{service}` but must not")
        });
    }
    if let (true, Some(m)) = (exists, contains) {
        let cat = vec!["cat".into(), path.to_string()];
        let out = live.exec(service, &cat, Some(0))?;
        if !m.matches(&out.stdout) {
            return fail(format!(
                "{path} in `{service}` does not {} (it holds {:?})",
                describe(m),
                tail(&out.stdout, 10)
            ));
        }
    }
    Ok(())
}

fn recorded(
    live: &Live,
    name: &str,
    service: &str,
    command: &Command,
    compare: &Compare,
) -> Result<(), Failure> {
    let Some(before) = live.recorded(name) else {
        return fail(format!(
            "no value recorded under `{name}` (hint: a seeding step with `record: {name}` must run in an earlier tier)"
        ));
    };
    let out = live.exec(service, &command.argv(), Some(0))?;
    let now = out.stdout.trim_end().to_string();
    match compare {
        Compare::Equals if now == before => Ok(()),
        Compare::Equals => fail(format!(
            "`{name}` changed: recorded {before:?}, now {now:?}"
        )),
        Compare::Differs if now != before => Ok(()),
        Compare::Differs => fail(format!("`{name}` did not change: still {now:?}")),
    }
}

fn backup_exists(live: &Live) -> Result<(), Failure> {
    let b = live
        .backup
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let Some(b) = b else {
        return fail("no backup was made by the backup op");
    };
    let meta = std::fs::metadata(&b.path)
        .map_err(|e| Failure(format!("backup artifact {}: {e}", b.path.display())))?;
    if meta.is_file() && meta.len() == 0 {
        return fail(format!("backup artifact {} is empty", b.path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "09bf4d54a1b2c3d4e5f60718293a4b5c6d7e8f90";

    #[test]
    fn chaos_version_matching_head_ref_passes() {
        assert!(verify_chaos_version(HEAD, Some("09bf4d54"), "s").is_ok());
    }

    #[test]
    fn stale_chaos_version_fails_naming_both_values() {
        let e = verify_chaos_version(HEAD, Some("aaaaaaaa"), "s")
            .unwrap_err()
            .0;
        assert!(e.contains("aaaaaaaa") && e.contains(HEAD), "{e}");
    }

    #[test]
    fn dirty_marker_fails_even_when_the_commit_matches() {
        let e = verify_chaos_version(HEAD, Some("09bf4d54+U"), "s")
            .unwrap_err()
            .0;
        assert!(e.contains("+U"), "{e}");
    }

    #[test]
    fn chaos_version_shorter_than_seven_characters_fails() {
        assert!(verify_chaos_version(HEAD, Some("09bf4d"), "s").is_err());
    }

    #[test]
    fn missing_chaos_label_fails() {
        let e = verify_chaos_version(HEAD, None, "st").unwrap_err().0;
        assert!(e.contains("coop-cloud.st.chaos-version"), "{e}");
    }

    #[test]
    fn fallback_accepts_a_moved_version_and_refuses_prev_to_prev() {
        let a = Snapshot {
            version: Some("1.0.0".into()),
            image: "x:1".into(),
            ..Default::default()
        };
        let mut b = a.clone();
        assert!(moved(&a, &b).is_err(), "prev→prev must not pass");
        b.version = Some("1.1.0".into());
        assert!(moved(&a, &b).is_ok());
    }
}
