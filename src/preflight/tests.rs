//! Identity and inspection of recipes on disk.

use std::collections::BTreeMap;

use super::*;

fn recipe(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(d.path().join(name), text).unwrap();
    }
    d
}

#[test]
fn the_name_comes_from_type_not_from_the_directory() {
    let d = recipe(&[(
        ".env.sample",
        "# a recipe\nTYPE=bonfire\nDOMAIN=x.example.com\n",
    )]);
    let id = identity(d.path(), "bonfire-coop-cloud", None).unwrap();
    assert_eq!(id.name, "bonfire");
    assert_eq!(
        id.from,
        NameFrom::EnvSample {
            key: "TYPE".into(),
            line: 2
        }
    );
    assert!(id.describe().contains(".env.sample:2"), "{}", id.describe());
}

#[test]
fn the_older_recipe_key_and_the_source_name_are_fallbacks() {
    let d = recipe(&[(".env.sample", "RECIPE=old\n")]);
    assert_eq!(identity(d.path(), "dir", None).unwrap().name, "old");
    let e = recipe(&[(".env.sample", "DOMAIN=x\n")]);
    let id = identity(e.path(), "dir-name", None).unwrap();
    assert_eq!(
        (id.name.as_str(), &id.from),
        ("dir-name", &NameFrom::Source)
    );
}

#[test]
fn an_explicit_name_wins_and_every_name_is_validated() {
    let d = recipe(&[(".env.sample", "TYPE=bonfire\n")]);
    assert_eq!(
        identity(d.path(), "x", Some("other")).unwrap().name,
        "other"
    );
    assert!(identity(d.path(), "x", Some("Other")).is_err());
    let bad = recipe(&[(".env.sample", "\nTYPE=Bonfire\n")]);
    let e = identity(bad.path(), "x", None).unwrap_err().to_string();
    assert!(e.contains(".env.sample") && e.contains("line 2"), "{e}");
}

#[test]
fn a_directory_without_its_compose_file_is_not_a_recipe() {
    let d = recipe(&[("README.md", "# not a recipe\n")]);
    let e = inspect(d.path(), "s", "s.d", &BTreeMap::new()).unwrap_err();
    assert!(matches!(e, PreflightError::NotARecipe { .. }), "{e}");
    assert!(e.to_string().contains("compose.yml"), "{e}");
}

#[test]
fn backup_capability_and_warnings_come_from_the_compose_files() {
    let d = recipe(&[(
        "compose.yml",
        "services:\n  app:\n    image: a:1\n    tmpfs: [/tmp]\n  db:\n    image: d:1\n    deploy:\n      labels: [backupbot.backup=true]\n",
    )]);
    let f = inspect(d.path(), "s", "s.d", &BTreeMap::new()).unwrap();
    assert_eq!(f.backup_services, ["db"]);
    assert_eq!(f.files, ["compose.yml"]);
    assert_eq!(f.warnings.len(), 1);
    assert!(
        f.warnings[0].starts_with("services.app.tmpfs"),
        "{:?}",
        f.warnings
    );
    let none = recipe(&[("compose.yml", "services:\n  app:\n    image: a:1\n")]);
    assert!(!inspect(none.path(), "s", "s.d", &BTreeMap::new())
        .unwrap()
        .backup_capable());
}

#[test]
fn a_compose_error_names_its_file_and_line() {
    let d = recipe(&[(
        "compose.yml",
        "services:\n  app:\n    image: a:1\n    ports:\n      - \"not-a-port\"\n",
    )]);
    let e = inspect(d.path(), "s", "s.d", &BTreeMap::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("compose.yml:5"), "{e}");
}
