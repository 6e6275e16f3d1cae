//! Ledger events: what a caller asks to record ([`NewEvent`]), what the ledger stores ([`Event`]), the
//! canonical encoding the SHA-256 chain is computed over, and the JSONL line format of the mirror and
//! the export. Pure data: no I/O here.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event a caller wants recorded. The ledger adds seq, id, time, host and the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub run_id: Option<String>,
    pub kind: String,
    pub subject: String,
    pub outcome: String,
    pub data: Value,
}

impl NewEvent {
    pub fn new(kind: &str, subject: impl Into<String>, outcome: impl Into<String>) -> Self {
        NewEvent {
            run_id: None,
            kind: kind.to_string(),
            subject: subject.into(),
            outcome: outcome.into(),
            data: Value::Object(Default::default()),
        }
    }

    /// Attaches the run id.
    pub fn run(mut self, run_id: &str) -> Self {
        self.run_id = Some(run_id.to_string());
        self
    }

    /// Masks every secret registered in `r` in the subject, the outcome and every string (and key)
    /// of the data, so nothing secret reaches the ledger.
    pub fn redacted(mut self, r: &crate::redact::Redactor) -> Self {
        if r.is_empty() {
            return self;
        }
        self.subject = r.redact(&self.subject);
        self.outcome = r.redact(&self.outcome);
        self.data = redact_value(std::mem::take(&mut self.data), r);
        self
    }

    /// Sets the JSON data; anything but an object is wrapped as `{"value": v}`.
    pub fn data(mut self, v: Value) -> Self {
        self.data = match v {
            Value::Object(_) => v,
            Value::Null => Value::Object(Default::default()),
            other => serde_json::json!({ "value": other }),
        };
        self
    }
}

/// An event stamped with its identity, before it has a place in the chain. This is what a spool file
/// holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stamped {
    pub id: String,
    pub ts: String,
    pub host: String,
    pub run_id: Option<String>,
    pub kind: String,
    pub subject: String,
    pub outcome: String,
    pub data: Value,
}

impl Stamped {
    /// Gives `ev` a fresh unique id, the current UTC time and this host.
    pub fn stamp(ev: NewEvent, host: &str) -> Stamped {
        Stamped {
            id: uuid::Uuid::new_v4().simple().to_string(),
            ts: now_rfc3339(),
            host: host.to_string(),
            run_id: ev.run_id,
            kind: ev.kind,
            subject: ev.subject,
            outcome: ev.outcome,
            data: ev.data,
        }
    }

    /// Places the event in the chain after `prev_hash` at `seq`.
    pub fn chain(self, seq: u64, prev_hash: &str) -> Event {
        let mut ev = Event {
            seq,
            id: self.id,
            ts: self.ts,
            host: self.host,
            run_id: self.run_id,
            kind: self.kind,
            subject: self.subject,
            outcome: self.outcome,
            data: self.data,
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        ev.hash = ev.compute_hash();
        ev
    }
}

/// A committed event, exactly as the mirror and the export carry it (field order included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub seq: u64,
    pub id: String,
    pub ts: String,
    pub host: String,
    pub run_id: Option<String>,
    pub kind: String,
    pub subject: String,
    pub outcome: String,
    pub data: Value,
    pub prev_hash: String,
    pub hash: String,
}

impl Event {
    /// The SHA-256 (lowercase hex) of the canonical encoding: the compact JSON array
    /// `[seq, id, ts, host, run_id, kind, subject, outcome, data, prev_hash]` with object keys sorted.
    pub fn compute_hash(&self) -> String {
        self.view(&canonical(&self.data)).compute_hash()
    }

    /// One mirror/export line, without the newline.
    pub fn to_line(&self) -> String {
        self.view(&canonical(&self.data)).to_line()
    }

    fn view<'a>(&'a self, data: &'a str) -> RowRef<'a> {
        RowRef {
            seq: self.seq,
            id: &self.id,
            ts: &self.ts,
            host: &self.host,
            run_id: self.run_id.as_deref(),
            kind: &self.kind,
            subject: &self.subject,
            outcome: &self.outcome,
            data,
            prev_hash: &self.prev_hash,
            hash: &self.hash,
        }
    }
}

/// An event whose data is canonical JSON text, as the database stores it. Hashing and rendering a
/// row needs no JSON parsing, which keeps verification of large ledgers fast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub seq: u64,
    pub id: String,
    pub ts: String,
    pub host: String,
    pub run_id: Option<String>,
    pub kind: String,
    pub subject: String,
    pub outcome: String,
    /// Canonical JSON text of the data object.
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Row {
    pub fn view(&self) -> RowRef<'_> {
        RowRef {
            seq: self.seq,
            id: &self.id,
            ts: &self.ts,
            host: &self.host,
            run_id: self.run_id.as_deref(),
            kind: &self.kind,
            subject: &self.subject,
            outcome: &self.outcome,
            data: &self.data,
            prev_hash: &self.prev_hash,
            hash: &self.hash,
        }
    }
}

/// A borrowed event with canonical data text: the one place the hash and the line are encoded.
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'a> {
    pub seq: u64,
    pub id: &'a str,
    pub ts: &'a str,
    pub host: &'a str,
    pub run_id: Option<&'a str>,
    pub kind: &'a str,
    pub subject: &'a str,
    pub outcome: &'a str,
    pub data: &'a str,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

impl RowRef<'_> {
    /// See [`Event::compute_hash`].
    pub fn compute_hash(&self) -> String {
        let run_id = self.run_id.map_or("null".to_string(), js);
        let canon = format!(
            "[{},{},{},{},{},{},{},{},{},{}]",
            self.seq,
            js(self.id),
            js(self.ts),
            js(self.host),
            run_id,
            js(self.kind),
            js(self.subject),
            js(self.outcome),
            self.data,
            js(self.prev_hash)
        );
        hex::encode(Sha256::digest(canon.as_bytes()))
    }

    /// See [`Event::to_line`]. Field order is fixed; `data` is canonical, so lines are byte-stable.
    pub fn to_line(&self) -> String {
        let run_id = self.run_id.map_or("null".to_string(), js);
        format!(
            "{{\"seq\":{},\"id\":{},\"ts\":{},\"host\":{},\"run_id\":{},\"kind\":{},\"subject\":{},\"outcome\":{},\"data\":{},\"prev_hash\":{},\"hash\":{}}}",
            self.seq,
            js(self.id),
            js(self.ts),
            js(self.host),
            run_id,
            js(self.kind),
            js(self.subject),
            js(self.outcome),
            self.data,
            js(self.prev_hash),
            js(self.hash)
        )
    }
}

fn redact_value(v: Value, r: &crate::redact::Redactor) -> Value {
    match v {
        Value::String(s) => Value::String(r.redact(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| redact_value(x, r)).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (r.redact(&k), redact_value(x, r)))
                .collect(),
        ),
        other => other,
    }
}

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Compact JSON with every object's keys sorted, independent of serde_json's map feature flags.
pub fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&js(k));
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The current UTC time as RFC 3339 with microseconds, e.g. `2026-01-02T03:04:05.123456Z`.
pub fn now_rfc3339() -> String {
    format_rfc3339(time::OffsetDateTime::now_utc())
}

/// Formats a time as RFC 3339 UTC with microseconds.
pub fn format_rfc3339(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

/// Parses an RFC 3339 time.
pub fn parse_rfc3339(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Event {
        let s = Stamped::stamp(
            NewEvent::new("verdict", "hello/install", "pass")
                .run("r1")
                .data(json!({"b": 1, "a": [2, {"z": 1, "y": 2}]})),
            "h",
        );
        s.chain(1, GENESIS)
    }

    #[test]
    fn canonical_sorts_keys_at_every_depth() {
        assert_eq!(
            canonical(&json!({"b": 1, "a": {"d": 1, "c": [ {"f":1, "e":2} ]}})),
            r#"{"a":{"c":[{"e":2,"f":1}],"d":1},"b":1}"#
        );
    }

    #[test]
    fn a_line_round_trips_and_its_hash_recomputes() {
        let ev = sample();
        let line = ev.to_line();
        let back: Event = serde_json::from_str(&line).unwrap();
        assert_eq!(back, ev);
        assert_eq!(back.compute_hash(), ev.hash);
        let keys: Vec<String> = match serde_json::from_str::<Value>(&line).unwrap() {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => unreachable!(),
        };
        assert_eq!(keys.len(), 11);
        assert!(line.starts_with("{\"seq\":1,\"id\":"));
    }

    #[test]
    fn the_hash_is_the_sha256_of_the_canonical_array() {
        let ev = sample();
        let canon = canonical(&json!([
            ev.seq,
            ev.id,
            ev.ts,
            ev.host,
            ev.run_id,
            ev.kind,
            ev.subject,
            ev.outcome,
            ev.data,
            ev.prev_hash
        ]));
        assert_eq!(ev.hash, hex::encode(Sha256::digest(canon.as_bytes())));
        let mut none = ev.clone();
        none.run_id = None;
        let canon = canonical(&json!([
            none.seq,
            none.id,
            none.ts,
            none.host,
            null,
            none.kind,
            none.subject,
            none.outcome,
            none.data,
            none.prev_hash
        ]));
        assert_eq!(
            none.compute_hash(),
            hex::encode(Sha256::digest(canon.as_bytes()))
        );
    }

    #[test]
    fn changing_any_field_changes_the_hash() {
        let ev = sample();
        let mut t = ev.clone();
        t.outcome = "fail".into();
        assert_ne!(t.compute_hash(), ev.hash);
        let mut t = ev.clone();
        t.data = json!({"b": 2});
        assert_ne!(t.compute_hash(), ev.hash);
        let mut t = ev.clone();
        t.prev_hash = "1".repeat(64);
        assert_ne!(t.compute_hash(), ev.hash);
    }

    #[test]
    fn timestamps_are_utc_rfc3339_and_parse_back() {
        let s = now_rfc3339();
        assert!(s.ends_with('Z') && s.len() == 27, "{s}");
        assert!(parse_rfc3339(&s).is_some());
    }

    #[test]
    fn redacted_masks_secrets_in_subject_outcome_and_nested_data() {
        let r = crate::redact::Redactor::new();
        r.add("hunter22");
        let e = NewEvent::new("op", "login hunter22", "ok hunter22")
            .data(json!({"a": ["x hunter22"], "hunter22": {"b": "hunter22"}}))
            .redacted(&r);
        let all = format!("{} {} {}", e.subject, e.outcome, canonical(&e.data));
        assert!(!r.leaks(&all), "{all}");
        assert_eq!(e.data["a"][0], "x ***");
    }

    #[test]
    fn non_object_data_is_wrapped() {
        let e = NewEvent::new("op", "s", "ok").data(json!(3));
        assert_eq!(e.data, json!({"value": 3}));
    }
}
