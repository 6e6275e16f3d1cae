//! The customization manifest: every way the recipe's overlays, metadata and repo-local files change
//! the run, printed at run start and kept in the run's results.

use crate::discover::Discovery;

use super::config::RunConfig;

pub fn manifest(
    d: &Discovery,
    data: &super::prepare::DataDir,
    overlays: &[super::plan::OverlaySpec],
    cfg: &RunConfig,
) -> Vec<String> {
    let mut m = Vec::new();
    m.push(format!("data dir: {data}"));
    match &d.meta_path {
        Some(p) => m.push(format!("recipe.yaml: {}", p.display())),
        None => m.push("recipe.yaml: none (defaults)".into()),
    }
    let meta = &d.meta;
    if let Some(t) = meta.deploy_timeout {
        m.push(format!("deploy timeout: {}", humantime::format_duration(t)));
    }
    if let Some(t) = meta.http_timeout {
        m.push(format!("http timeout: {}", humantime::format_duration(t)));
    }
    if let Some(p) = &meta.health_path {
        m.push(format!("health path: {p}"));
    }
    if let Some(s) = &meta.accepted_statuses {
        m.push(format!("accepted statuses: {s:?}"));
    }
    if let Some(b) = &meta.upgrade_base {
        m.push(format!("upgrade base override: {b}"));
    }
    if !meta.env_install.is_empty() {
        m.push(format!("extra env at install: {}", keys(&meta.env_install)));
    }
    if !meta.env_upgrade.is_empty() {
        m.push(format!("extra env at upgrade: {}", keys(&meta.env_upgrade)));
    }
    for (t, why) in &meta.not_applicable {
        m.push(format!("not applicable: {t} ({why})"));
    }
    for super::plan::OverlaySpec {
        spec: s,
        repo_local,
    } in overlays
    {
        let seeds = if s.before_op.is_empty() {
            String::new()
        } else {
            format!(", {} seed step(s)", s.before_op.len())
        };
        let op = if s.op.is_some() {
            ", replaces the op"
        } else {
            ""
        };
        let kind = if *repo_local { "repo-local" } else { "overlay" };
        m.push(format!(
            "{kind}: {} ({} tier, {} test(s){seeds}{op})",
            s.path.display(),
            s.tier,
            s.tests.len()
        ));
    }
    for p in &d.pytest {
        m.push(format!("pytest overlay: {}", p.path.display()));
    }
    if cfg.skip_generic {
        m.push("generic tests: skip requested".into());
    }
    m
}

fn keys(map: &std::collections::BTreeMap<String, String>) -> String {
    map.keys().cloned().collect::<Vec<_>>().join(", ")
}
