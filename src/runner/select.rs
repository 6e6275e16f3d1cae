//! Which assertions a run selects: libtest's positional filter, `--exact`, `--skip`, `--ignored` /
//! `--include-ignored`, and pytest's `-k`. Selection applies to assertions only; ops are never
//! selected away.

use super::config::Selection;

/// True when the test `id` (ignored when `ignored` is true) is selected to run.
pub fn selects(sel: &Selection, id: &str, ignored: bool) -> bool {
    let a = &sel.libtest;
    let name_matches = |pat: &str| if a.exact { id == pat } else { id.contains(pat) };
    if let Some(f) = &a.filter {
        if !name_matches(f) {
            return false;
        }
    }
    if a.skip.iter().any(|s| name_matches(s)) {
        return false;
    }
    if a.ignored && !ignored {
        return false;
    }
    if let Some(k) = &sel.keyword {
        if !k.matches(id) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(args: &[&str], k: Option<&str>) -> Selection {
        let mut argv = vec!["cc-ci"];
        argv.extend_from_slice(args);
        Selection {
            keyword: k.map(|k| crate::discover::Keyword::parse(k).unwrap()),
            exitfirst: false,
            collect_only: false,
            verbose: false,
            libtest: libtest_mimic::Arguments::from_iter(argv),
        }
    }

    const ID: &str = "upgrade::generic-tests/upgrade.yaml::deployed_head";

    #[test]
    fn positional_filter_is_a_substring_match_and_exact_needs_the_whole_id() {
        assert!(selects(&sel(&["deployed"], None), ID, false));
        assert!(!selects(&sel(&["restore::"], None), ID, false));
        assert!(!selects(
            &sel(&["deployed_head", "--exact"], None),
            ID,
            false
        ));
        assert!(selects(&sel(&[ID, "--exact"], None), ID, false));
    }

    #[test]
    fn skip_removes_matching_tests() {
        assert!(!selects(&sel(&["--skip", "upgrade::"], None), ID, false));
        assert!(selects(&sel(&["--skip", "restore::"], None), ID, false));
    }

    #[test]
    fn ignored_flag_selects_only_ignored_tests() {
        assert!(!selects(&sel(&["--ignored"], None), ID, false));
        assert!(selects(&sel(&["--ignored"], None), ID, true));
        assert!(selects(&sel(&["--include-ignored"], None), ID, false));
    }

    #[test]
    fn keyword_expression_combines_with_the_filter() {
        assert!(selects(&sel(&[], Some("upgrade and not http")), ID, false));
        assert!(!selects(&sel(&[], Some("restore or http")), ID, false));
        assert!(!selects(&sel(&["install"], Some("deployed")), ID, false));
    }
}
