//! Assertion kinds: what a test checks after its tier's op, with the table of accepted keys that
//! both the parser and the generated reference use. Never evaluates a check (the runner does).

use super::decode::{f, Decoder, Fields, Kind};
use super::node::{Node, Value};
use super::text::{one_of, parse_command, parse_match, Bare, Command, TextMatch};

/// One assertion. Field defaults are given in [`CHECKS`].
#[derive(Debug, Clone)]
pub enum Check {
    Converged,
    Healthy,
    Label {
        service: Option<String>,
        key: String,
        expect: TextMatch,
    },
    DeployedHead,
    VersionMoved,
    Exec {
        service: String,
        command: Command,
        exit: i64,
        stdout: Option<TextMatch>,
        stderr: Option<TextMatch>,
        record: Option<String>,
    },
    File {
        service: String,
        path: String,
        exists: bool,
        contains: Option<TextMatch>,
    },
    Logs {
        service: String,
        matches: Vec<regex::Regex>,
        not_matches: Vec<regex::Regex>,
    },
    Http {
        /// Empty when not given: use [`RecipeMeta::http_path`](super::RecipeMeta::http_path).
        path: String,
        status: Vec<u16>,
        body: Option<TextMatch>,
        service: Option<String>,
        port: Option<u16>,
    },
    Recorded {
        name: String,
        service: String,
        command: Command,
        compare: Compare,
    },
    BackupExists,
}

/// How a recorded value is compared with the value now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Equals,
    Differs,
}

impl Compare {
    /// Whether the value now relates to the recorded one as asked. Trailing newlines are ignored
    /// on both sides (command output usually ends with one).
    pub fn holds(self, recorded: &str, now: &str) -> bool {
        let same = recorded.trim_end_matches(['\n', '\r']) == now.trim_end_matches(['\n', '\r']);
        match self {
            Compare::Equals => same,
            Compare::Differs => !same,
        }
    }
}

impl Check {
    /// The YAML key of this check kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::Converged => "converged",
            Check::Healthy => "healthy",
            Check::Label { .. } => "label",
            Check::DeployedHead => "deployed_head",
            Check::VersionMoved => "version_moved",
            Check::Exec { .. } => "exec",
            Check::File { .. } => "file",
            Check::Logs { .. } => "logs",
            Check::Http { .. } => "http",
            Check::Recorded { .. } => "recorded",
            Check::BackupExists => "backup_exists",
        }
    }
}

/// Whether an HTTP status is accepted: the statuses a test lists, else the recipe's
/// `accepted_statuses`, else 200–399. 404 counts only when a test lists it explicitly
/// (`recipe.yaml` may not accept it), so a proxy's default 404 page never passes.
pub fn http_status_accepted(listed: &[u16], recipe_accepted: Option<&[u16]>, got: u16) -> bool {
    if !listed.is_empty() {
        return listed.contains(&got);
    }
    match recipe_accepted {
        Some(a) => got != 404 && a.contains(&got),
        None => (200..400).contains(&got),
    }
}

const SVC: &str = "the compose service to run in (e.g. `app`)";

/// Every check kind, its keys and an example. The parser accepts exactly these keys.
pub const CHECKS: &[Kind] = &[
    Kind { name: "converged", summary: "Every service of the stack runs its desired replicas (N/N).", fields: &[],
        example: "- name: converged\n  converged: {}" },
    Kind { name: "healthy", summary: "Every running task whose image defines a healthcheck reports healthy.", fields: &[],
        example: "- name: healthy\n  healthy: {}" },
    Kind { name: "label", summary: "A label of a service's spec matches. `{stack}` in the key is replaced by the stack name.",
        fields: &[f("service", "string", false, "service to read; default: the recipe's main service (`app`)"),
            f("key", "string", true, "label key, e.g. `coop-cloud.{stack}.version`"),
            f("equals", "string", false, "the value equals this (give exactly one of equals / contains / regex)"),
            f("contains", "string", false, "the value contains this"),
            f("regex", "regex", false, "the regex matches the value")],
        example: "- name: version_label\n  label: {key: \"coop-cloud.{stack}.version\", regex: \"^1\\\\.\"}" },
    Kind { name: "deployed_head", summary: "The deployed `chaos-version` label equals the run's head_ref (8 hex). Only when head_ref is unknown: the version, image or chaos marker moved since install.", fields: &[],
        example: "- name: deployed_head\n  deployed_head: {}" },
    Kind { name: "version_moved", summary: "The main service's version label, image or chaos marker differs from what install deployed.", fields: &[],
        example: "- name: version_moved\n  version_moved: {}" },
    Kind { name: "exec", summary: "Runs a command in a running container of a service (retried until the container answers) and checks its exit code and output.",
        fields: &[f("service", "string", true, SVC),
            f("command", "string | list", true, "a string runs via `sh -c`; a list runs as argv"),
            f("exit", "integer", false, "expected exit code; default 0"),
            f("stdout", "match", false, "stdout matches; a bare string means `equals` (trailing newlines ignored)"),
            f("stderr", "match", false, "stderr matches; a bare string means `equals`"),
            f("record", "name", false, "record stdout under this name for a `recorded` check in a later tier")],
        example: "- name: greeting\n  exec:\n    service: app\n    command: cat /var/www/index.html\n    stdout: {contains: hello}" },
    Kind { name: "file", summary: "A path inside a service's container exists (or not), optionally with content.",
        fields: &[f("service", "string", true, SVC), f("path", "string", true, "absolute path in the container"),
            f("exists", "bool", false, "default true; `false` asserts the path is absent"),
            f("contains", "match", false, "content matches; a bare string means `contains`")],
        example: "- name: index_present\n  file: {service: app, path: /var/www/index.html, contains: hello}" },
    Kind { name: "logs", summary: "A service's logs (since the tier's op) match every regex in `matches` and none in `not_matches`.",
        fields: &[f("service", "string", true, SVC), f("matches", "regex | list", false, "each must match some line"),
            f("not_matches", "regex | list", false, "none may match any line (give at least one of matches / not_matches)")],
        example: "- name: no_panics\n  logs: {service: app, not_matches: [\"panic\", \"(?i)fatal\"]}" },
    Kind { name: "http", summary: "An HTTP GET to the app answers with an accepted status (and body). Without `status`: the recipe's `accepted_statuses`, else 200–399; 404 counts only when listed here.",
        fields: &[f("path", "string", false, "request path; default: `health_path` of recipe.yaml, else `/`"),
            f("status", "integer | list", false, "accepted statuses"),
            f("body", "match", false, "body matches; a bare string means `contains`"),
            f("service", "string", false, "service to reach; default: the recipe's main service"),
            f("port", "integer", false, "port; default: `http_port` of recipe.yaml, else 80")],
        example: "- name: home\n  http: {path: /, status: 200, body: {regex: \"<h1>hello from .+</h1>\"}}" },
    Kind { name: "recorded", summary: "Runs a command now and compares its stdout with a value recorded earlier (a `record` step or an exec `record`), e.g. seed before backup, check after restore.",
        fields: &[f("name", "name", true, "the recorded value's name"), f("service", "string", true, SVC),
            f("command", "string | list", true, "command whose stdout is compared"),
            f("compare", "equals | differs", false, "default `equals`")],
        example: "- name: seed_survived\n  recorded: {name: seed, service: app, command: cat /var/www/seed.txt}" },
    Kind { name: "backup_exists", summary: "The backup op produced an artifact and it is not empty.", fields: &[],
        example: "- name: backup_exists\n  backup_exists: {}" },
];

/// Names of every check kind.
pub fn check_names() -> Vec<&'static str> {
    CHECKS.iter().map(|k| k.name).collect()
}

fn keys(kind: &Kind) -> Vec<&'static str> {
    kind.fields.iter().map(|f| f.name).collect()
}

/// Parses the value of check kind `name` (a key of [`CHECKS`]).
pub fn parse_check(dec: &mut Decoder, name: &str, node: &Node) -> Option<Check> {
    let kind = CHECKS.iter().find(|k| k.name == name)?;
    let ctx = format!("{name} check");
    if kind.fields.is_empty() {
        return parse_fieldless(dec, name, node, &ctx);
    }
    let fl = dec.fields(node, Some(name), &ctx, &keys(kind))?;
    let parse = match name {
        "label" => parse_label,
        "exec" => parse_exec,
        "file" => parse_file,
        "logs" => parse_logs,
        "http" => parse_http,
        "recorded" => parse_recorded,
        // A kind in CHECKS without a parser here: `every_check_example_parses` fails on it.
        _ => return None,
    };
    parse(dec, &fl, &ctx)
}

/// A kind without options: `converged: {}` (or `true`, or nothing).
fn parse_fieldless(dec: &mut Decoder, name: &str, node: &Node, ctx: &str) -> Option<Check> {
    let ok = match &node.value {
        Value::Null => true,
        Value::Map(m) => m.is_empty(),
        Value::Scalar { text, .. } => text == "true",
        Value::Seq(_) => false,
    };
    if !ok {
        dec.invalid_hint(
            node,
            Some(name),
            ctx,
            format!("takes no options, found {}", node.describe()),
            Some(format!(
                "write `{name}: {{}}`; to disable a test use `ignore: <reason>`"
            )),
        );
        return None;
    }
    match name {
        "converged" => Some(Check::Converged),
        "healthy" => Some(Check::Healthy),
        "deployed_head" => Some(Check::DeployedHead),
        "version_moved" => Some(Check::VersionMoved),
        "backup_exists" => Some(Check::BackupExists),
        // A fieldless kind in CHECKS without a variant here: `every_check_example_parses` fails on it.
        _ => None,
    }
}

fn parse_label(dec: &mut Decoder, fl: &Fields, ctx: &str) -> Option<Check> {
    let node = fl.node;
    let req = |dec: &mut Decoder, key: &str| dec.required(fl, key);
    let key = req(dec, "key").and_then(|n| dec.text(n, "key", ctx));
    let service = fl.get("service").and_then(|n| dec.name(n, "service", ctx));
    let expect = one_of(dec, &fl.entries, node, "label", ctx);
    Some(Check::Label {
        service,
        key: key?,
        expect: expect?,
    })
}

fn parse_exec(dec: &mut Decoder, fl: &Fields, ctx: &str) -> Option<Check> {
    let req = |dec: &mut Decoder, key: &str| dec.required(fl, key);
    let service = req(dec, "service").and_then(|n| dec.name(n, "service", ctx));
    let command = req(dec, "command").and_then(|n| parse_command(dec, n, "command", ctx));
    let exit = fl.get("exit").map(|n| dec.int(n, "exit", ctx));
    let stdout = fl
        .get("stdout")
        .map(|n| parse_match(dec, n, "stdout", ctx, Bare::Equals));
    let stderr = fl
        .get("stderr")
        .map(|n| parse_match(dec, n, "stderr", ctx, Bare::Equals));
    let record = fl.get("record").map(|n| dec.name(n, "record", ctx));
    Some(Check::Exec {
        service: service?,
        command: command?,
        exit: exit.unwrap_or(Some(0))?,
        stdout: stdout.map_or(Some(None), |m| m.map(Some))?,
        stderr: stderr.map_or(Some(None), |m| m.map(Some))?,
        record: record.map_or(Some(None), |m| m.map(Some))?,
    })
}

fn parse_file(dec: &mut Decoder, fl: &Fields, ctx: &str) -> Option<Check> {
    let req = |dec: &mut Decoder, key: &str| dec.required(fl, key);
    let service = req(dec, "service").and_then(|n| dec.name(n, "service", ctx));
    let path = req(dec, "path").and_then(|n| {
        let p = dec.text(n, "path", ctx)?;
        if !p.starts_with('/') {
            dec.invalid_hint(
                n,
                Some("path"),
                ctx,
                format!("`{p}` is not an absolute path"),
                Some(format!("write `/{p}`")),
            );
            return None;
        }
        Some(p)
    });
    let exists = fl.get("exists").map(|n| dec.bool(n, "exists", ctx));
    let contains = fl
        .get("contains")
        .map(|n| parse_match(dec, n, "contains", ctx, Bare::Contains));
    let exists = exists.unwrap_or(Some(true))?;
    if let (false, Some(_)) = (exists, &contains) {
        dec.invalid(
            fl.get("contains")?,
            Some("contains"),
            ctx,
            "a path that must not exist has no content to match".into(),
        );
        return None;
    }
    Some(Check::File {
        service: service?,
        path: path?,
        exists,
        contains: contains.map_or(Some(None), |m| m.map(Some))?,
    })
}

fn parse_logs(dec: &mut Decoder, fl: &Fields, ctx: &str) -> Option<Check> {
    let node = fl.node;
    let req = |dec: &mut Decoder, key: &str| dec.required(fl, key);
    let service = req(dec, "service").and_then(|n| dec.name(n, "service", ctx));
    let regexes = |dec: &mut Decoder, key: &str| -> Option<Vec<regex::Regex>> {
        let Some(n) = fl.get(key) else {
            return Some(Vec::new());
        };
        dec.list(n, key, ctx)?
            .into_iter()
            .map(|i| dec.regex(i, key, ctx))
            .collect()
    };
    let matches = regexes(dec, "matches");
    let not_matches = regexes(dec, "not_matches");
    let (matches, not_matches) = (matches?, not_matches?);
    if matches.is_empty() && not_matches.is_empty() {
        dec.invalid_hint(
            node,
            Some("logs"),
            ctx,
            "checks nothing".into(),
            Some("give `matches` or `not_matches`".into()),
        );
        return None;
    }
    Some(Check::Logs {
        service: service?,
        matches,
        not_matches,
    })
}

fn parse_http(dec: &mut Decoder, fl: &Fields, ctx: &str) -> Option<Check> {
    let path = fl.get("path").map(|n| dec.text(n, "path", ctx));
    let path = path.unwrap_or(Some(String::new()))?;
    if !path.is_empty() && !path.starts_with('/') {
        dec.invalid_hint(
            fl.get("path")?,
            Some("path"),
            ctx,
            format!("`{path}` does not start with `/`"),
            Some(format!("write `/{path}`")),
        );
        return None;
    }
    let status = match fl.get("status") {
        None => Some(Vec::new()),
        Some(n) => statuses(dec, n, "status", ctx),
    };
    let body = fl
        .get("body")
        .map(|n| parse_match(dec, n, "body", ctx, Bare::Contains));
    let service = fl.get("service").map(|n| dec.name(n, "service", ctx));
    let port = fl.get("port").map(|n| dec.port(n, "port", ctx));
    Some(Check::Http {
        path,
        status: status?,
        body: body.map_or(Some(None), |m| m.map(Some))?,
        service: service.map_or(Some(None), |m| m.map(Some))?,
        port: port.map_or(Some(None), |m| m.map(Some))?,
    })
}

fn parse_recorded(dec: &mut Decoder, fl: &Fields, ctx: &str) -> Option<Check> {
    let req = |dec: &mut Decoder, key: &str| dec.required(fl, key);
    let rname = req(dec, "name").and_then(|n| dec.name(n, "name", ctx));
    let service = req(dec, "service").and_then(|n| dec.name(n, "service", ctx));
    let command = req(dec, "command").and_then(|n| parse_command(dec, n, "command", ctx));
    let compare = match fl.get("compare") {
        None => Some(Compare::Equals),
        Some(n) => match n.scalar() {
            Some("equals") => Some(Compare::Equals),
            Some("differs") => Some(Compare::Differs),
            _ => {
                dec.invalid(
                    n,
                    Some("compare"),
                    ctx,
                    format!("expected `equals` or `differs`, found {}", n.describe()),
                );
                None
            }
        },
    };
    Some(Check::Recorded {
        name: rname?,
        service: service?,
        command: command?,
        compare: compare?,
    })
}

/// HTTP statuses: an integer or a list of integers, each 100–599.
pub fn statuses(dec: &mut Decoder, node: &Node, key: &str, ctx: &str) -> Option<Vec<u16>> {
    let mut out = Vec::new();
    for item in dec.list(node, key, ctx)? {
        let n = dec.int(item, key, ctx)?;
        if !(100..=599).contains(&n) {
            dec.invalid(
                item,
                Some(key),
                ctx,
                format!("{n} is not an HTTP status (100–599)"),
            );
            return None;
        }
        out.push(n as u16);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_statuses_never_accept_404() {
        assert!(http_status_accepted(&[], None, 200));
        assert!(http_status_accepted(&[], None, 302));
        assert!(!http_status_accepted(&[], None, 404));
        assert!(!http_status_accepted(&[], Some(&[200, 404]), 404));
        assert!(http_status_accepted(&[404], Some(&[200]), 404));
        assert!(!http_status_accepted(&[200], None, 301));
    }

    #[test]
    fn compare_ignores_trailing_newlines_only() {
        assert!(Compare::Equals.holds("abc\n", "abc"));
        assert!(!Compare::Equals.holds("abc", "abc "));
        assert!(Compare::Differs.holds("abc", "abd\n"));
        assert!(!Compare::Differs.holds("x\r\n", "x"));
    }

    #[test]
    fn every_kind_has_an_example() {
        for k in CHECKS {
            assert!(k.example.contains(k.name), "{}", k.name);
        }
    }
}
