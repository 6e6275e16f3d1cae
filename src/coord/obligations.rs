//! Obligations: using the deprecated emergency off-switch (`CCCI_TRUST_GATE_OFF=1`) instead of a grant
//! records an `obligation` event. The watcher (`cc-ci coord obligations`) matches each obligation
//! against grants minted for the same gate and scope within the grace period after it, and records
//! an `escalation` for every obligation whose grace has passed uncovered. It never mints grants.

use std::time::Duration;

use serde_json::{json, Value};

use super::event::{parse_rfc3339, Event};
use super::{db, CoordError, CoordPaths, Ledger, NewEvent};

/// Records that the trust gate `gate` was switched off for `recipe` (and PR) without a grant.
pub fn record_obligation(
    ledger: &Ledger,
    gate: &str,
    recipe: &str,
    pr: Option<u64>,
    run_id: Option<&str>,
    reason: &str,
) -> Result<(), CoordError> {
    let subject = match pr {
        Some(p) => format!("{gate}:{recipe}#{p}"),
        None => format!("{gate}:{recipe}"),
    };
    let mut ev = NewEvent::new("obligation", subject, "owed").data(json!({
        "gate": gate,
        "recipe": recipe,
        "pr": pr,
        "reason": reason,
        "switch": "CCCI_TRUST_GATE_OFF",
    }));
    if let Some(r) = run_id {
        ev = ev.run(r);
    }
    ledger.append(ev).map(|_| ())
}

/// Where an obligation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// A matching grant was minted within the grace period (its id).
    Covered(String),
    /// Not covered yet, but the grace period has not passed.
    Pending,
    /// Not covered and the grace period has passed: escalated.
    Overdue,
}

/// One obligation and its standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obligation {
    pub seq: u64,
    pub id: String,
    pub ts: String,
    pub gate: String,
    pub recipe: String,
    pub pr: Option<u64>,
    pub run_id: Option<String>,
    pub reason: String,
    pub standing: Standing,
}

impl std::fmt::Display for Obligation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let standing = match &self.standing {
            Standing::Covered(g) => format!("covered by {g}"),
            Standing::Pending => "pending (within grace)".to_string(),
            Standing::Overdue => "OVERDUE (escalated)".to_string(),
        };
        let pr = self.pr.map_or(String::new(), |p| format!(" PR {p}"));
        write!(
            f,
            "#{} {} gate {} recipe {}{pr}: {standing} — {}",
            self.seq, self.ts, self.gate, self.recipe, self.reason
        )
    }
}

/// The longest grace period a watcher may give.
pub const MAX_GRACE: Duration = Duration::from_secs(365 * 86_400);

/// Evaluates every obligation against the grants minted within `grace` (at most [`MAX_GRACE`])
/// after it, and records an `escalation` for each overdue one.
pub fn obligations(
    paths: &CoordPaths,
    ledger: &Ledger,
    grace: Duration,
) -> Result<Vec<Obligation>, CoordError> {
    if grace > MAX_GRACE {
        return Err(CoordError::Usage(format!(
            "--grace is longer than the limit of {}",
            crate::duration::show(MAX_GRACE)
        )));
    }
    let grace_t =
        time::Duration::try_from(grace).map_err(|e| CoordError::Usage(format!("--grace: {e}")))?;
    let conn =
        db::open_ro(&paths.ledger_db).map_err(|e| CoordError::sql("open", &paths.ledger_db, e))?;
    let read = |kind| {
        db::events_of_kind(&conn, kind)
            .map_err(|e| CoordError::sql("read events", &paths.ledger_db, e))
    };
    let obls = read("obligation")?;
    let mints = read("grant_mint")?;
    let now = time::OffsetDateTime::now_utc();
    let mut out = Vec::with_capacity(obls.len());
    for o in &obls {
        let gate = text(&o.data, "gate");
        let recipe = text(&o.data, "recipe");
        let pr = o.data.get("pr").and_then(Value::as_u64);
        let Some(at) = parse_rfc3339(&o.ts) else {
            continue;
        };
        // A timestamp near the end of the calendar has no deadline after it: it can never be overdue.
        let deadline = at
            .checked_add(grace_t)
            .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc());
        let cover = mints
            .iter()
            .find(|m| covers(m, &gate, &recipe, pr, at, deadline));
        let standing = match cover {
            Some(m) => Standing::Covered(m.subject.clone()),
            None if now > deadline => Standing::Overdue,
            None => Standing::Pending,
        };
        out.push(Obligation {
            seq: o.seq,
            id: o.id.clone(),
            ts: o.ts.clone(),
            gate,
            recipe,
            pr,
            run_id: o.run_id.clone(),
            reason: text(&o.data, "reason"),
            standing,
        });
    }
    for o in out.iter().filter(|o| o.standing == Standing::Overdue) {
        ledger.append(
            NewEvent::new("escalation", format!("obligation #{}", o.seq), "overdue").data(json!({
                "obligation_id": o.id,
                "obligation_seq": o.seq,
                "gate": o.gate,
                "recipe": o.recipe,
                "pr": o.pr,
                "grace_seconds": grace.as_secs(),
            })),
        )?;
    }
    Ok(out)
}

fn text(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

fn covers(
    mint: &Event,
    gate: &str,
    recipe: &str,
    pr: Option<u64>,
    from: time::OffsetDateTime,
    until: time::OffsetDateTime,
) -> bool {
    let Some(ts) = parse_rfc3339(&mint.ts) else {
        return false;
    };
    let mint_pr = mint.data.get("pr").and_then(Value::as_u64);
    text(&mint.data, "gate") == gate
        && text(&mint.data, "recipe") == recipe
        && (mint_pr.is_none() || mint_pr == pr)
        && ts >= from
        && ts <= until
}
