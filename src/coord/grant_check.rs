//! Checking a grant: is there a grant for this gate and scope whose tag verifies (constant time),
//! whose time window contains now, that is not revoked and has uses left? The decision, allow or
//! deny, is recorded as a `grant_check` event with its reason, in the same database transaction that
//! counted the uses, so a single-use grant cannot be replayed even by concurrent checks. When the
//! database is unavailable the answer is deny (uses cannot be counted), and the deny is spooled.

use rusqlite::{Connection, OptionalExtension};
use serde_json::json;

use super::event::{format_rfc3339, parse_rfc3339};
use super::grants::{self, GrantFile};
use super::{key, CoordError, CoordPaths, Ledger, NewEvent};

/// What is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantQuery {
    pub gate: String,
    pub recipe: String,
    pub pr: Option<u64>,
    pub run_id: Option<String>,
}

/// The answer, with the reason that was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantDecision {
    pub allowed: bool,
    pub reason: String,
    pub grant_id: Option<String>,
}

impl GrantQuery {
    fn subject(&self) -> String {
        match self.pr {
            Some(pr) => format!("{}:{}#{pr}", self.gate, self.recipe),
            None => format!("{}:{}", self.gate, self.recipe),
        }
    }
}

/// Checks `q` against the grants, records the decision and consumes a use when allowed.
pub fn check_grant(
    paths: &CoordPaths,
    ledger: &Ledger,
    q: &GrantQuery,
) -> Result<GrantDecision, CoordError> {
    let key = key::load(&paths.grant_key, key::GRANT);
    let files = grants::load_all(paths)?;
    let now = time::OffsetDateTime::now_utc();
    let (decision, _) = ledger.append_decided(|tx| {
        let d = match &key {
            Err(e) => deny(format!("grant key unusable: {e}")),
            Ok(k) => decide(paths, k, &files, q, now, tx.map(|t| &**t))?,
        };
        let mut ev = NewEvent::new(
            "grant_check",
            q.subject(),
            if d.allowed { "allow" } else { "deny" },
        )
        .data(json!({
            "gate": q.gate,
            "recipe": q.recipe,
            "pr": q.pr,
            "grant_id": d.grant_id,
            "reason": d.reason,
            "at": format_rfc3339(now),
        }));
        if let Some(r) = &q.run_id {
            ev = ev.run(r);
        }
        Ok((d.clone(), vec![ev]))
    })?;
    Ok(decision)
}

/// Decides `q` exactly as [`check_grant`] would, without recording anything or consuming a use (a
/// dry run). Uses are counted from a read-only view of the database; when it cannot be read the
/// answer is deny, as a real check's would be.
pub fn decide_grant(paths: &CoordPaths, q: &GrantQuery) -> Result<GrantDecision, CoordError> {
    let key = match key::load(&paths.grant_key, key::GRANT) {
        Ok(k) => k,
        Err(e) => return Ok(deny(format!("grant key unusable: {e}"))),
    };
    let files = grants::load_all(paths)?;
    let conn = super::db::open_ro(&paths.ledger_db).ok();
    let now = time::OffsetDateTime::now_utc();
    decide(paths, &key, &files, q, now, conn.as_ref())
}

fn deny(reason: String) -> GrantDecision {
    GrantDecision {
        allowed: false,
        reason,
        grant_id: None,
    }
}

/// The status of one grant at `now`, given how many uses it has had.
pub(crate) fn status(
    g: &GrantFile,
    key: &[u8; key::KEY_LEN],
    now: time::OffsetDateTime,
    revoked: bool,
    used: Option<u64>,
) -> Result<String, String> {
    let c = &g.claims;
    if !grants::tag_verifies(key, c, &g.tag) {
        return Err(format!(
            "grant {}: signature does not verify (forged or altered)",
            c.id
        ));
    }
    if let Some(obligation) = &c.settles {
        return Err(format!(
            "grant {}: a settlement of obligation {obligation}, usable by no run or check",
            c.id
        ));
    }
    let (Some(nbf), Some(exp)) = (parse_rfc3339(&c.not_before), parse_rfc3339(&c.expires)) else {
        return Err(format!("grant {}: unreadable time window", c.id));
    };
    if now < nbf {
        return Err(format!("grant {}: not valid before {}", c.id, c.not_before));
    }
    if now >= exp {
        return Err(format!("grant {}: expired at {}", c.id, c.expires));
    }
    if revoked {
        return Err(format!("grant {}: revoked", c.id));
    }
    match used {
        None => Err(format!(
            "grant {}: its uses cannot be counted because the ledger database is unavailable (hint: run `cc-ci coord reconcile`)",
            c.id
        )),
        Some(n) if n >= c.uses as u64 => Err(format!(
            "grant {}: used up ({n} of {} use(s))",
            c.id, c.uses
        )),
        Some(n) => Ok(format!(
            "grant {} allows (use {} of {}): {}",
            c.id,
            n + 1,
            c.uses,
            c.reason
        )),
    }
}

/// Uses consumed by grant `id` (allowed checks recorded in the database).
pub(crate) fn uses(conn: &Connection, id: &str) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT COUNT(*) FROM events WHERE kind = 'grant_check' AND outcome = 'allow'
         AND json_extract(data, '$.grant_id') = ?1",
        [id],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as u64)
}

/// Whether the database holds a revocation of grant `id`.
pub(crate) fn revoked_in_db(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM events WHERE kind = 'grant_revoke' AND subject = ?1 LIMIT 1",
        [id],
        |_| Ok(()),
    )
    .optional()
    .map(|r| r.is_some())
}

fn decide(
    paths: &CoordPaths,
    key: &[u8; key::KEY_LEN],
    files: &[grants::LoadedGrant],
    q: &GrantQuery,
    now: time::OffsetDateTime,
    conn: Option<&Connection>,
) -> Result<GrantDecision, CoordError> {
    let db = |e| CoordError::sql("read grant uses", &paths.ledger_db, e);
    let mut reasons = Vec::new();
    for (path, parsed) in files {
        let g = match parsed {
            Ok(g) => g,
            Err(bad) => {
                // A file that may be this grant cannot be used: say so, never "no grant".
                let other = bad.gate.as_deref().is_some_and(|g| g != q.gate)
                    || bad.recipe.as_deref().is_some_and(|r| r != q.recipe);
                if !other {
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                    let label = if bad.forged {
                        " (forged or altered)"
                    } else {
                        ""
                    };
                    reasons.push(format!(
                        "grant file {}: {}{label}",
                        name.unwrap_or_default(),
                        bad.why
                    ));
                }
                continue;
            }
        };
        let c = &g.claims;
        if c.gate != q.gate || c.scope.recipe != q.recipe {
            continue;
        }
        if let Some(pr) = c.scope.pr {
            if q.pr != Some(pr) {
                let asked =
                    q.pr.map_or("a run without a PR".to_string(), |p| format!("PR {p}"));
                reasons.push(format!("grant {}: scoped to PR {pr}, not {asked}", c.id));
                continue;
            }
        }
        let (revoked, used) = match conn {
            Some(conn) => (
                revoked_in_db(conn, &c.id).map_err(db)? || grants::has_marker(paths, &c.id),
                Some(uses(conn, &c.id).map_err(db)?),
            ),
            None => (grants::has_marker(paths, &c.id), None),
        };
        match status(g, key, now, revoked, used) {
            Ok(reason) => {
                return Ok(GrantDecision {
                    allowed: true,
                    reason,
                    grant_id: Some(c.id.clone()),
                })
            }
            Err(r) => reasons.push(r),
        }
    }
    if reasons.is_empty() {
        let pr = q.pr.map_or(String::new(), |p| format!(" PR {p}"));
        reasons.push(format!(
            "no grant for gate {} and recipe {}{pr} (hint: `cc-ci grant mint --gate {} --recipe {} --ttl 1h --reason ...`)",
            q.gate, q.recipe, q.gate, q.recipe
        ));
    }
    Ok(deny(reasons.join("; ")))
}
