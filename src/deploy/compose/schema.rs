//! What Docker's compose schema decides per file from its `version`: every file of a stack must have
//! the same version (no `version`, and `"3"`, mean the newest, 3.13 for the 28.x client), and
//! `deploy.resources.limits.pids` exists only from 3.9 on. It reads a parsed file; it never changes it.

use serde_yaml::Value;

use super::keys::{scalar_string, Checker};
use super::ComposeError;

/// The newest compose file version the docker CLI 28.x knows; what no `version` (or `"3"`) means.
const NEWEST: (u32, u32) = (3, 13);

/// A file's version as Docker compares it: `(major, minor)`, or `None` when it is not `3` or `3.N`
/// (Docker refuses those for a stack; cc-ci leaves the refusal to the keys it reads).
pub fn version(file: &Value) -> Option<(u32, u32)> {
    let Some(v) = file.get("version") else {
        return Some(NEWEST);
    };
    let text = scalar_string(v);
    match text.split_once('.') {
        None if text == "3" => Some(NEWEST),
        Some(("3", minor)) => minor.parse().ok().map(|m| (3, m)),
        _ => None,
    }
}

/// The version as `docker stack config` prints it: no version and `"3"` are the newest.
pub fn printed_version(v: Option<&str>) -> String {
    match v {
        None | Some("3") => shown(Some(NEWEST)),
        Some(v) => v.to_string(),
    }
}

fn shown(v: Option<(u32, u32)>) -> String {
    v.map(|(a, b)| format!("{a}.{b}"))
        .unwrap_or_else(|| "unknown".into())
}

/// Refuses a file whose version differs from the first file's, as `docker stack deploy` does.
pub fn same_version(
    first: Option<(u32, u32)>,
    file: &Value,
    ck: &Checker,
) -> Result<(), ComposeError> {
    let this = version(file);
    if this == first {
        return Ok(());
    }
    Err(ck.invalid(
        "version",
        format!(
            "version {} differs from the first compose file's {} (hint: Docker refuses compose files of different versions in one stack; give every file the same `version`, an absent one meaning {})",
            shown(this),
            shown(first),
            shown(Some(NEWEST))
        ),
    ))
}

/// Refuses `deploy.resources.limits.pids` in a file older than version 3.9, as Docker's schema does.
pub fn pids_needs_3_9(file: &Value, ck: &Checker) -> Result<(), ComposeError> {
    let Some((3, minor)) = version(file) else {
        return Ok(());
    };
    if minor >= 9 {
        return Ok(());
    }
    let services = file.get("services").and_then(Value::as_mapping);
    for (name, svc) in services.into_iter().flatten() {
        let limits = svc
            .get("deploy")
            .and_then(|d| d.get("resources"))
            .and_then(|r| r.get("limits"));
        if limits.and_then(|l| l.get("pids")).is_some() {
            let key = format!(
                "services.{}.deploy.resources.limits.pids",
                scalar_string(name)
            );
            return Err(ck.invalid(
                &key,
                format!("Docker's schema for version 3.{minor} has no pids (hint: set `version: \"3.9\"` or later in every compose file, or remove it)"),
            ));
        }
    }
    Ok(())
}
