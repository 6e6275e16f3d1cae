//! Listing grants: every grant file with its state (valid, settlement, expired, not yet valid, revoked,
//! used up, forged, unreadable) and its use count from the ledger. It only reads; it records nothing.

use super::grant_check::{revoked_in_db, status, uses};
use super::{db, grants, key, CoordError, CoordPaths};

/// One grant as `cc-ci grant list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    pub id: String,
    pub gate: String,
    pub recipe: String,
    pub pr: Option<u64>,
    pub expires: String,
    pub uses: u32,
    /// Uses consumed, when the database could be read.
    pub used: Option<u64>,
    /// valid | settlement | expired | not yet valid | revoked | used up | forged | unreadable
    pub state: String,
    pub reason: String,
}

impl std::fmt::Display for GrantRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pr = self.pr.map_or("*".to_string(), |p| p.to_string());
        let used = self.used.map_or("?".to_string(), |u| u.to_string());
        write!(
            f,
            "{:<16} {:<13} gate={} recipe={} pr={} uses={}/{} expires={} — {}",
            self.id,
            self.state,
            self.gate,
            self.recipe,
            pr,
            used,
            self.uses,
            self.expires,
            self.reason
        )
    }
}

/// Lists every grant file. A missing or insecure key makes every grant `forged`-or-unknown, so it
/// is an error here.
pub fn list_grants(paths: &CoordPaths) -> Result<Vec<GrantRow>, CoordError> {
    let k = key::load(&paths.grant_key, key::GRANT)?;
    let conn = db::open_ro(&paths.ledger_db).ok();
    let now = time::OffsetDateTime::now_utc();
    let mut rows = Vec::new();
    for (path, parsed) in grants::load_all(paths)? {
        let g = match parsed {
            Ok(g) => g,
            Err(bad) => {
                rows.push(GrantRow {
                    id: path.display().to_string(),
                    gate: bad.gate.unwrap_or_default(),
                    recipe: bad.recipe.unwrap_or_default(),
                    pr: None,
                    expires: String::new(),
                    uses: 0,
                    used: None,
                    state: if bad.forged { "forged" } else { "unreadable" }.into(),
                    reason: bad.why,
                });
                continue;
            }
        };
        let c = &g.claims;
        let used = conn.as_ref().and_then(|c2| uses(c2, &c.id).ok());
        let revoked = grants::has_marker(paths, &c.id)
            || conn
                .as_ref()
                .is_some_and(|c2| revoked_in_db(c2, &c.id).unwrap_or(false));
        let state = match status(&g, &k, now, revoked, Some(used.unwrap_or(0))) {
            Ok(_) => "valid",
            Err(r) if r.contains("signature") => "forged",
            Err(r) if r.contains("a settlement of obligation") => "settlement",
            Err(r) if r.contains("expired") => "expired",
            Err(r) if r.contains("not valid before") => "not yet valid",
            Err(r) if r.contains("revoked") => "revoked",
            Err(r) if r.contains("used up") => "used up",
            Err(_) => "unreadable",
        };
        rows.push(GrantRow {
            id: c.id.clone(),
            gate: c.gate.clone(),
            recipe: c.scope.recipe.clone(),
            pr: c.scope.pr,
            expires: c.expires.clone(),
            uses: c.uses,
            used,
            state: state.into(),
            reason: match &c.settles {
                Some(o) => format!("settles obligation {o}: {}", c.reason),
                None => c.reason.clone(),
            },
        });
    }
    Ok(rows)
}
