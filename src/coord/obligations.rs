//! Obligations: using the deprecated emergency off-switch (`CCCI_TRUST_GATE_OFF=1`) instead of a grant
//! records an `obligation` event. The watcher (`cc-ci coord obligations`) matches each obligation
//! against grants minted for the same gate and scope within the grace period after it, or a settlement
//! naming it (`grant mint --settles ID`, any time), and records an `escalation` for an obligation whose
//! grace has passed uncovered — once per grace period, not once per call. Settling writes a grant that
//! is a record only (no run or check can use it); the watcher itself never mints grants.

use std::time::Duration;

use serde_json::{json, Value};

use super::event::{format_rfc3339, parse_rfc3339, Event};
use super::grants::{self, Claims, Scope};
use super::{db, key, CoordError, CoordPaths, Ledger, NewEvent};

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
    /// A settlement (`grant mint --settles`) names this obligation (its grant id).
    Settled(String),
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
    /// Whether this call recorded an escalation (an overdue obligation is escalated once per grace
    /// period).
    pub escalated_now: bool,
}

impl Obligation {
    /// The obligation as `coord obligations --format json` prints it.
    pub fn to_json(&self) -> Value {
        let (standing, grant) = match &self.standing {
            Standing::Covered(g) => ("covered", Some(g)),
            Standing::Settled(g) => ("settled", Some(g)),
            Standing::Pending => ("pending", None),
            Standing::Overdue => ("overdue", None),
        };
        json!({
            "id": self.id,
            "seq": self.seq,
            "ts": self.ts,
            "gate": self.gate,
            "recipe": self.recipe,
            "pr": self.pr,
            "run_id": self.run_id,
            "reason": self.reason,
            "standing": standing,
            "grant_id": grant,
            "escalated_now": self.escalated_now,
        })
    }
}

impl std::fmt::Display for Obligation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let standing = match &self.standing {
            Standing::Covered(g) => format!("covered by {g}"),
            Standing::Settled(g) => format!("settled by {g}"),
            Standing::Pending => "pending (within grace)".to_string(),
            Standing::Overdue if self.escalated_now => "OVERDUE (escalated now)".to_string(),
            Standing::Overdue => "OVERDUE (escalated earlier in this grace period)".to_string(),
        };
        let pr = self.pr.map_or(String::new(), |p| format!(" PR {p}"));
        write!(
            f,
            "#{} {} {} gate {} recipe {}{pr}: {standing} — {}",
            self.seq, self.ts, self.id, self.gate, self.recipe, self.reason
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
    let escalations = read("escalation")?;
    let now = time::OffsetDateTime::now_utc();
    let mut out = Vec::with_capacity(obls.len());
    for o in &obls {
        let Some(at) = parse_rfc3339(&o.ts) else {
            continue;
        };
        // A timestamp near the end of the calendar has no deadline after it: it can never be overdue.
        let deadline = at
            .checked_add(grace_t)
            .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc());
        let mut ob = Obligation {
            seq: o.seq,
            id: o.id.clone(),
            ts: o.ts.clone(),
            gate: text(&o.data, "gate"),
            recipe: text(&o.data, "recipe"),
            pr: o.data.get("pr").and_then(Value::as_u64),
            run_id: o.run_id.clone(),
            reason: text(&o.data, "reason"),
            standing: Standing::Pending,
            escalated_now: false,
        };
        let settlement = mints.iter().find(|m| text(&m.data, "settles") == o.id);
        let cover = mints.iter().find(|m| covers(m, &ob, at, deadline));
        ob.standing = match (settlement, cover) {
            (Some(m), _) => Standing::Settled(m.subject.clone()),
            (None, Some(m)) => Standing::Covered(m.subject.clone()),
            (None, None) if now > deadline => Standing::Overdue,
            (None, None) => Standing::Pending,
        };
        if ob.standing == Standing::Overdue {
            ob.escalated_now = !escalated_within(&escalations, &o.id, now, grace_t);
        }
        out.push(ob);
    }
    for o in out.iter().filter(|o| o.escalated_now) {
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

/// Whether obligation `id` was escalated less than one grace period before `now`.
fn escalated_within(
    escalations: &[Event],
    id: &str,
    now: time::OffsetDateTime,
    grace: time::Duration,
) -> bool {
    escalations
        .iter()
        .filter(|e| text(&e.data, "obligation_id") == id)
        .filter_map(|e| parse_rfc3339(&e.ts))
        .any(|ts| now < ts.checked_add(grace).unwrap_or(ts))
}

/// Settles obligation `id` after the fact: a grant that names it and covers exactly it, whatever the
/// grace, recorded like any mint but usable by no run or check. Returns its claims. An unknown id or
/// an obligation already settled is a usage error.
pub fn settle(
    paths: &CoordPaths,
    ledger: &Ledger,
    id: &str,
    reason: &str,
    minter: &str,
) -> Result<Claims, CoordError> {
    if reason.trim().is_empty() {
        return Err(CoordError::Usage("--reason must not be empty".into()));
    }
    let key = key::load(&paths.grant_key, key::GRANT)?;
    let conn =
        db::open_ro(&paths.ledger_db).map_err(|e| CoordError::sql("open", &paths.ledger_db, e))?;
    let read = |kind| {
        db::events_of_kind(&conn, kind)
            .map_err(|e| CoordError::sql("read events", &paths.ledger_db, e))
    };
    let Some(o) = read("obligation")?.into_iter().find(|o| o.id == id) else {
        return Err(CoordError::Usage(format!(
            "no obligation `{id}` in {} (hint: `cc-ci coord obligations --format json` lists their ids)",
            paths.ledger_db.display()
        )));
    };
    if let Some(m) = read("grant_mint")?
        .iter()
        .find(|m| text(&m.data, "settles") == id)
    {
        return Err(CoordError::Usage(format!(
            "obligation {id} is already settled by {}",
            m.subject
        )));
    }
    let claims = Claims {
        id: grants::new_id()?,
        gate: text(&o.data, "gate"),
        scope: Scope {
            recipe: text(&o.data, "recipe"),
            pr: o.data.get("pr").and_then(Value::as_u64),
        },
        not_before: o.ts.clone(),
        expires: format_rfc3339(time::OffsetDateTime::now_utc()),
        uses: 0,
        reason: reason.to_string(),
        minter: minter.to_string(),
        settles: Some(id.to_string()),
    };
    grants::write_and_record(paths, ledger, &key, &claims)?;
    Ok(claims)
}

fn text(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

/// Whether an ordinary mint (not a settlement) covers `o`: same gate and recipe, the same PR or none,
/// minted within `[from, until]`.
fn covers(
    mint: &Event,
    o: &Obligation,
    from: time::OffsetDateTime,
    until: time::OffsetDateTime,
) -> bool {
    let Some(ts) = parse_rfc3339(&mint.ts) else {
        return false;
    };
    let mint_pr = mint.data.get("pr").and_then(Value::as_u64);
    mint.data.get("settles").is_none_or(Value::is_null)
        && text(&mint.data, "gate") == o.gate
        && text(&mint.data, "recipe") == o.recipe
        && (mint_pr.is_none() || mint_pr == o.pr)
        && ts >= from
        && ts <= until
}
