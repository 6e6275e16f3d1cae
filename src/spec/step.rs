//! Steps an overlay runs before its tier's op (seeding), and op overrides that replace a tier's
//! default op. The harness still owns the op and runs it exactly once; this module only parses.

use std::collections::BTreeMap;
use std::time::Duration;

use super::decode::{f, Decoder, Kind};
use super::node::{Node, Value};
use super::text::{parse_command, Command};
use super::tier::Tier;

/// A step run before the tier's op, in file order. A failing step fails this file's tests only.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Exec {
        service: String,
        command: Command,
        record: Option<String>,
    },
    Record {
        name: String,
        service: String,
        command: Command,
    },
    Sleep(Duration),
    WaitHealthy,
}

impl Step {
    /// The name this step records a value under, if any.
    pub fn records(&self) -> Option<&str> {
        match self {
            Step::Exec { record, .. } => record.as_deref(),
            Step::Record { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// Replaces a tier's default op. Whatever the choice, the op runs once and the harness owns it.
#[derive(Debug, Clone, PartialEq)]
pub enum OpOverride {
    /// Do not run the op; the tier's tests still run against the state as it is. Not for install.
    Skip { reason: String },
    /// Run the default op with extra environment (added to the app's env for install and upgrade,
    /// passed to the backup/restore command for backup and restore).
    Env { env: BTreeMap<String, String> },
    /// Backup and restore only: run these steps in the app's containers instead of the default op
    /// (for recipes whose backup is an exec'd dump rather than volume snapshots).
    Script { steps: Vec<Step> },
}

/// Every step kind. `sleep` takes a duration, the others a mapping.
pub const STEPS: &[Kind] = &[
    Kind { name: "exec", summary: "Runs a command in a running container of a service; a non-zero exit fails the step.",
        fields: &[f("service", "string", true, "the compose service"),
            f("command", "string | list", true, "a string runs via `sh -c`; a list runs as argv"),
            f("record", "name", false, "also record stdout under this name")],
        example: "- exec: {service: app, command: \"echo seeded > /var/www/seed.txt\"}" },
    Kind { name: "record", summary: "Runs a command and records its stdout under a name, for a `recorded` check in this or a later tier.",
        fields: &[f("name", "name", true, "the name to record under"), f("service", "string", true, "the compose service"),
            f("command", "string | list", true, "command whose stdout is recorded")],
        example: "- record: {name: index_sum, service: app, command: sha256sum /var/www/index.html}" },
    Kind { name: "sleep", summary: "Waits a fixed time (a duration: `5s`, `1m`; at most 1h).", fields: &[],
        example: "- sleep: 5s" },
    Kind { name: "wait_healthy", summary: "Waits until every service has converged and every healthcheck passes (bounded by the deploy timeout).", fields: &[],
        example: "- wait_healthy: {}" },
];

/// The longest `sleep` step.
pub const MAX_SLEEP: Duration = crate::duration::HOUR;

/// The keys of `op:`.
pub const OP_KEYS: [&str; 3] = ["skip", "env", "steps"];

/// Parses a list of steps.
pub fn parse_steps(dec: &mut Decoder, node: &Node, key: &str) -> Option<Vec<Step>> {
    let Value::Seq(items) = &node.value else {
        dec.wrong_type(node, Some(key), key, "a list of steps");
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for item in items {
        match parse_step(dec, item) {
            Some(s) => out.push(s),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn parse_step(dec: &mut Decoder, node: &Node) -> Option<Step> {
    let names: Vec<&str> = STEPS.iter().map(|k| k.name).collect();
    let fl = dec.fields(node, None, "a step", &names)?;
    let [(name, _, value)] = fl.entries.as_slice() else {
        let msg = if fl.entries.is_empty() {
            "names no step kind"
        } else {
            "names more than one step kind"
        };
        dec.invalid_hint(
            node,
            None,
            "step",
            msg.into(),
            Some(format!("one of: {}", names.join(", "))),
        );
        return None;
    };
    let ctx = format!("{name} step");
    match *name {
        "sleep" => dec
            .duration(value, "sleep", &ctx, Duration::ZERO, MAX_SLEEP)
            .map(Step::Sleep),
        "wait_healthy" => {
            let empty = value.is_null() || matches!(&value.value, Value::Map(m) if m.is_empty());
            if !empty {
                dec.invalid_hint(
                    value,
                    Some("wait_healthy"),
                    &ctx,
                    "takes no options".into(),
                    Some("write `wait_healthy: {}`".into()),
                );
                return None;
            }
            Some(Step::WaitHealthy)
        }
        "exec" => {
            let fields: Vec<&str> = STEPS[0].fields.iter().map(|f| f.name).collect();
            let m = dec.fields(value, Some("exec"), &ctx, &fields)?;
            let service = dec
                .required(&m, "service")
                .and_then(|n| dec.name(n, "service", &ctx));
            let command = dec
                .required(&m, "command")
                .and_then(|n| parse_command(dec, n, "command", &ctx));
            let record = m.get("record").map(|n| dec.name(n, "record", &ctx));
            Some(Step::Exec {
                service: service?,
                command: command?,
                record: record.map_or(Some(None), |r| r.map(Some))?,
            })
        }
        _ => {
            let fields: Vec<&str> = STEPS[1].fields.iter().map(|f| f.name).collect();
            let m = dec.fields(value, Some("record"), &ctx, &fields)?;
            let rname = dec
                .required(&m, "name")
                .and_then(|n| dec.name(n, "name", &ctx));
            let service = dec
                .required(&m, "service")
                .and_then(|n| dec.name(n, "service", &ctx));
            let command = dec
                .required(&m, "command")
                .and_then(|n| parse_command(dec, n, "command", &ctx));
            Some(Step::Record {
                name: rname?,
                service: service?,
                command: command?,
            })
        }
    }
}

/// Parses `op:` for a file of `tier`.
pub fn parse_op(dec: &mut Decoder, node: &Node, tier: Tier) -> Option<OpOverride> {
    if !tier.has_op() {
        dec.invalid_hint(
            node,
            Some("op"),
            "custom tier",
            "the custom tier has no op to replace".into(),
            Some("remove `op:` or choose another tier".into()),
        );
        return None;
    }
    let fl = dec.fields(node, Some("op"), "op", &OP_KEYS)?;
    let [(name, key, value)] = fl.entries.as_slice() else {
        dec.invalid_hint(
            node,
            Some("op"),
            "op",
            "needs exactly one of `skip`, `env`, `steps`".into(),
            None,
        );
        return None;
    };
    match *name {
        "skip" => {
            if tier == Tier::Install {
                dec.invalid_hint(
                    key,
                    Some("skip"),
                    "op",
                    "install deploys the app and cannot be skipped".into(),
                    Some("to leave install out, select tiers with STAGES".into()),
                );
                return None;
            }
            dec.text(value, "skip", "op")
                .map(|reason| OpOverride::Skip { reason })
        }
        "env" => {
            let Value::Map(entries) = &value.value else {
                dec.wrong_type(value, Some("env"), "op", "a mapping of NAME: value");
                return None;
            };
            let mut env = BTreeMap::new();
            for (k, v) in entries {
                let name = dec.string(k, "env", "op env")?;
                if name.is_empty()
                    || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    || name.starts_with(|c: char| c.is_ascii_digit())
                {
                    dec.invalid(
                        k,
                        Some(&name),
                        "op env",
                        "is not an environment variable name".into(),
                    );
                    return None;
                }
                let val = if v.is_null() {
                    Some(String::new())
                } else {
                    dec.string(v, &name, "op env")
                }?;
                env.insert(name, val);
            }
            Some(OpOverride::Env { env })
        }
        _ => {
            if matches!(tier, Tier::Install | Tier::Upgrade) {
                dec.invalid_hint(
                    key,
                    Some("steps"),
                    "op",
                    format!("the {tier} op is a deploy and cannot be replaced by steps"),
                    Some("use `op: {env: {…}}` to change how it deploys".into()),
                );
                return None;
            }
            parse_steps(dec, value, "steps").map(|steps| OpOverride::Script { steps })
        }
    }
}
