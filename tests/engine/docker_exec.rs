//! exec never lies (guarantee 7): it re-resolves the container and retries through a replacement,
//! fails after its deadline with the command's stderr, and never passes a failure off as empty output.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::engine::{engine, TestApp};
use cc_ci::deploy::Deployer;
use cc_ci::docker::{DockerError, ExecOptions};

fn cmd(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

#[test]
fn exec_returns_the_right_output_while_the_container_is_replaced() {
    let mut t = TestApp::new("exec-replace");
    t.checkout("main");
    t.install(false);
    let e = engine();
    let hostname_before = t.sh("hostname");
    let done = Arc::new(AtomicBool::new(false));
    let restarter = {
        let (e, stack, done) = (e.clone(), t.stack.clone(), done.clone());
        std::thread::spawn(move || {
            e.restart_service(&stack, "app").unwrap();
            let r = e.wait_converged(&stack, Duration::from_secs(120), &mut |_| {});
            done.store(true, Ordering::SeqCst);
            r.unwrap();
        })
    };
    let mut outputs = 0;
    let mut retried = 0;
    let opts = ExecOptions {
        deadline: Duration::from_secs(60),
        expect_exit: Some(0),
    };
    while !done.load(Ordering::SeqCst) {
        let out = e
            .exec(&t.stack, "app", &cmd("cat /var/www/index.html"), &opts)
            .expect("exec through a replacement");
        assert!(
            out.stdout.contains(&format!("hello from {}", t.domain)),
            "wrong output: {out:?}"
        );
        assert_eq!(out.exit_code, 0);
        outputs += 1;
        if out.attempts > 1 {
            retried += 1;
        }
    }
    restarter.join().unwrap();
    eprintln!("exec during replacement: {outputs} runs, {retried} needed more than one attempt");
    let hostname_after = t.sh("hostname");
    assert_ne!(
        hostname_before, hostname_after,
        "the container was replaced"
    );
    assert!(
        outputs > 1,
        "exec ran during the replacement ({outputs} runs, {retried} retried)"
    );
    t.deployer.teardown().unwrap();
}

#[test]
fn a_command_that_keeps_failing_fails_after_its_deadline_with_its_stderr() {
    let mut t = TestApp::new("exec-fail");
    t.checkout("main");
    t.install(false);
    let e = engine();
    let opts = ExecOptions {
        deadline: Duration::from_secs(3),
        expect_exit: Some(0),
    };
    let start = std::time::Instant::now();
    let err = e
        .exec(
            &t.stack,
            "app",
            &cmd("echo broken-thing >&2; exit 3"),
            &opts,
        )
        .unwrap_err();
    match &err {
        DockerError::Exec {
            attempts,
            stderr,
            last_error,
            ..
        } => {
            assert!(*attempts > 1, "retried: {err}");
            assert!(stderr.contains("broken-thing"), "{err}");
            assert!(last_error.contains("exit code 3"), "{err}");
        }
        other => panic!("wrong error: {other}"),
    }
    assert!(
        start.elapsed() >= Duration::from_secs(3),
        "gave up before its 3 s deadline: {:?}",
        start.elapsed()
    );

    // Without an expected exit code, the failure is the result, at once.
    let opts = ExecOptions {
        deadline: Duration::from_secs(3),
        expect_exit: None,
    };
    let out = e
        .exec(
            &t.stack,
            "app",
            &cmd("echo out; echo err >&2; exit 3"),
            &opts,
        )
        .unwrap();
    assert_eq!(
        (
            out.stdout.as_str(),
            out.stderr.as_str(),
            out.exit_code,
            out.attempts
        ),
        ("out\n", "err\n", 3, 1)
    );
    t.deployer.teardown().unwrap();
}

#[test]
fn exec_into_a_service_that_does_not_exist_is_an_error_not_empty_output() {
    let e = engine();
    let stack = format!("nope_{}", crate::support::engine::unique());
    let opts = ExecOptions {
        deadline: Duration::from_secs(1),
        expect_exit: None,
    };
    let err = e
        .exec(&stack, "app", &cmd("true"), &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no running container"), "{err}");
}
