//! A service's `volumes` and `ports`, both syntaxes. The short forms (`data:/srv:ro`, `8080:80/udp`)
//! are rewritten into the long form Docker's loader produces (so overlays merge entry by entry and
//! `docker stack config` prints the same), then the long form is typed. Relative bind sources are
//! resolved against the recipe directory, as Docker resolves them against the first compose file's.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::{Mapping, Value};

use super::keys::{flag, int, resolve_path, scalar_string, string, Checker};
use super::model::{MountDef, MountKind, PortDef};
use super::values::parse_bytes;
use super::ComposeError;

const BIND_PROPAGATION: [&str; 6] = [
    "rprivate", "private", "rshared", "shared", "rslave", "slave",
];

fn map(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = Mapping::new();
    for (k, v) in pairs {
        m.insert(Value::from(k), v);
    }
    Value::Mapping(m)
}

/// A short volume spec as a long-form mapping (Docker's `ParseVolume`, quirks included: a one-letter
/// source followed by `:` is read as a Windows drive).
pub fn volume_short(
    spec: &str,
    base: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<Value, String> {
    if spec.is_empty() {
        return Err("invalid empty volume spec".into());
    }
    let (mut source, mut target, mut options): (Option<String>, Option<String>, Option<String>) =
        (None, None, None);
    if spec.chars().count() <= 2 {
        target = Some(spec.to_string());
    } else {
        let mut buf = String::new();
        let chars: Vec<char> = spec.chars().chain(std::iter::once('\0')).collect();
        for c in chars {
            let drive = c == ':' && buf.len() == 1 && buf.chars().all(|b| b.is_ascii_alphabetic());
            if drive || (c != ':' && c != '\0') {
                buf.push(c);
                continue;
            }
            if buf.is_empty() {
                return Err(format!("{spec:?}: empty section between colons"));
            }
            let part = std::mem::take(&mut buf);
            match (&source, &target) {
                (None, _) if c == '\0' => target = Some(part),
                (None, _) => source = Some(part),
                (Some(_), None) => target = Some(part),
                _ if c == ':' => return Err(format!("{spec:?}: too many colons")),
                _ => options = Some(part),
            }
        }
    }
    let bind = source.as_deref().is_some_and(is_file_path);
    let mut pairs = vec![("type", Value::from(if bind { "bind" } else { "volume" }))];
    if let Some(s) = source {
        let s = if bind { bind_source(&s, base, vars) } else { s };
        pairs.push(("source", Value::from(s)));
    }
    pairs.push(("target", Value::from(target.unwrap_or_default())));
    let (mut read_only, mut nocopy, mut propagation) = (false, false, None);
    for o in options.iter().flat_map(|o| o.split(',')) {
        match o {
            "ro" => read_only = true,
            "rw" => read_only = false,
            "nocopy" => nocopy = true,
            p if BIND_PROPAGATION.contains(&p) => propagation = Some(p.to_string()),
            _ => {}
        }
    }
    if read_only {
        pairs.push(("read_only", Value::Bool(true)));
    }
    if let Some(p) = propagation {
        pairs.push(("bind", map(vec![("propagation", Value::from(p))])));
    }
    if nocopy {
        pairs.push(("volume", map(vec![("nocopy", Value::Bool(true))])));
    }
    Ok(map(pairs))
}

fn is_file_path(s: &str) -> bool {
    s.starts_with(['.', '/', '~'])
}

/// A bind source as Docker resolves it: `~` from HOME in the app env (if set), relative to `base`.
pub fn bind_source(s: &str, base: &Path, vars: &BTreeMap<String, String>) -> String {
    let s = match (s.strip_prefix('~'), vars.get("HOME")) {
        (Some(rest), Some(home)) => format!("{home}{rest}"),
        _ => s.to_string(),
    };
    resolve_path(base, &s).display().to_string()
}

/// A short port spec (`[ip:][published:]target[/protocol]`, ranges allowed) as long-form mappings.
pub fn port_short(spec: &str) -> Result<Vec<Value>, String> {
    let (body, protocol) = match spec.rsplit_once('/') {
        Some((b, p)) => (b, p.to_string()),
        None => (spec, "tcp".to_string()),
    };
    let parts: Vec<&str> = body.split(':').collect();
    let (published, target) = match parts.as_slice() {
        [t] => (None, *t),
        [p, t] => (Some(*p), *t),
        [_ip, p, t] => (Some(*p).filter(|p| !p.is_empty()), *t),
        _ => return Err(format!("cannot read port {spec:?}")),
    };
    let targets = range(target).ok_or_else(|| format!("bad port {target:?} in {spec:?}"))?;
    let published = match published {
        None => None,
        Some(p) => Some(range(p).ok_or_else(|| format!("bad port {p:?} in {spec:?}"))?),
    };
    if let Some(p) = &published {
        if p.len() != targets.len() {
            return Err(format!(
                "{spec:?}: the published range and the target range differ in length"
            ));
        }
    }
    Ok(targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut pairs = vec![
                ("mode", Value::from("ingress")),
                ("target", Value::from(*t)),
            ];
            if let Some(p) = &published {
                pairs.push(("published", Value::from(p[i])));
            }
            pairs.push(("protocol", Value::from(protocol.clone())));
            map(pairs)
        })
        .collect())
}

/// `80` → [80]; `8000-8002` → [8000, 8001, 8002].
fn range(s: &str) -> Option<Vec<u16>> {
    let n = |x: &str| x.trim().parse::<u16>().ok();
    match s.split_once('-') {
        None => n(s).map(|p| vec![p]),
        Some((a, b)) => {
            let (a, b) = (n(a)?, n(b)?);
            (a <= b).then(|| (a..=b).collect())
        }
    }
}

/// A long-form volume entry, typed.
pub fn mount(ck: &mut Checker, at: &str, v: &Value) -> Result<MountDef, ComposeError> {
    let Some(m) = v.as_mapping() else {
        return Err(ck.invalid(at, "expected a volume spec"));
    };
    ck.keys(
        m,
        at,
        &[
            "type",
            "source",
            "target",
            "read_only",
            "volume",
            "bind",
            "tmpfs",
        ],
        &["consistency"],
    );
    let kind = match string(m, "type").as_deref().unwrap_or("volume") {
        "volume" => MountKind::Volume,
        "bind" => MountKind::Bind,
        "tmpfs" => MountKind::Tmpfs,
        t => return Err(ck.invalid(at, format!("unsupported mount type {t:?}"))),
    };
    let target = string(m, "target").ok_or_else(|| ck.invalid(at, "`target` is required"))?;
    let sub = |key: &str| m.get(key).and_then(Value::as_mapping).cloned();
    let mut def = MountDef {
        kind,
        source: string(m, "source"),
        target,
        read_only: flag(m, "read_only"),
        ..Default::default()
    };
    if let Some(b) = sub("bind") {
        ck.keys(&b, &format!("{at}.bind"), &["propagation"], &[]);
        def.bind_propagation = string(&b, "propagation");
    }
    if let Some(vo) = sub("volume") {
        ck.keys(&vo, &format!("{at}.volume"), &["nocopy"], &[]);
        def.volume_nocopy = flag(&vo, "nocopy");
    }
    if let Some(t) = sub("tmpfs") {
        let tat = format!("{at}.tmpfs");
        ck.keys(&t, &tat, &["size"], &[]);
        def.tmpfs_size = match t.get("size") {
            None | Some(Value::Null) => None,
            Some(Value::Number(_)) => int(ck, &tat, &t, "size")?,
            Some(s) => Some(
                parse_bytes(&scalar_string(s))
                    .map_err(|e| ck.invalid(&format!("{tat}.size"), e))?,
            ),
        };
    }
    Ok(def)
}

/// A long-form port entry, typed.
pub fn port(ck: &mut Checker, at: &str, v: &Value) -> Result<PortDef, ComposeError> {
    let Some(m) = v.as_mapping() else {
        return Err(ck.invalid(at, "expected a port spec"));
    };
    ck.keys(m, at, &["target", "published", "protocol", "mode"], &[]);
    let num = |key: &str| -> Result<Option<u16>, ComposeError> {
        string(m, key)
            .map(|s| {
                s.trim()
                    .parse::<u16>()
                    .map_err(|_| ck.invalid(&format!("{at}.{key}"), format!("bad port {s:?}")))
            })
            .transpose()
    };
    Ok(PortDef {
        target: num("target")?.ok_or_else(|| ck.invalid(at, "`target` is required"))?,
        published: num("published")?,
        protocol: string(m, "protocol"),
        mode: string(m, "mode"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vol(s: &str) -> Value {
        volume_short(s, Path::new("/r"), &BTreeMap::new()).unwrap()
    }

    #[test]
    fn short_volumes_become_long_form_as_docker_reads_them() {
        assert_eq!(
            vol("data:/srv:ro"),
            serde_yaml::from_str::<Value>(
                "{type: volume, source: data, target: /srv, read_only: true}"
            )
            .unwrap()
        );
        assert_eq!(
            vol("./x:/x:rshared"),
            serde_yaml::from_str::<Value>(
                "{type: bind, source: /r/x, target: /x, bind: {propagation: rshared}}"
            )
            .unwrap()
        );
        assert_eq!(vol("/anon")["type"], Value::from("volume"));
        assert_eq!(vol("..:/p")["source"], Value::from("/"));
        assert_eq!(vol("data:/v:nocopy")["volume"]["nocopy"], Value::Bool(true));
    }

    #[test]
    fn a_one_letter_volume_name_reads_as_a_windows_drive_as_in_docker() {
        let v = vol("v:/v:nocopy");
        assert_eq!(
            (v["source"].as_str(), v["target"].as_str()),
            (Some("v:/v"), Some("nocopy"))
        );
    }

    #[test]
    fn short_ports_expand_ranges_and_drop_the_host_ip() {
        let p = port_short("127.0.0.1:9000-9001:90-91/udp").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1]["published"], Value::from(9001));
        assert_eq!(p[1]["target"], Value::from(91));
        assert_eq!(p[1]["protocol"], Value::from("udp"));
        assert!(port_short("80").unwrap()[0].get("published").is_none());
        assert!(port_short("8000-8002:80").is_err());
    }
}
