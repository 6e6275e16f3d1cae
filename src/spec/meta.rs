//! Recipe metadata (`overlays/<recipe>/recipe.yaml`): the tiers a recipe supports, honest N/A
//! reasons, generic opt-outs, timeouts, probes, env overrides and the domain. Parsing only; the
//! runner decides what each setting does to a run.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::check::{check_names, parse_check, statuses, Check};
use super::decode::{f, Decoder, Field};
use super::error::{closest, SpecError, SpecErrorKind};
use super::node::{self, Node, Value};
use super::tier::Tier;

/// A readiness probe the runner waits on after a deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Http { path: String, port: Option<u16> },
    Tcp { port: u16 },
}

/// Parsed `recipe.yaml`. `Default` is "no metadata": every tier, no overrides.
#[derive(Debug, Clone, Default)]
pub struct RecipeMeta {
    pub tiers: Option<Vec<Tier>>,
    pub not_applicable: BTreeMap<Tier, String>,
    pub skip_generic: Vec<Tier>,
    pub deploy_timeout: Option<Duration>,
    pub http_timeout: Option<Duration>,
    pub health_path: Option<String>,
    pub accepted_statuses: Option<Vec<u16>>,
    pub readiness: Option<Readiness>,
    pub upgrade_base: Option<String>,
    pub env_install: BTreeMap<String, String>,
    pub env_upgrade: BTreeMap<String, String>,
    pub domain: Option<String>,
    pub main_service: Option<String>,
    pub http_port: Option<u16>,
    pub backup_verify: Option<Check>,
    /// Times a backup that fails verification is taken, 1 to [`MAX_BACKUP_ATTEMPTS`].
    pub backup_attempts: Option<u32>,
}

impl RecipeMeta {
    /// Whether `tier` is supported and not declared not-applicable.
    pub fn supports(&self, tier: Tier) -> bool {
        !self.not_applicable.contains_key(&tier)
            && self
                .tiers
                .as_ref()
                .is_none_or(|t| t.contains(&tier) || tier == Tier::Custom)
    }

    /// The path an `http` check requests: its own, else `health_path`, else `/`.
    pub fn http_path<'a>(&'a self, check_path: &'a str) -> &'a str {
        if check_path.is_empty() {
            self.health_path.as_deref().unwrap_or("/")
        } else {
            check_path
        }
    }

    /// The port an `http` check uses: its own, else `http_port`, else 80.
    pub fn http_port(&self, check_port: Option<u16>) -> u16 {
        check_port.or(self.http_port).unwrap_or(80)
    }

    /// The main service: `main_service`, else `app`.
    pub fn main_service(&self) -> &str {
        self.main_service.as_deref().unwrap_or("app")
    }
}

/// Every key of `recipe.yaml`.
pub const META_FIELDS: &[Field] = &[
    f("tiers", "list of tiers", false, "tiers the recipe supports; default: all"),
    f("not_applicable", "mapping tier: reason", false, "tiers that do not apply, with an honest reason (recorded as N/A)"),
    f("skip_generic", "list of tiers", false, "opt out of the generic tests of these tiers (in CI this needs a `skip-generic` grant)"),
    f("deploy_timeout", "duration", false, "how long a deploy may take to converge (1s to 1h); default: the recipe's `coop-cloud.<stack>.timeout` label"),
    f("http_timeout", "duration", false, "how long HTTP checks retry before failing (1s to 1h)"),
    f("health_path", "string", false, "path of the generic HTTP check; default `/`"),
    f("accepted_statuses", "list of integers", false, "statuses the generic HTTP check accepts; default 200–399; 404 is never accepted"),
    f("readiness", "mapping", false, "probe to wait on after a deploy: `{http: {path, port}}` or `{tcp: {port}}`"),
    f("upgrade_base", "string", false, "commit or tag to install before an upgrade (`--upgrade-from` overrides it); default: the last green run whose head is an ancestor of the head, else the newest release tag that is"),
    f("env_install", "mapping", false, "extra app env at install"),
    f("env_upgrade", "mapping", false, "extra app env at upgrade"),
    f("domain", "string", false, "the app's domain (`--domain` wins; two runs of a pinned domain take turns: the second refuses while the first lives); default: `<recipe>-<run>.ci.local`, unique per run"),
    f("main_service", "string", false, "the service carrying the version labels; default `app`"),
    f("http_port", "integer", false, "port the main service serves HTTP on; default 80"),
    f("backup_verify", "check", false, "a check (e.g. `{exec: {…}}`) that must pass on a fresh backup; a failing one re-takes the backup (`backup_attempts`)"),
    f("backup_attempts", "integer", false, "how many times a backup that fails verification (paths its labels name missing or empty, `backup_verify`) is taken, 1 to 5; default 3"),
    f("description", "string", false, "free text; ignored"),
];

/// Parses `recipe.yaml`, returning the first error.
pub fn parse_meta(display_path: &Path, text: &str) -> Result<RecipeMeta, SpecError> {
    parse_meta_all(display_path, text).map_err(|mut v| v.remove(0))
}

/// Parses `recipe.yaml`, returning every error. An empty file is empty metadata.
pub fn parse_meta_all(display_path: &Path, text: &str) -> Result<RecipeMeta, Vec<SpecError>> {
    if let Some(e) = super::source::check_text(display_path, text) {
        return Err(vec![e]);
    }
    let root = node::parse(text).map_err(|e| {
        vec![SpecError {
            file: display_path.to_path_buf(),
            line: e.line,
            column: e.column,
            key: None,
            kind: Box::new(SpecErrorKind::Syntax { message: e.message }),
        }]
    })?;
    if root.is_null() {
        return Ok(RecipeMeta::default());
    }
    let mut dec = Decoder::new(display_path);
    let meta = decode(&mut dec, &root);
    if dec.errors.is_empty() {
        Ok(meta)
    } else {
        let mut errors = dec.errors;
        errors.sort_by_key(|e| (e.line, e.column));
        Err(errors)
    }
}

const CTX: &str = "recipe.yaml";

/// The most attempts at a verified backup recipe.yaml may ask for.
pub const MAX_BACKUP_ATTEMPTS: u32 = 5;

/// Bounds of `deploy_timeout` and `http_timeout`: a wait of a second at least, of an hour at most.
pub const MIN_TIMEOUT: Duration = Duration::from_secs(1);
pub const MAX_TIMEOUT: Duration = crate::duration::HOUR;

fn tier_of(dec: &mut Decoder, n: &Node, key: &str) -> Option<Tier> {
    let s = dec.string(n, key, CTX)?;
    match s.parse::<Tier>() {
        Ok(t) => Some(t),
        Err(_) => {
            let hint = closest(&s, Tier::names()).map(|c| format!("did you mean `{c}`?"));
            dec.invalid_hint(
                n,
                Some(key),
                CTX,
                format!(
                    "unknown tier `{s}` (expected one of: {})",
                    Tier::names().join(", ")
                ),
                hint,
            );
            None
        }
    }
}

fn env_map(dec: &mut Decoder, n: &Node, key: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Value::Map(entries) = &n.value else {
        dec.wrong_type(n, Some(key), CTX, "a mapping of NAME: value");
        return out;
    };
    for (k, v) in entries {
        let Some(name) = dec.string(k, key, CTX) else {
            continue;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            dec.invalid(
                k,
                Some(&name),
                &format!("{CTX} `{key}`"),
                "is not an environment variable name".into(),
            );
            continue;
        }
        let val = if v.is_null() {
            Some(String::new())
        } else {
            dec.string(v, &name, CTX)
        };
        if let Some(val) = val {
            out.insert(name, val);
        }
    }
    out
}

fn decode(dec: &mut Decoder, root: &Node) -> RecipeMeta {
    let keys: Vec<&str> = META_FIELDS.iter().map(|f| f.name).collect();
    let mut m = RecipeMeta::default();
    let Some(fl) = dec.fields(root, None, CTX, &keys) else {
        return m;
    };
    if let Some(n) = fl.get("description") {
        dec.string(n, "description", CTX);
    }
    if let Some(n) = fl.get("tiers") {
        m.tiers = dec.list(n, "tiers", CTX).map(|items| {
            items
                .into_iter()
                .filter_map(|i| tier_of(dec, i, "tiers"))
                .collect()
        });
    }
    if let Some(n) = fl.get("not_applicable") {
        if let Value::Map(entries) = &n.value {
            for (k, v) in entries {
                if let (Some(t), Some(reason)) = (
                    tier_of(dec, k, "not_applicable"),
                    dec.text(v, "not_applicable", CTX),
                ) {
                    if m.tiers.as_ref().is_some_and(|ts| ts.contains(&t)) {
                        dec.invalid_hint(
                            k,
                            Some("not_applicable"),
                            CTX,
                            format!("`{t}` is listed both in `tiers` and as not applicable"),
                            Some("keep one".into()),
                        );
                    }
                    m.not_applicable.insert(t, reason);
                }
            }
        } else {
            dec.wrong_type(n, Some("not_applicable"), CTX, "a mapping of tier: reason");
        }
    }
    if let Some(n) = fl.get("skip_generic") {
        for i in dec.list(n, "skip_generic", CTX).unwrap_or_default() {
            match tier_of(dec, i, "skip_generic") {
                Some(Tier::Custom) => dec.invalid(
                    i,
                    Some("skip_generic"),
                    CTX,
                    "the custom tier has no generic tests".into(),
                ),
                Some(t) => m.skip_generic.push(t),
                None => {}
            }
        }
    }
    m.deploy_timeout = fl
        .get("deploy_timeout")
        .and_then(|n| dec.duration(n, "deploy_timeout", CTX, MIN_TIMEOUT, MAX_TIMEOUT));
    m.http_timeout = fl
        .get("http_timeout")
        .and_then(|n| dec.duration(n, "http_timeout", CTX, MIN_TIMEOUT, MAX_TIMEOUT));
    m.health_path = fl.get("health_path").and_then(|n| {
        let p = dec.text(n, "health_path", CTX)?;
        if !p.starts_with('/') {
            dec.invalid_hint(
                n,
                Some("health_path"),
                CTX,
                format!("`{p}` does not start with `/`"),
                Some(format!("write `/{p}`")),
            );
            return None;
        }
        Some(p)
    });
    m.accepted_statuses = fl.get("accepted_statuses").and_then(|n| {
        let s = statuses(dec, n, "accepted_statuses", CTX)?;
        if s.contains(&404) {
            dec.invalid_hint(
                n,
                Some("accepted_statuses"),
                CTX,
                "404 never counts as a real answer (a proxy's default page would pass)".into(),
                Some("list 404 in an overlay's `http` check `status` if a test needs it".into()),
            );
            return None;
        }
        Some(s)
    });
    m.readiness = fl.get("readiness").and_then(|n| readiness(dec, n));
    m.upgrade_base = fl
        .get("upgrade_base")
        .and_then(|n| dec.text(n, "upgrade_base", CTX));
    m.env_install = fl
        .get("env_install")
        .map(|n| env_map(dec, n, "env_install"))
        .unwrap_or_default();
    m.env_upgrade = fl
        .get("env_upgrade")
        .map(|n| env_map(dec, n, "env_upgrade"))
        .unwrap_or_default();
    m.domain = fl.get("domain").and_then(|n| {
        let d = dec.text(n, "domain", CTX)?;
        if !is_domain_name(&d) {
            dec.invalid(
                n,
                Some("domain"),
                CTX,
                format!("`{d}` is not a domain name"),
            );
            return None;
        }
        Some(d.to_ascii_lowercase())
    });
    m.main_service = fl
        .get("main_service")
        .and_then(|n| dec.name(n, "main_service", CTX));
    m.http_port = fl
        .get("http_port")
        .and_then(|n| dec.port(n, "http_port", CTX));
    m.backup_attempts = fl.get("backup_attempts").and_then(|n| {
        let a = dec.int(n, "backup_attempts", CTX)?;
        match u32::try_from(a) {
            Ok(a @ 1..=MAX_BACKUP_ATTEMPTS) => Some(a),
            _ => {
                dec.invalid(
                    n,
                    Some("backup_attempts"),
                    CTX,
                    format!("{a} is not between 1 and {MAX_BACKUP_ATTEMPTS}"),
                );
                None
            }
        }
    });
    m.backup_verify = fl.get("backup_verify").and_then(|n| {
        let kinds = check_names();
        let inner = dec.fields(n, Some("backup_verify"), "backup_verify", &kinds)?;
        match inner.entries.as_slice() {
            [(k, _, v)] => parse_check(dec, k, v),
            _ => {
                dec.invalid(
                    n,
                    Some("backup_verify"),
                    CTX,
                    "needs exactly one check, e.g. `{exec: {service: db, command: …}}`".into(),
                );
                None
            }
        }
    });
    m
}

fn readiness(dec: &mut Decoder, n: &Node) -> Option<Readiness> {
    let fl = dec.fields(n, Some("readiness"), "readiness", &["http", "tcp"])?;
    let ctx = "readiness";
    match fl.entries.as_slice() {
        [("http", _, v)] => {
            let m = dec.fields(v, Some("http"), "readiness http", &["path", "port"])?;
            let path = m
                .get("path")
                .and_then(|p| dec.text(p, "path", ctx))
                .unwrap_or_else(|| "/".into());
            let port = m.get("port").and_then(|p| dec.port(p, "port", ctx));
            Some(Readiness::Http { path, port })
        }
        [("tcp", _, v)] => {
            let m = dec.fields(v, Some("tcp"), "readiness tcp", &["port"])?;
            let port = dec
                .required(&m, "port")
                .and_then(|p| dec.port(p, "port", ctx))?;
            Some(Readiness::Tcp { port })
        }
        _ => {
            dec.invalid(
                n,
                Some("readiness"),
                CTX,
                "needs exactly one of `http` or `tcp`".into(),
            );
            None
        }
    }
}
/// A host name a browser and DNS accept: at most 253 characters, dot-separated labels of 1–63 ASCII
/// letters, digits and hyphens.
pub fn is_domain_name(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
