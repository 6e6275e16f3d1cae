//! Points of abra's contract the abra deployer keeps (docs/abra.md), each held against the stricter
//! double on the real engine: the local server is registered once and only as `default`; an abra
//! call that moves the run's checkout (to the version pinned in the app's env file) is undone and
//! noted; a server without a backup bot makes backup "not supported", never a pass; the app's env
//! file is read as abra reads it.

use std::path::Path;

use super::abra_deployer::{deployer, request, run, run_of};
use crate::support::abra_app::{leftovers, service_label, StackGuard};
use crate::support::abra_log::read_log;
use cc_ci::deploy::abra::{AbraDeployer, AbraOptions};
use cc_ci::deploy::{DeployError, Deployer};

#[test]
fn install_registers_the_local_server_once_before_app_new() {
    let r = run();
    let _guard = StackGuard(r.app.stack.clone());
    // Stop right before the stack deploy: what matters here happens before it.
    let mut d = deployer(&r, &[("ABRA_DOUBLE_FAIL", "deploy")]);
    let e = d.install(&request(&r.checkout.path, true)).unwrap_err();
    assert!(e.to_string().contains("ABRA_DOUBLE_FAIL=deploy"), "{e}");
    let verbs: Vec<String> = read_log(&r.log)
        .iter()
        .map(|c| c.argv[..2].join(" "))
        .collect();
    assert_eq!(verbs, ["server add", "app new", "app secret", "app deploy"]);
    assert!(r.run_dir.join("abra/servers/default").is_dir());
    let notes = d.take_notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(
        (notes[0].kind, notes[0].outcome.as_str()),
        ("abra_server", "registered")
    );
    assert!(d.take_notes().is_empty(), "notes are handed over once");
    d.teardown().unwrap();
    assert_eq!(leftovers(&r.app.stack), Vec::<String>::new());

    // Another server name cannot be registered locally: refused before abra runs, with a hint.
    let r = run();
    let mut opts = AbraOptions::new(crate::support::abra::double());
    opts.server = "elsewhere".into();
    let mut d = AbraDeployer::new(opts, r.app.clone(), r.checkout.path.clone())
        .with_env("ABRA_DOUBLE_LOG", r.log.display().to_string());
    let e = d
        .install(&request(&r.checkout.path, true))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`elsewhere`") && e.contains("server add --local") && e.contains("hint"),
        "{e}"
    );
    assert!(read_log(&r.log).is_empty(), "abra was never called");
}

#[test]
fn backup_without_a_backup_bot_is_unsupported_and_a_moved_checkout_is_put_back() {
    let r = run();
    let stack = r.app.stack.clone();
    let _guard = StackGuard(stack.clone());
    let head = r.checkout.head_ref.clone().unwrap();
    let prev = r.checkout.previous_release().unwrap().unwrap();
    let mut d = deployer(&r, &[("ABRA_DOUBLE_NO_BACKUPBOT", "1")]);
    r.checkout.checkout_at(&prev.tag).unwrap();
    d.install(&request(&r.checkout.path, false)).unwrap();
    let _ = d.take_notes();
    // The app's env file now pins TYPE=hello:1.1.0+1.36.1; abra checks the recipe out at that
    // version for a backup. The run's checkout is on the head (as after an upgrade op's checkout).
    r.checkout.checkout_at(&head).unwrap();
    let e = d.backup(&r.run_dir.join("artifacts")).unwrap_err();
    let DeployError::Unsupported { op, reason } = &e else {
        panic!("expected unsupported, got {e:?}");
    };
    assert_eq!(*op, "backup");
    assert!(
        reason.contains("backup-bot-two") && reason.contains("no backupbot discovered"),
        "{reason}"
    );
    assert!(
        e.to_string().starts_with("backup is not supported here: "),
        "{e}"
    );
    assert_eq!(
        r.checkout.current_commit().unwrap(),
        head,
        "the checkout abra moved is put back"
    );
    let notes = d.take_notes();
    let moved = notes.iter().find(|n| n.kind == "abra_checkout").unwrap();
    assert_eq!(moved.data["pinned"], head.as_str());
    assert_eq!(moved.data["moved_to"], prev.commit.as_str());
    d.teardown().unwrap();
    assert_eq!(leftovers(&stack), Vec::<String>::new());
}

/// The example recipe with an `.env.sample` that leans on abra's env reading: an expanding
/// `COMPOSE_FILE`, a value built from earlier lines, a later line that wins, a literal `$` in single
/// quotes; and an `abra.sh` export that abra lays over the env file for a deploy.
fn env_reading_recipe(dir: &Path) -> std::path::PathBuf {
    let src = crate::support::recipe_repo::project_root().join("examples/recipes/hello");
    let dest = dir.join("hello-env");
    std::fs::create_dir_all(&dest).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dest.join(e.file_name())).unwrap();
    }
    let mut sample = std::fs::read_to_string(dest.join(".env.sample")).unwrap();
    sample.push_str(concat!(
        "\nWHO=world\n",
        "GREETING=\"hi $WHO\"\n",
        "GREETING=\"${GREETING}!\" # later lines win, and see the earlier ones\n",
        "LITERAL='$WHO'\n",
        "COMPOSE_FILE=\"compose.yml\"\n",
        "COMPOSE_FILE=\"$COMPOSE_FILE:compose.extra.yml\"\n",
    ));
    std::fs::write(dest.join(".env.sample"), sample).unwrap();
    let mut abra_sh = std::fs::read_to_string(dest.join("abra.sh")).unwrap();
    abra_sh.push_str("export WHO=abra.sh\n");
    std::fs::write(dest.join("abra.sh"), abra_sh).unwrap();
    std::fs::write(
        dest.join("compose.extra.yml"),
        concat!(
            "version: \"3.8\"\nservices:\n  app:\n    deploy:\n      labels:\n",
            "        - \"test.greeting=${GREETING}\"\n",
            "        - \"test.literal=${LITERAL}\"\n",
            "        - \"test.who=${WHO}\"\n",
        ),
    )
    .unwrap();
    dest
}

#[test]
fn the_app_env_file_is_read_as_abra_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let r = run_of(&env_reading_recipe(tmp.path()));
    let stack = r.app.stack.clone();
    let _guard = StackGuard(stack.clone());
    let mut d = deployer(&r, &[]);
    let mut req = request(&r.checkout.path, true);
    req.env.clear();
    d.install(&req).unwrap();
    let app = format!("{stack}_app");
    // compose.extra.yml was deployed: COMPOSE_FILE expanded against its earlier value.
    assert_eq!(service_label(&app, "test.greeting"), "hi world!");
    assert_eq!(service_label(&app, "test.literal"), "$WHO");
    // abra.sh's export wins over the env file at deploy time, after the env file was expanded.
    assert_eq!(service_label(&app, "test.who"), "abra.sh");
    d.teardown().unwrap();
    assert_eq!(leftovers(&stack), Vec::<String>::new());
}
