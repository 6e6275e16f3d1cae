//! Selection without a run: name filters, paths and node ids, `--skip`, `--ignored`, `-k`, `-m`.

use std::path::Path;

use super::*;
use crate::discover::{Keyword, MarkExpr};

fn sel(args: &[&str], k: Option<&str>) -> Selection {
    let mut argv = vec!["cc-ci"];
    argv.extend_from_slice(args);
    Selection {
        keyword: k.map(|k| Keyword::parse(k).unwrap()),
        libtest: libtest_mimic::Arguments::from_iter(argv),
        ..Selection::default()
    }
}

const ID: &str = "upgrade::generic-tests/upgrade.yaml::deployed_head";

fn cand(id: &str) -> Candidate<'_> {
    let mut parts = id.splitn(3, "::");
    let tier = parts.next().unwrap().parse().unwrap();
    let file = parts.next().unwrap();
    let name = parts.next().unwrap();
    Candidate {
        id,
        tier,
        file,
        name,
        kind: if file.starts_with("generic-tests") {
            "generic"
        } else {
            "overlay"
        },
        tags: &[],
        ignored: false,
    }
}

fn picks(sel: &Selection, id: &str) -> bool {
    selects(sel, &cand(id))
}

#[test]
fn positional_filter_is_a_substring_match_and_exact_needs_the_whole_id() {
    assert!(picks(&sel(&["deployed"], None), ID));
    assert!(!picks(&sel(&["restore::"], None), ID));
    assert!(!picks(&sel(&["deployed_head", "--exact"], None), ID));
    assert!(picks(&sel(&[ID, "--exact"], None), ID));
}

#[test]
fn skip_removes_matching_tests() {
    assert!(!picks(&sel(&["--skip", "upgrade::"], None), ID));
    assert!(picks(&sel(&["--skip", "restore::"], None), ID));
}

#[test]
fn ignored_flag_selects_only_ignored_tests() {
    let c = cand(ID);
    assert!(!selects(&sel(&["--ignored"], None), &c));
    assert!(selects(
        &sel(&["--ignored"], None),
        &Candidate { ignored: true, ..c }
    ));
    assert!(selects(&sel(&["--include-ignored"], None), &c));
}

#[test]
fn keyword_expression_combines_with_the_filter() {
    assert!(picks(&sel(&[], Some("upgrade and not http")), ID));
    assert!(!picks(&sel(&[], Some("restore or http")), ID));
    assert!(!picks(&sel(&["install"], Some("deployed")), ID));
}

#[test]
fn marks_are_the_tier_the_kind_and_the_tags() {
    let tags = vec!["slow".to_string()];
    let c = Candidate {
        tags: &tags,
        ..cand("backup::overlays/hello/data.yaml::seed_recorded")
    };
    let m = |e: &str| Selection {
        marks: Some(MarkExpr::parse(e).unwrap()),
        ..Selection::default()
    };
    assert!(selects(&m("backup and overlay and slow"), &c));
    assert!(!selects(&m("generic or install"), &c));
    assert!(!selects(&m("not slow"), &c));
    assert!(selects(&m("not generic"), &c));
    let k = |e: &str| Selection {
        keyword: Some(Keyword::parse(e).unwrap()),
        ..Selection::default()
    };
    assert!(
        selects(&k("SLO and seed"), &c),
        "-k sees marks too, as in pytest"
    );
    assert!(!selects(&k("fast"), &c));
}

/// A data dir with generic-tests/ and overlays/hello/, and a recipe checkout with .cc-ci/.
struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "data/generic-tests/install.yaml",
            "data/overlays/hello/data.yaml",
            "data/overlays/hello/test_custom.py",
            "recipe/.cc-ci/extra.yaml",
            "recipe/compose.yml",
            "elsewhere/x.yaml",
        ] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        Tree { dir }
    }

    fn p(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }

    fn resolve(&self, args: &[&str], cwd: &str) -> Result<Vec<Target>, TargetError> {
        let data = self.p("data");
        let recipe = self.p("recipe");
        let cwd = self.p(cwd);
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        resolve(
            &args,
            &Roots {
                data: &data,
                recipe: &[recipe.as_path()],
                cwd: Some(&cwd),
            },
        )
    }
}

fn path(display: &str, dir: bool, name: Option<&str>) -> Target {
    Target::Path {
        display: display.into(),
        dir,
        name: name.map(str::to_string),
    }
}

#[test]
fn plain_words_and_trial_ids_stay_name_filters() {
    let t = Tree::new();
    assert_eq!(
        t.resolve(&["http", ID], "data").unwrap(),
        [Target::Name("http".into()), Target::Name(ID.into())]
    );
}

#[test]
fn a_path_under_the_data_dir_or_the_recipe_selects_in_the_form_ids_show_files() {
    let t = Tree::new();
    assert_eq!(
        t.resolve(&["overlays/", "generic-tests/install.yaml"], "data")
            .unwrap(),
        [
            path("overlays", true, None),
            path("generic-tests/install.yaml", false, None)
        ]
    );
    // Relative to the data dir from anywhere, and named like an existing folder without a slash.
    assert_eq!(
        t.resolve(&["overlays/hello", "generic-tests"], "elsewhere")
            .unwrap(),
        [
            path("overlays/hello", true, None),
            path("generic-tests", true, None)
        ]
    );
    // The recipe's own files show as repo-local/…, whether written from the recipe or as ids show them.
    assert_eq!(
        t.resolve(&[".cc-ci/extra.yaml", "repo-local/.cc-ci"], "recipe")
            .unwrap(),
        [
            path("repo-local/.cc-ci/extra.yaml", false, None),
            path("repo-local/.cc-ci", true, None)
        ]
    );
    assert_eq!(
        t.resolve(&["."], "data").unwrap(),
        [path("", true, None)],
        "the data dir itself selects all of it"
    );
}

#[test]
fn a_node_id_selects_one_test_of_a_file() {
    let t = Tree::new();
    assert_eq!(
        t.resolve(&["overlays/hello/test_custom.py::test_a"], "data")
            .unwrap(),
        [path("overlays/hello/test_custom.py", false, Some("test_a"))]
    );
    let s = Selection {
        targets: vec![path("overlays/hello/test_custom.py", false, Some("test_a"))],
        ..Selection::default()
    };
    let id = |n: &str| format!("custom::overlays/hello/test_custom.py::{n}");
    for (name, want) in [
        ("test_a", true),
        ("test_a[1]", true),
        ("test_ab", false),
        ("test_b", false),
    ] {
        let i = id(name);
        assert_eq!(picks(&s, &i), want, "{i}");
    }
}

#[test]
fn outside_every_path_a_test_is_not_collected_and_a_filter_deselects() {
    let s = Selection {
        targets: vec![path("overlays", true, None)],
        keyword: Some(Keyword::parse("seed").unwrap()),
        ..Selection::default()
    };
    assert_eq!(
        pick(&s, &cand("backup::overlays/hello/data.yaml::seed")),
        Pick::Run
    );
    assert_eq!(
        pick(&s, &cand("backup::overlays/hello/data.yaml::other")),
        Pick::Deselected
    );
    assert_eq!(
        pick(&s, &cand(ID)),
        Pick::NotCollected,
        "outside the path: pytest never collects it"
    );
    let words = Selection {
        targets: vec![Target::Name("seed".into())],
        ..Selection::default()
    };
    assert_eq!(
        pick(&words, &cand(ID)),
        Pick::Deselected,
        "a name filter filters, as libtest's"
    );
}

#[test]
fn a_directory_target_selects_the_files_under_it_and_no_sibling_with_the_same_prefix() {
    let s = Selection {
        targets: vec![path("overlays/hello", true, None)],
        ..Selection::default()
    };
    assert!(picks(&s, "backup::overlays/hello/data.yaml::seed"));
    assert!(!picks(&s, "backup::overlays/hello2/data.yaml::seed"));
    assert!(!picks(&s, ID));
    let all = Selection {
        targets: vec![path("", true, None), Target::Name("nothing".into())],
        ..Selection::default()
    };
    assert!(picks(&all, ID), "targets are a union");
}

#[test]
fn a_path_that_exists_nowhere_or_outside_the_roots_is_an_error_naming_it() {
    let t = Tree::new();
    let e = t.resolve(&["tests/"], "data").unwrap_err();
    assert!(matches!(&e, TargetError::NotFound { arg, .. } if arg == "tests/"));
    assert!(
        e.to_string()
            .starts_with("file or directory not found: tests/"),
        "{e}"
    );
    assert!(t.resolve(&["overlays/nope.yaml::x"], "data").is_err());
    let e = t.resolve(&["x.yaml"], "elsewhere").unwrap_err();
    assert!(matches!(e, TargetError::Outside { .. }), "{e}");
    let abs = t.p("elsewhere").display().to_string();
    assert!(matches!(
        t.resolve(&[abs.as_str()], "data").unwrap_err(),
        TargetError::Outside { .. }
    ));
    assert!(Path::new(&abs).is_dir());
}

#[test]
fn a_recipe_inside_the_data_dir_shows_its_files_as_repo_local() {
    let t = Tree::new();
    let data = t.p("data");
    let recipe = t.p("data/overlays/hello");
    let roots = Roots {
        data: &data,
        recipe: &[recipe.as_path()],
        cwd: None,
    };
    assert_eq!(
        resolve(&["overlays/hello/data.yaml".to_string()], &roots).unwrap(),
        [path("repo-local/data.yaml", false, None)]
    );
}
