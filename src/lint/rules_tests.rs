//! Unit tests of the small readers behind the checks; the checks themselves are tested on real recipe
//! folders in `tests/cli/lint_builtin.rs`.

use super::*;

#[test]
fn image_tags_ignore_registry_ports_and_accept_digests() {
    let tag = |i| match image_tag(i) {
        ImageRef::Tag(t) => Some(t.to_string()),
        ImageRef::Digest => Some("@".to_string()),
        ImageRef::Untagged => None,
    };
    assert_eq!(tag("nginx:1.25"), Some("1.25".into()));
    assert_eq!(tag("registry.local:5000/team/app"), None);
    assert_eq!(tag("registry.local:5000/team/app:2"), Some("2".into()));
    assert_eq!(tag("nginx"), None);
    assert_eq!(tag("nginx:"), None);
    assert_eq!(tag("nginx@sha256:abcd"), Some("@".into()));
}

#[test]
fn secret_version_variables_map_to_secret_keys() {
    assert_eq!(
        secret_of_var("SECRET_DB_PASSWORD_VERSION"),
        Some("db_password".into())
    );
    assert_eq!(secret_of_var("SECRET__VERSION"), None);
    assert_eq!(secret_of_var("APP_CONF_VERSION"), None);
}
