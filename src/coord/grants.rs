//! Signed escape grants: files in the grants directory holding claims (id, gate, scope, time window,
//! uses, reason, minter) and an HMAC-SHA256 tag over their canonical encoding under the grant key.
//! Minting, listing and revoking live here; checking lives in `grant_check`. Revocation is both a
//! marker file beside the grant and a ledger event, so deleting either one does not revive a grant.
//! It never prints or records the key.

use std::path::PathBuf;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;

use super::event::{canonical, format_rfc3339, now_rfc3339};
use super::{key, sys, CoordError, CoordPaths, Ledger, NewEvent};

type HmacSha256 = Hmac<Sha256>;

/// Domain separation for the tag, and the format version of grant files.
const TAG_CONTEXT: &[u8] = b"cc-ci grant v1\n";

/// What a grant covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    pub recipe: String,
    /// `None` covers every PR of the recipe.
    pub pr: Option<u64>,
}

/// The signed content of a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    pub id: String,
    pub gate: String,
    pub scope: Scope,
    /// RFC 3339 UTC.
    pub not_before: String,
    /// RFC 3339 UTC.
    pub expires: String,
    /// How many allowed checks it can answer.
    pub uses: u32,
    pub reason: String,
    pub minter: String,
    /// Set on a settlement (`grant mint --settles ID`): the id of the off-switch obligation it covers
    /// after the fact. A settlement is a record, never a live grant: no run or check can use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settles: Option<String>,
}

/// A grant file: claims and their tag (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantFile {
    pub claims: Claims,
    pub tag: String,
}

/// What to mint.
#[derive(Debug, Clone)]
pub struct MintRequest {
    pub gate: String,
    pub recipe: String,
    pub pr: Option<u64>,
    pub ttl: Duration,
    pub uses: u32,
    pub reason: String,
    pub minter: String,
}

fn mac(key: &[u8; key::KEY_LEN], claims: &Claims) -> HmacSha256 {
    // A 32-byte key is always accepted by HMAC.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).expect("hmac accepts any key length");
    m.update(TAG_CONTEXT);
    let v = serde_json::to_value(claims).unwrap_or_default();
    m.update(canonical(&v).as_bytes());
    m
}

/// The tag of `claims` under `key`, lowercase hex.
pub fn sign(key: &[u8; key::KEY_LEN], claims: &Claims) -> String {
    hex::encode(mac(key, claims).finalize().into_bytes())
}

/// Whether `tag` is the tag of `claims` under `key` (constant-time comparison).
pub fn tag_verifies(key: &[u8; key::KEY_LEN], claims: &Claims, tag: &str) -> bool {
    match hex::decode(tag) {
        Ok(bytes) => mac(key, claims).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

/// The path of grant `id`'s file and of its revocation marker.
pub fn grant_path(paths: &CoordPaths, id: &str) -> PathBuf {
    paths.grants.join(format!("{id}.json"))
}

pub(crate) fn revoked_marker(paths: &CoordPaths, id: &str) -> PathBuf {
    paths.grants.join(format!("{id}.revoked"))
}

/// The gates a grant can open.
pub const GATES: &[&str] = &["repo-local", "skip-generic"];

/// The longest a grant may live: grants are short-lived escapes, not standing permissions.
pub const MAX_TTL: Duration = Duration::from_secs(90 * 86_400);

/// A gate must be one the runner asks for; a typo would mint a grant nothing ever checks.
pub fn check_gate(gate: &str) -> Result<(), CoordError> {
    if GATES.contains(&gate) {
        return Ok(());
    }
    let near = GATES
        .iter()
        .find(|g| strsim::damerau_levenshtein(g, gate) <= 3)
        .map(|g| format!("did you mean `{g}`? "))
        .unwrap_or_default();
    Err(CoordError::Usage(format!(
        "unknown gate `{gate}` ({near}known gates: {})",
        GATES.join(", ")
    )))
}

/// A recipe name as `cc-ci overlay new` accepts it: letters, digits, `_`, `-`, `.`; no path.
pub fn check_recipe(recipe: &str) -> Result<(), CoordError> {
    let ok = !recipe.is_empty()
        && !recipe.starts_with('.')
        && !recipe.contains("..")
        && recipe
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        return Ok(());
    }
    Err(CoordError::Usage(format!(
        "recipe name `{recipe}` may hold only letters, digits, `_`, `-` and `.`, and is not a path (hint: give the name, e.g. `hello`)"
    )))
}

impl MintRequest {
    /// Refuses a request no grant should be minted for (usage errors).
    pub fn check(&self) -> Result<(), CoordError> {
        check_request(self)
    }
}

fn check_request(req: &MintRequest) -> Result<(), CoordError> {
    for (name, v) in [
        ("gate", &req.gate),
        ("recipe", &req.recipe),
        ("reason", &req.reason),
    ] {
        if v.trim().is_empty() {
            return Err(CoordError::Usage(format!("--{name} must not be empty")));
        }
    }
    check_gate(&req.gate)?;
    check_recipe(&req.recipe)?;
    if req.uses == 0 {
        return Err(CoordError::Usage("--uses must be at least 1".into()));
    }
    if req.ttl.is_zero() || req.ttl > MAX_TTL {
        return Err(CoordError::Usage(format!(
            "--ttl must be longer than zero and at most {}",
            crate::duration::show(MAX_TTL)
        )));
    }
    Ok(())
}

/// Mints a grant: writes its file and records a `grant_mint` event. Returns the claims.
pub fn mint(paths: &CoordPaths, ledger: &Ledger, req: &MintRequest) -> Result<Claims, CoordError> {
    check_request(req)?;
    let key = key::load(&paths.grant_key, key::GRANT)?;
    let now = time::OffsetDateTime::now_utc();
    let ttl =
        time::Duration::try_from(req.ttl).map_err(|e| CoordError::Usage(format!("--ttl: {e}")))?;
    let claims = Claims {
        id: new_id()?,
        gate: req.gate.clone(),
        scope: Scope {
            recipe: req.recipe.clone(),
            pr: req.pr,
        },
        not_before: format_rfc3339(now),
        expires: format_rfc3339(now.checked_add(ttl).ok_or_else(|| {
            CoordError::Usage(format!(
                "--ttl {} reaches past the calendar",
                crate::duration::show(req.ttl)
            ))
        })?),
        uses: req.uses,
        reason: req.reason.clone(),
        minter: req.minter.clone(),
        settles: None,
    };
    write_and_record(paths, ledger, &key, &claims)?;
    Ok(claims)
}

/// A fresh grant id (`g-` and 12 hex digits).
pub(crate) fn new_id() -> Result<String, CoordError> {
    let mut rnd = [0u8; 6];
    getrandom::getrandom(&mut rnd)
        .map_err(|e| CoordError::Grant(format!("cannot draw a grant id: {e}")))?;
    Ok(format!("g-{}", hex::encode(rnd)))
}

/// Signs `claims`, writes the grant file and records its `grant_mint` event.
pub(crate) fn write_and_record(
    paths: &CoordPaths,
    ledger: &Ledger,
    key: &[u8; key::KEY_LEN],
    claims: &Claims,
) -> Result<(), CoordError> {
    let file = GrantFile {
        tag: sign(key, claims),
        claims: claims.clone(),
    };
    let path = grant_path(paths, &claims.id);
    let bytes = serde_json::to_vec_pretty(&file).map_err(|e| CoordError::Grant(e.to_string()))?;
    if !paths.grants.is_dir() {
        return Err(CoordError::NotProvisioned {
            path: paths.grants.clone(),
        });
    }
    sys::write_atomic(&path, &bytes, 0o600)?;
    ledger.append(
        NewEvent::new("grant_mint", claims.id.clone(), "minted").data(json!({
            "gate": claims.gate,
            "recipe": claims.scope.recipe,
            "pr": claims.scope.pr,
            "not_before": claims.not_before,
            "expires": claims.expires,
            "uses": claims.uses,
            "reason": claims.reason,
            "minter": claims.minter,
            "settles": claims.settles,
        })),
    )?;
    Ok(())
}

/// The largest grant file read.
const MAX_GRANT_BYTES: u64 = 64 * 1024;

/// A grant file that cannot be used: why, and what it claims to be when that can still be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadGrant {
    pub why: String,
    /// Whether it was read but does not parse as a grant (forged or altered) rather than unreadable.
    pub forged: bool,
    pub gate: Option<String>,
    pub recipe: Option<String>,
}

/// A grant file's path and its parse result.
pub type LoadedGrant = (PathBuf, Result<GrantFile, BadGrant>);

/// Every grant file in the grants directory, with its parse result. Only regular files are read
/// (a FIFO is reported, never opened); a file with an unknown field or a key given twice is a
/// forgery, not "no grant".
pub fn load_all(paths: &CoordPaths) -> Result<Vec<LoadedGrant>, CoordError> {
    let rd = match std::fs::read_dir(&paths.grants) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CoordError::NotProvisioned {
                path: paths.grants.clone(),
            })
        }
        Err(e) => return Err(CoordError::io("list grants in", &paths.grants, e)),
    };
    let mut out = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| CoordError::io("list grants in", &paths.grants, e))?;
        let p = ent.path();
        let name = ent.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.starts_with('.') {
            continue;
        }
        let parsed = match sys::read_regular(&p, MAX_GRANT_BYTES) {
            Err(e) => Err(BadGrant {
                why: format!("unreadable: {e}"),
                forged: false,
                gate: None,
                recipe: None,
            }),
            Ok(bytes) => parse(&bytes),
        };
        out.push((p, parsed));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Parses a grant file strictly; on failure, reads leniently what it claims to cover.
fn parse(bytes: &[u8]) -> Result<GrantFile, BadGrant> {
    serde_json::from_slice::<GrantFile>(bytes).map_err(|e| {
        let loose: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
        let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
        BadGrant {
            why: format!("does not parse as a grant: {e}"),
            forged: true,
            gate: text(&loose["claims"]["gate"]),
            recipe: text(&loose["claims"]["scope"]["recipe"]),
        }
    })
}

/// Revokes grant `id`: a marker file beside it and a `grant_revoke` event.
pub fn revoke(
    paths: &CoordPaths,
    ledger: &Ledger,
    id: &str,
    reason: &str,
) -> Result<(), CoordError> {
    if id.contains('/') || !grant_path(paths, id).is_file() {
        return Err(CoordError::Grant(format!(
            "no grant {id} in {} (hint: `cc-ci grant list` shows the ids)",
            paths.grants.display()
        )));
    }
    let marker = json!({ "revoked_at": now_rfc3339(), "reason": reason });
    sys::write_atomic(
        &revoked_marker(paths, id),
        marker.to_string().as_bytes(),
        0o600,
    )?;
    ledger
        .append(NewEvent::new("grant_revoke", id, "revoked").data(json!({ "reason": reason })))?;
    Ok(())
}

/// Whether grant `id` carries a revocation marker.
pub(crate) fn has_marker(paths: &CoordPaths, id: &str) -> bool {
    revoked_marker(paths, id).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            id: "g-1".into(),
            gate: "repo-local".into(),
            scope: Scope {
                recipe: "hello".into(),
                pr: Some(3),
            },
            not_before: "2026-01-01T00:00:00.000000Z".into(),
            expires: "2026-01-02T00:00:00.000000Z".into(),
            uses: 1,
            reason: "r".into(),
            minter: "m".into(),
            settles: None,
        }
    }

    #[test]
    fn a_tag_verifies_only_for_the_same_claims_and_key() {
        let k = [7u8; 32];
        let c = claims();
        let tag = sign(&k, &c);
        assert!(tag_verifies(&k, &c, &tag));
        let mut c2 = c.clone();
        c2.uses = 100;
        assert!(!tag_verifies(&k, &c2, &tag));
        assert!(!tag_verifies(&[8u8; 32], &c, &tag));
        assert!(!tag_verifies(&k, &c, "zz"));
        assert!(!tag_verifies(&k, &c, &tag[..10]));
        let mut settled = c.clone();
        settled.settles = Some("obligation".into());
        assert!(!tag_verifies(&k, &settled, &tag), "settles is signed");
    }

    #[test]
    fn a_grant_that_settles_nothing_is_encoded_as_before_settlements_existed() {
        let v = serde_json::to_value(claims()).unwrap();
        assert!(v.get("settles").is_none(), "{v}");
    }
}
