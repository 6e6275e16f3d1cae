//! The overlay scaffold `cc-ci overlay new RECIPE --from SRC` writes, fitted to the recipe read by the
//! preflight: the main service (the one traefik routes to), the HTTP port from its
//! `loadbalancer.server.port` label, a health path guessed from its healthcheck, a backup/restore
//! pair seeding a marker in a backed-up volume, and `not_applicable` for tiers the recipe cannot run.
//! Text generation only: the caller writes the files.

use std::sync::LazyLock;

use regex::Regex;

use crate::deploy::compose::{MountKind, ServiceDef, StackSpec};

use super::{Facts, NO_BACKUP};

/// One file of the scaffold: its name in `overlays/<recipe>/` and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaffoldFile {
    pub name: String,
    pub text: String,
}

/// What the scaffold learned from the recipe (also printed by `overlay new`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    pub main_service: String,
    pub http_port: Option<u16>,
    pub health_path: Option<String>,
    /// (service, volume, mount target) of the volume the backup seed writes into.
    pub seed: Option<(String, String, String)>,
}

const PORT_LABEL: (&str, &str) = ("traefik.http.services.", ".loadbalancer.server.port");

/// The HTTP port traefik is told to use for `s`, when it is a number.
fn traefik_port(s: &ServiceDef) -> Option<u16> {
    s.deploy
        .labels
        .iter()
        .chain(s.labels.iter())
        .find(|(k, _)| k.starts_with(PORT_LABEL.0) && k.ends_with(PORT_LABEL.1))
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// The service a person talks to: `app` when it exists, else the one traefik routes to, else the
/// first.
fn main_service(spec: &StackSpec) -> String {
    if spec.services.contains_key("app") {
        return "app".into();
    }
    spec.services
        .iter()
        .find(|(_, s)| traefik_port(s).is_some())
        .or_else(|| spec.services.iter().next())
        .map(|(k, _)| k.clone())
        .unwrap_or_else(|| "app".into())
}

static URL_PATH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"https?://[^/\s'"]+(/[^\s'"|;&]*)"#).expect("valid regex"));

/// The path a healthcheck requests (`http://127.0.0.1:8080/healthz` → `/healthz`).
fn health_path(s: &ServiceDef) -> Option<String> {
    let test = s.healthcheck.as_ref()?.test.join(" ");
    URL_PATH
        .captures(&test)
        .map(|c| c[1].to_string())
        .filter(|p| p != "/")
}

/// A named volume of a backup-labelled service that backup-bot takes whole: not excluded, no `.path`
/// limit. (service, volume, mount target).
fn seed_volume(spec: &StackSpec, services: &[String]) -> Option<(String, String, String)> {
    for name in services {
        let s = &spec.services[name];
        let labels = &s.deploy.labels;
        for m in s.mounts.iter().filter(|m| m.kind == MountKind::Volume) {
            let Some(vol) = &m.source else { continue };
            let excluded = labels
                .get(&format!("backupbot.backup.volumes.{vol}"))
                .is_some_and(|v| v.trim() == "false");
            let limited = labels.contains_key(&format!("backupbot.backup.volumes.{vol}.path"));
            if !excluded && !limited && !m.read_only {
                return Some((name.clone(), vol.clone(), m.target.clone()));
            }
        }
    }
    None
}

/// Reads what the scaffold needs from the recipe.
pub fn fit(facts: &Facts) -> Fitted {
    let spec = &facts.spec;
    let main = main_service(spec);
    let svc = &spec.services.get(&main);
    Fitted {
        http_port: svc.and_then(traefik_port),
        health_path: svc.and_then(health_path),
        seed: seed_volume(spec, &facts.backup_services),
        main_service: main,
    }
}

/// The scaffold for `recipe`, read from `source` (for the comments).
pub fn scaffold(recipe: &str, source: &str, facts: &Facts, has_release: bool) -> Vec<ScaffoldFile> {
    let f = fit(facts);
    let mut files = vec![
        ScaffoldFile {
            name: "recipe.yaml".into(),
            text: recipe_yaml(recipe, source, facts, &f, has_release),
        },
        ScaffoldFile {
            name: "smoke.yaml".into(),
            text: format!(
                "# A first overlay for `{recipe}`: runs after the install op (the first deploy).\n\
                 # Add tests below; each has a `name` and exactly one check. Validate with `cc-ci overlay check`.\n\
                 tier: install\ntests:\n  - name: converged\n    converged: {{}}\n\
                 \x20 # Runs a command in a running `{s}` container; passes when it exits 0.\n\
                 \x20 - name: exec_works\n    exec:\n      service: {s}\n      command: \"true\"\n",
                s = f.main_service
            ),
        },
    ];
    if let Some((service, volume, target)) = &f.seed {
        let marker = format!("{}/ccci-marker.txt", target.trim_end_matches('/'));
        files.push(ScaffoldFile {
            name: "backup.yaml".into(),
            text: format!(
                "# Before the backup op: a unique marker in the volume `{volume}` of `{service}` (backed up by\n\
                 # backup-bot), recorded exactly. restore.yaml deletes it and expects it back.\n\
                 tier: backup\nbefore_op:\n  - exec:\n      service: {service}\n      command: \"cat /proc/sys/kernel/random/uuid > {marker}\"\n\
                 \x20 - record: {{name: marker, service: {service}, command: cat {marker}}}\n\
                 tests:\n  - name: marker_written\n    recorded: {{name: marker, service: {service}, command: cat {marker}}}\n"
            ),
        });
        files.push(ScaffoldFile {
            name: "restore.yaml".into(),
            text: format!(
                "# The marker is deleted before the restore op: only a real restore brings it back, exactly as\n\
                 # recorded before the backup.\n\
                 tier: restore\nbefore_op:\n  - exec: {{service: {service}, command: \"rm -f {marker}\"}}\n\
                 tests:\n  - name: marker_restored\n    recorded: {{name: marker, service: {service}, command: cat {marker}}}\n"
            ),
        });
    }
    files
}

fn recipe_yaml(recipe: &str, source: &str, facts: &Facts, f: &Fitted, has_release: bool) -> String {
    let mut t = format!(
        "# Metadata for the recipe `{recipe}`, fitted by `cc-ci overlay new --from {source}` to its compose\n\
         # files ({}). Every key is optional; the full list: `cc-ci overlay doc`.\n\
         main_service: {}\n",
        facts.files.join(", "),
        f.main_service
    );
    match f.http_port {
        Some(p) => t.push_str(&format!(
            "http_port: {p}   # traefik's loadbalancer.server.port\n"
        )),
        None => t.push_str(
            "# http_port: 80   # no numeric traefik loadbalancer.server.port label found\n",
        ),
    }
    match &f.health_path {
        Some(p) => t.push_str(&format!(
            "health_path: {p}   # from the healthcheck of `{}`\n",
            f.main_service
        )),
        None => t.push_str("# health_path: /\n"),
    }
    t.push_str("# accepted_statuses: [200]   # 404 never counts\n# deploy_timeout: 5m\n");
    if !facts.backup_capable() {
        t.push_str(&format!(
            "not_applicable:\n  backup: \"{NO_BACKUP}\"\n  restore: \"{NO_BACKUP}\"\n"
        ));
    } else if f.seed.is_none() {
        t.push_str(&format!(
            "# backup/restore: {} backed up, but every volume is excluded or limited to paths\n\
             # (backupbot.backup.volumes.<vol>.path): seed data through the app in a backup.yaml\n\
             # `before_op` (e.g. rows a pre-hook dumps), and check it in restore.yaml.\n",
            facts.backup_services.join(", ")
        ));
    }
    if !has_release {
        t.push_str(
            "# upgrade: no release tag yet, so the upgrade tier will not run until the recipe is tagged.\n",
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn facts(compose: &str) -> Facts {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("compose.yml"), compose).unwrap();
        super::super::inspect(d.path(), "r_ci_local", "r.ci.local", &BTreeMap::new()).unwrap()
    }

    const TWO: &str = "services:\n  web:\n    image: n:1\n    healthcheck:\n      test: [CMD, wget, -q, 'http://127.0.0.1:8080/healthz']\n    volumes: [cache:/cache, data:/srv/data]\n    deploy:\n      labels:\n        - traefik.http.services.${STACK_NAME}.loadbalancer.server.port=8080\n        - backupbot.backup=true\n        - backupbot.backup.volumes.cache=false\n  db:\n    image: p:1\n";

    #[test]
    fn the_main_service_port_health_path_and_seed_volume_come_from_the_recipe() {
        let f = fit(&facts(TWO));
        assert_eq!(f.main_service, "web");
        assert_eq!(f.http_port, Some(8080));
        assert_eq!(f.health_path.as_deref(), Some("/healthz"));
        assert_eq!(
            f.seed,
            Some(("web".into(), "data".into(), "/srv/data".into()))
        );
    }

    #[test]
    fn a_recipe_without_backup_labels_declares_backup_and_restore_not_applicable() {
        let files = scaffold(
            "r",
            "./r",
            &facts("services:\n  app:\n    image: a:1\n"),
            false,
        );
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["recipe.yaml", "smoke.yaml"]);
        let meta =
            crate::spec::parse_meta(std::path::Path::new("recipe.yaml"), &files[0].text).unwrap();
        assert!(meta.not_applicable.contains_key(&crate::spec::Tier::Backup));
        assert!(files[0].text.contains("no release tag"));
    }

    #[test]
    fn every_scaffold_file_parses_as_a_spec() {
        for f in scaffold("r", "./r", &facts(TWO), true) {
            if f.name == "recipe.yaml" {
                crate::spec::parse_meta(std::path::Path::new(&f.name), &f.text).unwrap();
            } else {
                crate::spec::parse_spec(std::path::Path::new(&f.name), &f.text)
                    .unwrap_or_else(|e| panic!("{}: {e}\n{}", f.name, f.text));
            }
        }
    }
}
