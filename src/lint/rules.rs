//! The built-in recipe checks. Each check reads the typed stack from `deploy::compose::load` (the same
//! loader the stack deployer uses) or `.env.sample` through `deploy::compose::parse_env`, and returns
//! messages of the form `<file>: <what is wrong> (hint: <what to do>)`. No message means the check
//! passed. Checks never touch the engine and never write.

use std::collections::BTreeMap;
use std::path::Path;

use crate::deploy::compose::{self, EnvFile, ServiceDef, StackSpec};

/// What a secret's version variable is set to while linting, so a hard-coded version in a secret's
/// `name:` cannot pass for `${SECRET_<NAME>_VERSION}`.
const VERSION_PROBE: &str = "ccci-lint-probe";

/// What the built-in checks found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Every problem found, in a stable order.
    pub messages: Vec<String>,
}

/// Runs every built-in check on the recipe at `checkout`.
pub fn lint_messages(checkout: &Path, stack: &str, domain: &str) -> Findings {
    let mut out = Vec::new();
    let sample = if !checkout.join(".env.sample").exists() {
        out.push(
            ".env.sample: missing (hint: add it with at least TYPE=<recipe> and DOMAIN=<recipe>.example.com; abra copies it into every new app's env file)"
                .to_string(),
        );
        None
    } else {
        match compose::read_env_sample(checkout) {
            Ok(e) => Some(e),
            Err(e) => {
                let root = format!("{}/", checkout.display());
                out.push(e.to_string().replace(&root, ""));
                None
            }
        }
    };
    if let Some(env) = &sample {
        env_sample(env, &mut out);
    }
    let overrides: BTreeMap<String, String> = sample
        .iter()
        .flat_map(|e| e.vars.keys())
        .filter(|k| secret_of_var(k).is_some())
        .map(|k| (k.clone(), VERSION_PROBE.to_string()))
        .collect();
    let spec = match compose::load(checkout, stack, domain, &overrides) {
        Ok(s) => s,
        Err(compose::ComposeError::Unsupported { keys, places, .. }) => {
            let files = compose::app_env(checkout, stack, domain, &overrides)
                .map(|e| compose::compose_files(checkout, &e.vars))
                .unwrap_or_default();
            out.push(format!(
                "{}: keys `docker stack deploy` refuses: {} (hint: remove them; docs/compose.md lists what a stack may hold)",
                compose_names(&files, checkout),
                keys.iter()
                    .zip(&places)
                    .map(|(k, p)| format!("{k} ({p})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return Findings { messages: out };
        }
        Err(compose::ComposeError::NoComposeFile { wanted, .. }) => {
            out.push(format!(
                "{}: does not exist (hint: a recipe has a compose.yml, or names its compose files in COMPOSE_FILE in .env.sample)",
                wanted.strip_prefix(checkout).unwrap_or(&wanted).display()
            ));
            return Findings { messages: out };
        }
        Err(e) => {
            // The loader names files by absolute path; a person reads them relative to the recipe.
            let root = format!("{}/", checkout.display());
            let mut m = e.to_string().replace(&root, "");
            if !m.contains("(hint: ") {
                m.push_str(
                    " (hint: the compose files must load the way `docker stack deploy` reads them; fix the file named first)",
                );
            }
            out.push(m);
            return Findings { messages: out };
        }
    };
    let file = compose_names(&spec.files, checkout);
    app_service(&spec, &file, &mut out);
    version_label(&spec, stack, &file, &mut out);
    images(&spec, &file, &mut out);
    secrets(&spec, sample.as_ref(), stack, &file, &mut out);
    traefik(&spec, &file, &mut out);
    Findings { messages: out }
}

/// `.env.sample` names the recipe (TYPE, or the older RECIPE) and the app's DOMAIN.
fn env_sample(env: &EnvFile, out: &mut Vec<String>) {
    let set = |k: &str| env.vars.get(k).is_some_and(|v| !v.trim().is_empty());
    if !set("TYPE") && !set("RECIPE") {
        out.push(
            ".env.sample: TYPE is not set (hint: add TYPE=<recipe name>; abra uses it to find the recipe of an app)"
                .to_string(),
        );
    }
    if !set("DOMAIN") {
        out.push(
            ".env.sample: DOMAIN is not set (hint: add DOMAIN=<recipe>.example.com; the stack name and the traefik rule derive from it)"
                .to_string(),
        );
    }
}

/// The main service is called `app` and has a healthcheck.
fn app_service(spec: &StackSpec, file: &str, out: &mut Vec<String>) {
    match spec.services.get("app") {
        None => out.push(format!(
            "{file}: no service is named `app` (services: {}) (hint: name the main service `app`; abra and cc-ci look for the version label and the health of the app there)",
            spec.services.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
        Some(app) => {
            let disabled = app.healthcheck.as_ref().is_some_and(|h| {
                h.test.first().is_some_and(|t| t.eq_ignore_ascii_case("NONE"))
            });
            if app.healthcheck.is_none() || disabled {
                out.push(format!(
                    "{file}: service `app` has no healthcheck (hint: add `healthcheck: {{test: [\"CMD\", …], interval: …, start_period: …}}` so swarm and traefik only route to a ready app)"
                ));
            }
        }
    }
}

/// A service (preferably `app`) carries `coop-cloud.${{STACK_NAME}}.version=X.Y.Z+<upstream>`.
fn version_label(spec: &StackSpec, stack: &str, file: &str, out: &mut Vec<String>) {
    let key = format!("coop-cloud.{stack}.version");
    let found = spec
        .services
        .get_key_value("app")
        .into_iter()
        .chain(spec.services.iter())
        .find_map(|(name, s)| label(s, &key).map(|v| (name, v)));
    let Some((service, value)) = found else {
        out.push(format!(
            "{file}: no service carries the label coop-cloud.${{STACK_NAME}}.version (hint: add `- \"coop-cloud.${{STACK_NAME}}.version=1.0.0+<upstream version>\"` to the deploy.labels of `app`)"
        ));
        return;
    };
    match semver::Version::parse(value.trim()) {
        Err(e) => out.push(format!(
            "{file}: service `{service}`: coop-cloud.${{STACK_NAME}}.version={value} is not a recipe version: {e} (hint: use X.Y.Z+<upstream version>, e.g. 1.0.0+1.36.1)"
        )),
        Ok(v) if v.build.is_empty() => out.push(format!(
            "{file}: service `{service}`: coop-cloud.${{STACK_NAME}}.version={value} has no +<upstream> part (hint: append the upstream version the recipe ships, e.g. {v}+1.36.1)"
        )),
        Ok(_) => {}
    }
}

/// Every image names an explicit tag (or digest) other than `latest`.
fn images(spec: &StackSpec, file: &str, out: &mut Vec<String>) {
    for (name, s) in &spec.services {
        let image = s.image.trim();
        if image.is_empty() {
            out.push(format!(
                "{file}: service `{name}` has no image (hint: set `image: <name>:<version>`)"
            ));
            continue;
        }
        match image_tag(image) {
            ImageRef::Digest => {}
            ImageRef::Tag(t) if t != "latest" => {}
            ImageRef::Tag(_) => out.push(format!(
                "{file}: service `{name}`: image {image} uses the tag `latest` (hint: pin a released version, e.g. {}:1.2.3, so an upgrade is a change in the recipe)",
                image.rsplit_once(':').map(|(n, _)| n).unwrap_or(image)
            )),
            ImageRef::Untagged => out.push(format!(
                "{file}: service `{name}`: image {image} has no tag, so it means `latest` (hint: pin a released version, e.g. {image}:1.2.3)"
            )),
        }
    }
}

enum ImageRef<'a> {
    Tag(&'a str),
    Digest,
    Untagged,
}

/// The tag of an image reference: after the last `:` that follows the last `/` (a registry port
/// such as `host:5000/x` is not a tag).
fn image_tag(image: &str) -> ImageRef<'_> {
    if image.contains('@') {
        return ImageRef::Digest;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, t)) if !t.is_empty() => ImageRef::Tag(t),
        _ => ImageRef::Untagged,
    }
}

/// External secrets are named `${STACK_NAME}_<key>_${SECRET_<KEY>_VERSION}` with that variable in
/// `.env.sample` (abra generates them as v1 and a change means a version bump).
fn secrets(
    spec: &StackSpec,
    sample: Option<&EnvFile>,
    stack: &str,
    file: &str,
    out: &mut Vec<String>,
) {
    for (key, s) in spec.secrets.iter().filter(|(_, s)| s.external) {
        let var = format!("SECRET_{}_VERSION", key.to_ascii_uppercase());
        let template = format!("${{STACK_NAME}}_{key}_${{{var}}}");
        let defined = sample.is_some_and(|e| e.vars.contains_key(&var));
        if !defined {
            out.push(format!(
                ".env.sample: {var} is not defined, but {file} uses the external secret `{key}` (hint: add `{var}=v1`; abra generates the secret at that version)"
            ));
        }
        let expected = format!("{stack}_{key}_{VERSION_PROBE}");
        match &s.name {
            None => out.push(format!(
                "{file}: secret `{key}` is external but has no name (hint: set `name: {template}`)"
            )),
            Some(n) if defined && *n != expected => out.push(format!(
                "{file}: secret `{key}` is named {} (hint: name it `{template}` so a version bump in .env.sample changes the secret)",
                n.replace(stack, "${STACK_NAME}").replace(VERSION_PROBE, &format!("${{{var}}}"))
            )),
            Some(_) => {}
        }
    }
}

/// A service on the external `proxy` network is a web app: traefik needs `traefik.enable=true` and a
/// router rule on it.
fn traefik(spec: &StackSpec, file: &str, out: &mut Vec<String>) {
    for (name, s) in &spec.services {
        let on_proxy = s.networks.iter().any(|n| {
            let def = spec.networks.get(&n.name);
            n.name == "proxy" || def.and_then(|d| d.name.as_deref()) == Some("proxy")
        });
        if !on_proxy {
            continue;
        }
        let labels = || s.deploy.labels.iter().chain(s.labels.iter());
        let enabled = labels().any(|(k, v)| k == "traefik.enable" && v.trim() == "true");
        let rule =
            labels().any(|(k, _)| k.starts_with("traefik.http.routers.") && k.ends_with(".rule"));
        let mut missing = Vec::new();
        if !enabled {
            missing.push("`traefik.enable=true`");
        }
        if !rule {
            missing.push("a `traefik.http.routers.${STACK_NAME}.rule=Host(`${DOMAIN}`)` label");
        }
        if !missing.is_empty() {
            out.push(format!(
                "{file}: service `{name}` joins the proxy network but lacks {} (hint: add them to its deploy.labels, or take it off `proxy` if it serves nothing)",
                missing.join(" and ")
            ));
        }
    }
}

/// A label of a service: the service (deploy) labels first, then the container labels.
fn label<'a>(s: &'a ServiceDef, key: &str) -> Option<&'a str> {
    s.deploy
        .labels
        .get(key)
        .or_else(|| s.labels.get(key))
        .map(String::as_str)
}

/// `API_KEY` → `api_key` for `SECRET_API_KEY_VERSION`.
fn secret_of_var(var: &str) -> Option<String> {
    var.strip_prefix("SECRET_")
        .and_then(|k| k.strip_suffix("_VERSION"))
        .filter(|k| !k.is_empty())
        .map(str::to_ascii_lowercase)
}

/// The compose files as a person names them: `compose.yml` or `compose.yml+compose.smtp.yml`.
fn compose_names(files: &[std::path::PathBuf], checkout: &Path) -> String {
    let names: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(checkout).unwrap_or(f).display().to_string())
        .collect();
    if names.is_empty() {
        "compose.yml".into()
    } else {
        names.join("+")
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
