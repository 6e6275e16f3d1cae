//! The abra deployer against the abra double on the real engine: exact command lines in order (the
//! local server registered first, `--no-domain-checks` on every deploy, backup and restore on a
//! terminal, `--machine` secrets), a per-run ABRA_DIR, the upgrade proof label, redacted failures, and
//! a teardown that leaves nothing. The double refuses each of those when it is missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::abra_app::{exec_in, leftovers, service_label, unique_domain, StackGuard};
use crate::support::abra_log::read_log;
use cc_ci::deploy::abra::{find_abra, AbraDeployer, AbraOptions};
use cc_ci::deploy::{stack_name, AppRef, DeployError, DeployRequest, Deployer};
use cc_ci::recipe::{prepare_checkout, Checkout, CheckoutRequest, RecipeSource};
use cc_ci::redact::Redactor;

pub(crate) struct Run {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) run_dir: PathBuf,
    pub(crate) log: PathBuf,
    pub(crate) checkout: Checkout,
    pub(crate) app: AppRef,
}

/// A run of the example recipe at PR 1 (head 1.2.0) with a private checkout and run dir.
pub(crate) fn run() -> Run {
    run_of(&crate::support::recipe_repo::project_root().join("examples/recipes/hello"))
}

/// Like [`run`] for the recipe folder `src` (a variant of the example, named `hello`).
pub(crate) fn run_of(src: &Path) -> Run {
    // The example recipe joins the external `proxy` network; it may exist already (never removed).
    let _ = std::process::Command::new("docker")
        .args([
            "network",
            "create",
            "-d",
            "overlay",
            "--attachable",
            "proxy",
        ])
        .output();
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("forge/hello");
    let built = build_from(src, &repo);
    let git = |args: &[&str]| {
        assert!(std::process::Command::new("git")
            .args(args)
            .current_dir(&repo)
            .status()
            .unwrap()
            .success())
    };
    git(&["update-ref", "refs/pull/1/head", &built.head]);
    git(&["reset", "-q", "--hard", "1.1.0+1.36.1"]);
    let run_dir = dir.path().join("run");
    let source = RecipeSource::Path(repo);
    let checkout = prepare_checkout(&CheckoutRequest {
        source: &source,
        base_url: "unused",
        cache_dir: &dir.path().join("cache"),
        dest: &run_dir.join("recipe"),
        pr: Some(1),
        git_ref: Some(&built.head),
    })
    .unwrap();
    let domain = unique_domain("hello");
    let app = AppRef {
        run_id: uuid::Uuid::new_v4().to_string(),
        recipe: "hello".into(),
        stack: stack_name(&domain),
        domain,
        run_dir: run_dir.clone(),
        lock_path: run_dir.join("run.lock"),
        redactor: Redactor::new(),
    };
    Run {
        log: dir.path().join("abra-calls.jsonl"),
        run_dir,
        checkout,
        app,
        _dir: dir,
    }
}

fn build_from(src: &Path, dest: &Path) -> crate::support::recipe_repo::RecipeRepo {
    let root = crate::support::recipe_repo::project_root();
    let out = std::process::Command::new("bash")
        .arg(root.join("examples/make-recipe-repo.sh"))
        .arg(src)
        .arg(dest)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    crate::support::recipe_repo::RecipeRepo {
        path: dest.to_path_buf(),
        head: String::from_utf8_lossy(&out.stdout).trim().to_string(),
    }
}

pub(crate) fn deployer(r: &Run, extra: &[(&str, &str)]) -> AbraDeployer {
    let abra = find_abra(Some(&crate::support::abra::double())).unwrap();
    let mut opts = AbraOptions::new(abra);
    opts.timeout = Duration::from_secs(300);
    let mut d = AbraDeployer::new(opts, r.app.clone(), r.checkout.path.clone())
        .with_env("ABRA_DOUBLE_LOG", r.log.display().to_string());
    for (k, v) in extra {
        d = d.with_env(*k, *v);
    }
    d
}

pub(crate) fn request(checkout: &Path, chaos: bool) -> DeployRequest {
    DeployRequest {
        checkout: checkout.to_path_buf(),
        chaos,
        env: BTreeMap::from([("GREETING".to_string(), "ahoy".to_string())]),
        timeout: None,
    }
}

#[test]
fn lifecycle_runs_exact_abra_commands_in_order_with_a_private_abra_dir() {
    let r = run();
    let (domain, stack) = (r.app.domain.clone(), r.app.stack.clone());
    let _guard = StackGuard(stack.clone());
    let app_service = format!("{stack}_app");
    let head = r.checkout.head_ref.clone().unwrap();
    let prev = r.checkout.previous_release().unwrap().unwrap();
    assert_eq!(prev.tag, "1.1.0+1.36.1");
    let mut d = deployer(&r, &[]);

    r.checkout.checkout_at(&prev.tag).unwrap();
    d.install(&request(&r.checkout.path, false)).unwrap();
    let notes = d.take_notes();
    assert!(
        notes.iter().any(|n| n.kind == "abra_server"
            && n.subject == "default"
            && n.outcome == "registered"),
        "the server registration is noted for the ledger: {notes:?}"
    );
    assert_eq!(
        service_label(&app_service, &format!("coop-cloud.{stack}.version")),
        "1.1.0+1.36.1"
    );
    assert_eq!(
        exec_in(&app_service, "cat /var/www/index.html"),
        format!("<h1>ahoy from {domain}</h1>")
    );
    // Item 4: the generated secret came machine-readable and was masked before anything was kept.
    let secret = exec_in(&app_service, "cat /run/secrets/api_key");
    assert!(secret.len() >= 8, "{secret:?}");
    assert_eq!(r.app.redactor.redact(&secret), "***");

    r.checkout.checkout_at(&head).unwrap();
    d.upgrade(&request(&r.checkout.path, true)).unwrap();
    assert_eq!(
        service_label(&app_service, &format!("coop-cloud.{stack}.chaos-version")),
        head[..8],
        "the running code is the PR head"
    );
    assert_eq!(
        service_label(&app_service, &format!("coop-cloud.{stack}.version")),
        "1.2.0+1.36.1"
    );

    let artifacts = r.run_dir.join("artifacts");
    let art = d.backup(&artifacts).unwrap();
    assert!(art.path.starts_with(&artifacts), "{art:?}");
    assert_eq!(art.sha256.len(), 64);
    assert!(
        art.entries.contains(&"content/index.html".to_string()),
        "{art:?}"
    );

    exec_in(&app_service, "echo lost > /var/www/index.html");
    d.restore(&art).unwrap();
    assert_eq!(
        exec_in(&app_service, "cat /var/www/index.html"),
        format!("<h1>ahoy from {domain}</h1>")
    );

    d.teardown().unwrap();
    assert_eq!(
        leftovers(&stack),
        Vec::<String>::new(),
        "teardown leaves nothing"
    );
    d.teardown().unwrap();
    assert_eq!(d.fresh_deploys(), 1);
    assert_eq!(
        r.checkout.current_commit().unwrap(),
        head,
        "abra never moved the checkout for good"
    );

    let calls = read_log(&r.log);
    let lines: Vec<String> = calls.iter().map(|c| c.line()).collect();
    assert_eq!(
        lines,
        [
            // Item 1: a fresh ABRA_DIR has no servers; `app new --server default` needs one.
            "abra server add --local --no-input".to_string(),
            format!(
                "abra app new hello 1.1.0+1.36.1 --server default --domain {domain} --no-input --offline"
            ),
            // Item 4: machine-readable values, registered with the redactor before output is kept.
            format!("abra app secret generate {domain} --all --machine --no-input"),
            // Item 2: CI domains never resolve; every deploy skips abra's DNS check.
            format!("abra app deploy {domain} 1.1.0+1.36.1 --no-domain-checks --no-input --offline"),
            format!(
                "abra app deploy {domain} --chaos --force --no-domain-checks --no-input --offline"
            ),
            format!("abra app backup create {domain} --no-input"),
            format!("abra app restore {domain} --no-input"),
            format!("abra app undeploy {domain} --no-input"),
            format!("abra app remove {domain} --force --no-input"),
        ]
    );
    // Item 3: backup and restore (and only they) ran on a terminal.
    let on_terminal: Vec<bool> = calls.iter().map(|c| c.tty.stdin && c.tty.stdout).collect();
    assert_eq!(
        on_terminal,
        [false, false, false, false, false, true, true, false, false]
    );
    let abra_dir = r.run_dir.join("abra");
    for c in &calls {
        assert_eq!(
            c.env.get("ABRA_DIR").map(PathBuf::from),
            Some(abra_dir.clone()),
            "{c:?}"
        );
    }
    let link = std::fs::read_link(abra_dir.join("recipes/hello")).unwrap();
    assert_eq!(link, std::fs::canonicalize(&r.checkout.path).unwrap());

    // The generated secret was registered and never written anywhere in the clear.
    let transcript = std::fs::read_to_string(r.run_dir.join("abra-transcript.log")).unwrap();
    assert!(
        transcript.contains(r#"[{"name": "api_key", "value": "***"}]"#),
        "{transcript}"
    );
    assert!(!r.app.redactor.leaks(&transcript));
    assert!(!transcript.contains(&secret));
    assert!(!r
        .app
        .redactor
        .leaks(&std::fs::read_to_string(&r.log).unwrap()));
}

#[test]
fn a_failing_abra_call_shows_the_redacted_command_code_and_tail() {
    let r = run();
    let (domain, stack) = (r.app.domain.clone(), r.app.stack.clone());
    let _guard = StackGuard(stack.clone());
    let mut d = deployer(&r, &[("ABRA_DOUBLE_FAIL_AFTER", "generate")]);
    let e = d.install(&request(&r.checkout.path, true)).unwrap_err();
    let DeployError::Command {
        command,
        code,
        tail,
    } = &e
    else {
        panic!("expected a command error, got {e:?}");
    };
    assert_eq!(
        command,
        &format!("abra-double app secret generate {domain} --all --machine --no-input")
    );
    assert_eq!(*code, Some(1));
    assert!(tail.contains("failing on purpose"), "{tail}");
    assert!(
        tail.contains(r#"[{"name": "api_key", "value": "***"}]"#),
        "the secret value is masked: {tail}"
    );
    assert!(!r.app.redactor.is_empty());
    let msg = e.to_string();
    assert!(!r.app.redactor.leaks(&msg), "{msg}");
    assert!(msg.contains("exited with Some(1)"), "{msg}");
    assert_eq!(d.fresh_deploys(), 0, "nothing was deployed");

    d.teardown().unwrap();
    assert_eq!(
        leftovers(&stack),
        Vec::<String>::new(),
        "the generated secret is removed"
    );
    let last = read_log(&r.log).last().unwrap().line();
    assert_eq!(last, format!("abra app remove {domain} --force --no-input"));
}

#[test]
fn a_stale_redeploy_does_not_carry_the_head_chaos_version() {
    let r = run();
    let stack = r.app.stack.clone();
    let _guard = StackGuard(stack.clone());
    let app_service = format!("{stack}_app");
    let head = r.checkout.head_ref.clone().unwrap();
    let prev = r.checkout.previous_release().unwrap().unwrap();
    let mut d = deployer(&r, &[("ABRA_DOUBLE_IGNORE_CHAOS", "1")]);
    r.checkout.checkout_at(&prev.tag).unwrap();
    d.install(&request(&r.checkout.path, false)).unwrap();
    r.checkout.checkout_at(&head).unwrap();
    d.upgrade(&request(&r.checkout.path, true)).unwrap();
    let label = service_label(&app_service, &format!("coop-cloud.{stack}.chaos-version"));
    assert_ne!(
        label,
        head[..8],
        "the double redeployed the previous version"
    );
    assert_eq!(
        service_label(&app_service, &format!("coop-cloud.{stack}.version")),
        "1.1.0+1.36.1"
    );
    d.teardown().unwrap();
    assert_eq!(leftovers(&stack), Vec::<String>::new());
}

#[test]
fn install_without_chaos_needs_a_release_at_head() {
    let r = run();
    let mut d = deployer(&r, &[]);
    let e = d
        .install(&request(&r.checkout.path, false))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("release tag at HEAD") && e.contains("hint"),
        "{e}"
    );
    assert!(read_log(&r.log).is_empty(), "abra was never called");
    d.teardown().unwrap();
}

#[test]
fn find_abra_refuses_a_missing_binary_with_a_hint() {
    let e = find_abra(Some(Path::new("/nonexistent/abra")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/abra") && e.contains("hint"), "{e}");
    let found = find_abra(Some(&crate::support::abra::double())).unwrap();
    assert!(found.is_absolute());
}

#[test]
fn a_chaos_install_deploys_the_checked_out_commit_even_if_abra_moves_the_recipe() {
    use std::os::unix::fs::PermissionsExt;
    let r = run();
    let (domain, stack) = (r.app.domain.clone(), r.app.stack.clone());
    let _guard = StackGuard(stack.clone());
    let head = r.checkout.head_ref.clone().unwrap();
    // An abra that, like a real one preparing an app, moves the recipe checkout to another commit.
    let bin = r.run_dir.parent().unwrap().join("moving-abra");
    std::fs::write(
        &bin,
        format!(
            "#!/bin/sh\nif [ \"$1 $2\" = \"app new\" ]; then git -C \"$ABRA_DIR/recipes/hello\" \\\n  checkout -q 1.0.0+1.36.1 || exit 9; fi\nexec python3 {} \"$@\"\n",
            crate::support::abra::double().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut opts = AbraOptions::new(bin);
    opts.timeout = Duration::from_secs(300);
    let mut d = AbraDeployer::new(opts, r.app.clone(), r.checkout.path.clone())
        .with_env("ABRA_DOUBLE_LOG", r.log.display().to_string());
    d.install(&request(&r.checkout.path, true)).unwrap();
    let app_service = format!("{stack}_app");
    assert_eq!(
        service_label(&app_service, &format!("coop-cloud.{stack}.chaos-version")),
        head[..8]
    );
    assert_eq!(r.checkout.current_commit().unwrap(), head);
    let notes = d.take_notes();
    let moved = notes
        .iter()
        .find(|n| n.kind == "abra_checkout")
        .unwrap_or_else(|| panic!("the put-back checkout is noted: {notes:?}"));
    assert_eq!(moved.outcome, "restored");
    assert_eq!(moved.data["pinned"], head.as_str());
    d.teardown().unwrap();
    assert_eq!(leftovers(&stack), Vec::<String>::new());
    let lines: Vec<String> = read_log(&r.log).iter().map(|c| c.line()).collect();
    assert_eq!(
        lines[..4],
        [
            "abra server add --local --no-input".to_string(),
            format!(
                "abra app new hello --chaos --server default --domain {domain} --no-input --offline"
            ),
            format!("abra app secret generate {domain} --all --machine --no-input"),
            format!("abra app deploy {domain} --chaos --no-domain-checks --no-input --offline"),
        ]
    );
}
