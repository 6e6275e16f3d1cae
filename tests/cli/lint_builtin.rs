//! The built-in recipe lint on real recipe folders: quiet on the bundled example recipe, and each rule
//! fires — naming the file, what is wrong and what to do — on a copy of it broken in one way.

use std::path::Path;

use crate::support::recipe_repo::project_root;
use cc_ci::lint::{lint_recipe, BUILTIN_TOOL};

const STACK: &str = "hello_lint_example";
const DOMAIN: &str = "hello.lint.example";

/// A private copy of `examples/recipes/hello`.
fn hello() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let src = project_root().join("examples/recipes/hello");
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), d.path().join(e.file_name())).unwrap();
    }
    d
}

/// Replaces `from` (which must be there) with `to` in `file`.
fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let p = dir.join(file);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
}

/// Lints `dir`, asserts it failed with exactly one message, that the message starts with `file` (and
/// its line, where there is one) and carries a hint, and returns it.
fn only_message(dir: &Path, file: &str) -> String {
    let r = lint_recipe(dir, STACK, DOMAIN);
    assert!(!r.passed, "{r:?}");
    assert_eq!(r.not_run, None);
    assert_eq!(r.messages.len(), 1, "{:#?}", r.messages);
    let m = r.messages[0].clone();
    let rest = m
        .strip_prefix(&format!("{file}:"))
        .unwrap_or_else(|| panic!("{m}"));
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    assert!(rest.starts_with(": ") || rest.starts_with(' '), "{m}");
    assert!(m.contains("(hint: "), "{m}");
    m
}

#[test]
fn example_recipe_passes_without_messages() {
    let r = lint_recipe(
        &project_root().join("examples/recipes/hello"),
        STACK,
        DOMAIN,
    );
    assert_eq!(r.tool, BUILTIN_TOOL);
    assert!(r.passed, "{:#?}", r.messages);
    assert!(r.messages.is_empty());
    assert_eq!(r.not_run, None);
}

#[test]
fn compose_that_does_not_load_fails_naming_the_file() {
    let d = hello();
    edit(d.path(), "compose.yml", "services:\n", "services: [\n");
    let m = only_message(d.path(), "compose.yml");
    assert!(
        m.starts_with("compose.yml:") && m.contains(": invalid YAML"),
        "{m}"
    );
    let d = hello();
    std::fs::remove_file(d.path().join("compose.yml")).unwrap();
    let m = only_message(d.path(), "compose.yml");
    assert!(m.contains("does not exist"), "{m}");
    let d = hello();
    edit(
        d.path(),
        "compose.yml",
        "image: ccci/busybox:1",
        "image: ${IMAGE?set IMAGE}",
    );
    let m = only_message(d.path(), "compose.yml");
    assert!(m.contains("required variable IMAGE is missing"), "{m}");
}

#[test]
fn missing_version_label_fires() {
    let d = hello();
    edit(
        d.path(),
        "compose.yml",
        "        - \"coop-cloud.${STACK_NAME}.version=1.0.0+1.36.1\"\n",
        "",
    );
    let m = only_message(d.path(), "compose.yml");
    assert!(m.contains("coop-cloud.${STACK_NAME}.version"), "{m}");
}

#[test]
fn version_label_that_is_not_a_recipe_version_fires() {
    for (bad, says) in [
        ("1.0", "is not a recipe version"),
        ("1.0.0", "has no +<upstream> part"),
    ] {
        let d = hello();
        edit(
            d.path(),
            "compose.yml",
            "version=1.0.0+1.36.1",
            &format!("version={bad}"),
        );
        let m = only_message(d.path(), "compose.yml");
        assert!(m.contains(says), "{bad}: {m}");
        assert!(m.contains("service `app`"), "{m}");
    }
}

#[test]
fn untagged_and_latest_images_fire() {
    for (image, says) in [
        ("ccci/busybox", "has no tag"),
        ("ccci/busybox:latest", "uses the tag `latest`"),
    ] {
        let d = hello();
        edit(
            d.path(),
            "compose.yml",
            "image: ccci/busybox:1",
            &format!("image: {image}"),
        );
        let m = only_message(d.path(), "compose.yml");
        assert!(m.contains(says) && m.contains(image), "{m}");
    }
}

#[test]
fn secret_with_a_hard_coded_version_fires() {
    let d = hello();
    edit(
        d.path(),
        "compose.yml",
        "${STACK_NAME}_api_key_${SECRET_API_KEY_VERSION}",
        "${STACK_NAME}_api_key_v1",
    );
    let m = only_message(d.path(), "compose.yml");
    assert!(
        m.contains("named ${STACK_NAME}_api_key_v1")
            && m.contains("${STACK_NAME}_api_key_${SECRET_API_KEY_VERSION}"),
        "{m}"
    );
}

#[test]
fn secret_version_missing_from_env_sample_fires() {
    let d = hello();
    edit(d.path(), ".env.sample", "SECRET_API_KEY_VERSION=v1\n", "");
    let m = only_message(d.path(), ".env.sample");
    assert!(m.contains("SECRET_API_KEY_VERSION is not defined"), "{m}");
}

#[test]
fn env_sample_without_type_or_domain_fires() {
    let d = hello();
    edit(d.path(), ".env.sample", "TYPE=hello\n", "#TYPE=hello\n");
    assert!(only_message(d.path(), ".env.sample").contains("TYPE is not set"));
    let d = hello();
    edit(d.path(), ".env.sample", "DOMAIN=hello.example.com\n", "");
    assert!(only_message(d.path(), ".env.sample").contains("DOMAIN is not set"));
    let d = hello();
    std::fs::remove_file(d.path().join(".env.sample")).unwrap();
    let r = lint_recipe(d.path(), STACK, DOMAIN);
    assert!(
        r.messages
            .iter()
            .any(|m| m.starts_with(".env.sample: missing")),
        "{:#?}",
        r.messages
    );
}

#[test]
fn web_app_on_proxy_without_traefik_labels_fires() {
    let d = hello();
    edit(
        d.path(),
        "compose.yml",
        "        - \"traefik.enable=true\"\n",
        "",
    );
    edit(
        d.path(),
        "compose.yml",
        "        - \"traefik.http.routers.${STACK_NAME}.rule=Host(`${DOMAIN}`)\"\n",
        "",
    );
    let m = only_message(d.path(), "compose.yml");
    assert!(
        m.contains("joins the proxy network")
            && m.contains("traefik.enable=true")
            && m.contains(".rule="),
        "{m}"
    );
}

#[test]
fn app_without_healthcheck_fires() {
    let d = hello();
    edit(
        d.path(),
        "compose.yml",
        "    healthcheck:\n      test: [\"CMD\", \"wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1:8080/\"]\n      interval: 2s\n      timeout: 2s\n      retries: 15\n      start_period: 5s\n",
        "",
    );
    let m = only_message(d.path(), "compose.yml");
    assert!(m.contains("service `app` has no healthcheck"), "{m}");
}

#[test]
fn main_service_not_named_app_fires() {
    let d = hello();
    edit(d.path(), "compose.yml", "  app:\n", "  web:\n");
    let m = only_message(d.path(), "compose.yml");
    assert!(
        m.contains("no service is named `app` (services: web)"),
        "{m}"
    );
}

#[test]
fn compose_keys_docker_refuses_fail_the_lint_naming_them_and_their_lines() {
    let d = hello();
    edit(
        d.path(),
        "compose.yml",
        "    image: ccci/busybox:1\n",
        "    image: ccci/busybox:1\n    no_such_compose_key: 1\n",
    );
    let m = only_message(d.path(), "compose.yml");
    assert!(
        m.contains("services.app.no_such_compose_key (compose.yml:7)") && m.contains("refuses"),
        "{m}"
    );
}

#[test]
fn missing_checkout_could_not_run() {
    let d = tempfile::tempdir().unwrap();
    let r = lint_recipe(&d.path().join("nope"), STACK, DOMAIN);
    assert!(!r.passed);
    assert!(
        r.not_run.as_deref().unwrap().contains("not a directory"),
        "{r:?}"
    );
}
