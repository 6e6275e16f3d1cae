//! Signed escape grants through the real binary: a valid grant allows once, and forged, expired,
//! out-of-scope, revoked and replayed grants are denied; every check is a ledger event; obligations
//! not covered in time are escalated.

use std::time::Duration;

use crate::support::coord::Tree;

fn mint(t: &Tree, extra: &[&str]) -> String {
    let mut args = vec![
        "grant",
        "mint",
        "--gate",
        "repo-local",
        "--recipe",
        "hello",
        "--reason",
        "pr review done",
    ];
    args.extend_from_slice(extra);
    t.ok(&args).trim().to_string()
}

fn check(t: &Tree, code: i32, extra: &[&str]) -> String {
    let mut args = vec![
        "grant",
        "check",
        "--gate",
        "repo-local",
        "--recipe",
        "hello",
    ];
    args.extend_from_slice(extra);
    String::from_utf8_lossy(&t.expect(code, &args).stdout).into_owned()
}

#[test]
fn a_single_use_grant_allows_once_and_cannot_be_replayed() {
    let t = Tree::provisioned();
    let id = mint(&t, &["--ttl", "1h", "--pr", "7"]);
    assert!(id.starts_with("g-"), "{id}");
    assert!(t.base.join("grants").join(format!("{id}.json")).is_file());
    let ok = check(&t, 0, &["--pr", "7", "--run", "run-1"]);
    assert!(ok.contains(&id), "{ok}");
    let replay = check(&t, 1, &["--pr", "7"]);
    assert!(replay.contains("used up"), "{replay}");

    let checks = t.events_of("grant_check");
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0]["outcome"], "allow");
    assert_eq!(checks[0]["run_id"], "run-1");
    assert_eq!(checks[0]["data"]["grant_id"], id.as_str());
    assert_eq!(checks[1]["outcome"], "deny");
    assert!(checks[1]["data"]["reason"]
        .as_str()
        .unwrap()
        .contains("used up"));
    assert_eq!(t.events_of("grant_mint").len(), 1);
    let list = t.ok(&["grant", "list"]);
    assert!(
        list.contains("used up") && list.contains("uses=1/1"),
        "{list}"
    );
}

#[test]
fn a_dry_run_check_decides_like_a_real_one_and_spends_and_records_nothing() {
    let t = Tree::provisioned();
    let id = mint(&t, &["--ttl", "1h"]);
    for _ in 0..2 {
        let would = check(&t, 0, &["--dry-run"]);
        assert!(
            would.starts_with("would allow (dry run, no use spent)") && would.contains(&id),
            "{would}"
        );
    }
    assert!(
        t.events_of("grant_check").is_empty(),
        "a dry run records nothing"
    );
    assert!(t.ok(&["grant", "list"]).contains("uses=0/1"));
    let real = check(&t, 0, &[]);
    assert!(real.starts_with("allow:"), "{real}");
    let would = check(&t, 1, &["--dry-run"]);
    assert!(
        would.starts_with("would deny (dry run)") && would.contains("used up"),
        "{would}"
    );
    assert_eq!(t.events_of("grant_check").len(), 1);
}

#[test]
fn a_grant_with_several_uses_survives_concurrent_checks_exactly_that_often() {
    let t = Tree::provisioned();
    mint(&t, &["--ttl", "1h", "--uses", "3"]);
    let kids: Vec<_> = (0..8)
        .map(|_| {
            t.cmd(&[
                "grant",
                "check",
                "--gate",
                "repo-local",
                "--recipe",
                "hello",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
        })
        .collect();
    let allowed = kids
        .into_iter()
        .filter_map(|mut k| k.wait().unwrap().code())
        .filter(|&c| c == 0)
        .count();
    assert_eq!(allowed, 3);
    assert_eq!(
        t.events_of("grant_check")
            .iter()
            .filter(|e| e["outcome"] == "allow")
            .count(),
        3
    );
}

#[test]
fn a_forged_grant_is_denied() {
    let t = Tree::provisioned();
    let id = mint(&t, &["--ttl", "1h", "--pr", "1"]);
    let path = t.base.join("grants").join(format!("{id}.json"));
    // Widen the scope and the uses without the key: the tag no longer matches.
    let mut g: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    g["claims"]["scope"]["pr"] = serde_json::json!(2);
    g["claims"]["uses"] = serde_json::json!(1000);
    std::fs::write(&path, serde_json::to_vec(&g).unwrap()).unwrap();
    let denied = check(&t, 1, &["--pr", "2"]);
    assert!(denied.contains("signature does not verify"), "{denied}");

    // A grant signed with another key is just as forged.
    let other = Tree::provisioned();
    let foreign = mint(&other, &["--ttl", "1h"]);
    std::fs::copy(
        other.base.join("grants").join(format!("{foreign}.json")),
        t.base.join("grants").join(format!("{foreign}.json")),
    )
    .unwrap();
    let denied = check(&t, 1, &[]);
    assert!(
        denied.contains(&foreign) && denied.contains("forged"),
        "{denied}"
    );
    assert!(t.ok(&["grant", "list"]).contains("forged"));
    let last = t.events_of("grant_check").pop().unwrap();
    assert_eq!(last["outcome"], "deny");
}

#[test]
fn an_expired_grant_is_denied() {
    let t = Tree::provisioned();
    let id = mint(&t, &["--ttl", "1s", "--uses", "5"]);
    std::thread::sleep(Duration::from_millis(1300));
    let denied = check(&t, 1, &[]);
    assert!(
        denied.contains(&id) && denied.contains("expired"),
        "{denied}"
    );
    assert!(t.ok(&["grant", "list"]).contains("expired"));
}

#[test]
fn out_of_scope_checks_are_denied() {
    let t = Tree::provisioned();
    mint(&t, &["--ttl", "1h", "--pr", "4", "--uses", "5"]);
    let other_pr = check(&t, 1, &["--pr", "5"]);
    assert!(other_pr.contains("scoped to PR 4"), "{other_pr}");
    let no_pr = check(&t, 1, &[]);
    assert!(
        no_pr.contains("scoped to PR 4, not a run without a PR"),
        "{no_pr}"
    );
    let other_recipe = t.expect(
        1,
        &[
            "grant",
            "check",
            "--gate",
            "repo-local",
            "--recipe",
            "other",
            "--pr",
            "4",
        ],
    );
    assert!(String::from_utf8_lossy(&other_recipe.stdout)
        .contains("no grant for gate repo-local and recipe other"));
    let other_gate = t.expect(
        1,
        &[
            "grant",
            "check",
            "--gate",
            "skip-generic",
            "--recipe",
            "hello",
            "--pr",
            "4",
        ],
    );
    assert!(String::from_utf8_lossy(&other_gate.stdout).contains("no grant"));
    check(&t, 0, &["--pr", "4"]);
    assert_eq!(
        t.events_of("grant_check").len(),
        5,
        "every check is recorded"
    );
}

#[test]
fn a_revoked_grant_is_denied_even_if_its_marker_is_deleted() {
    let t = Tree::provisioned();
    let id = mint(&t, &["--ttl", "1h", "--uses", "5"]);
    check(&t, 0, &[]);
    t.ok(&["grant", "revoke", &id, "--reason", "leaked"]);
    let denied = check(&t, 1, &[]);
    assert!(denied.contains("revoked"), "{denied}");
    std::fs::remove_file(t.base.join("grants").join(format!("{id}.revoked"))).unwrap();
    let denied = check(&t, 1, &[]);
    assert!(denied.contains("revoked"), "{denied}");
    let rev = t.events_of("grant_revoke");
    assert_eq!(rev.len(), 1);
    assert_eq!(rev[0]["subject"], id.as_str());
    t.expect(2, &["grant", "revoke", "g-nosuchgrant"]);
}

#[test]
fn a_check_with_an_insecure_key_denies_and_records_why() {
    use std::os::unix::fs::PermissionsExt;
    let t = Tree::provisioned();
    mint(&t, &["--ttl", "1h"]);
    std::fs::set_permissions(
        t.base.join("grant-key"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let denied = check(&t, 1, &[]);
    assert!(
        denied.contains("grant key unusable") && denied.contains("0640"),
        "{denied}"
    );
    assert_eq!(t.events_of("grant_check")[0]["outcome"], "deny");
}

#[test]
fn a_check_without_a_provisioned_tree_exits_2() {
    let t = Tree::new();
    let out = t.expect(
        2,
        &[
            "grant",
            "check",
            "--gate",
            "repo-local",
            "--recipe",
            "hello",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("coord provision"));
}

#[test]
fn obligations_not_covered_in_time_are_escalated() {
    let t = Tree::provisioned();
    t.ok(&[
        "coord",
        "oblige",
        "--gate",
        "repo-local",
        "--recipe",
        "hello",
        "--pr",
        "9",
        "--reason",
        "CCCI_TRUST_GATE_OFF=1",
    ]);
    t.ok(&[
        "coord",
        "oblige",
        "--gate",
        "repo-local",
        "--recipe",
        "covered",
        "--reason",
        "CCCI_TRUST_GATE_OFF=1",
    ]);
    t.ok(&[
        "grant",
        "mint",
        "--gate",
        "repo-local",
        "--recipe",
        "covered",
        "--ttl",
        "1h",
        "--reason",
        "after the fact",
    ]);
    // Within a long grace nothing is overdue yet.
    let pending = t.ok(&["coord", "obligations", "--grace", "24h"]);
    assert!(
        pending.contains("pending") && pending.contains("covered by g-"),
        "{pending}"
    );
    assert!(t.events_of("escalation").is_empty());

    std::thread::sleep(Duration::from_millis(1100));
    let out = t.expect(1, &["coord", "obligations", "--grace", "1s"]);
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("OVERDUE") && s.contains("1 overdue"), "{s}");
    let esc = t.events_of("escalation");
    assert_eq!(esc.len(), 1);
    assert_eq!(esc[0]["data"]["recipe"], "hello");
    assert_eq!(esc[0]["data"]["pr"], 9);
}

fn oblige(t: &Tree, recipe: &str, pr: &str) {
    t.ok(&[
        "coord",
        "oblige",
        "--gate",
        "repo-local",
        "--recipe",
        recipe,
        "--pr",
        pr,
        "--reason",
        "CCCI_TRUST_GATE_OFF=1",
    ]);
}

fn obligations_json(t: &Tree, code: i32) -> Vec<serde_json::Value> {
    let out = t.expect(
        code,
        &["coord", "obligations", "--grace", "3s", "--format", "json"],
    );
    serde_json::from_slice(&out.stdout).expect("--format json prints a JSON array")
}

#[test]
fn an_overdue_obligation_escalates_once_per_grace_period_until_a_settlement_covers_exactly_it() {
    let t = Tree::provisioned();
    oblige(&t, "hello", "9");
    oblige(&t, "other", "1");
    std::thread::sleep(Duration::from_millis(3200));
    let list = obligations_json(&t, 1);
    assert_eq!(list.len(), 2);
    assert!(list
        .iter()
        .all(|o| o["standing"] == "overdue" && o["escalated_now"] == true));
    let id = list[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        (list[0]["recipe"].as_str(), list[0]["pr"].as_u64()),
        (Some("hello"), Some(9))
    );
    // Asked again within the grace period: still overdue (exit 1), not escalated again.
    let again = t.expect(1, &["coord", "obligations", "--grace", "3s"]);
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(
        text.contains("escalated earlier") && text.contains(&id),
        "{text}"
    );
    assert_eq!(t.events_of("escalation").len(), 2);

    let g = t.ok(&[
        "grant",
        "mint",
        "--settles",
        &id,
        "--reason",
        "switch thrown for the outage",
    ]);
    let g = g.trim();
    assert!(g.starts_with("g-"), "{g}");
    let list = t.ok(&["grant", "list"]);
    assert!(
        list.contains(g)
            && list.contains("settlement")
            && list.contains(&format!("settles obligation {id}")),
        "{list}"
    );
    // A settlement is paperwork: no check and no run can use it.
    let denied = check(&t, 1, &["--pr", "9"]);
    assert!(denied.contains("a settlement of obligation"), "{denied}");
    let denied = check(&t, 1, &["--pr", "9", "--dry-run"]);
    assert!(denied.contains("usable by no run or check"), "{denied}");

    std::thread::sleep(Duration::from_millis(3200));
    let list = obligations_json(&t, 1);
    assert_eq!(list[0]["standing"], "settled");
    assert_eq!(list[0]["grant_id"], g);
    assert_eq!(
        list[1]["standing"], "overdue",
        "the settlement covers exactly its obligation"
    );
    let esc = t.events_of("escalation");
    assert_eq!(
        esc.len(),
        3,
        "the other one escalates again after a grace period"
    );
    assert_eq!(esc[2]["data"]["recipe"], "other");

    let other = list[1]["id"].as_str().unwrap().to_string();
    t.ok(&[
        "grant",
        "mint",
        "--settles",
        &other,
        "--reason",
        "same outage",
    ]);
    let settled = t.ok(&["coord", "obligations", "--grace", "3s"]);
    assert!(settled.contains("0 overdue"), "{settled}");
    let twice = t.expect(4, &["grant", "mint", "--settles", &id, "--reason", "again"]);
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already settled"));
    let unknown = t.expect(
        4,
        &["grant", "mint", "--settles", "nosuch", "--reason", "r"],
    );
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("coord obligations --format json"));
    let both = t.expect(
        4,
        &[
            "grant",
            "mint",
            "--settles",
            &id,
            "--gate",
            "repo-local",
            "--reason",
            "r",
        ],
    );
    assert!(String::from_utf8_lossy(&both.stderr).contains("cannot be used with"));
}
