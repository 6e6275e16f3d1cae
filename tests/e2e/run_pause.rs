//! `--pause-after TIER` on a terminal: the run stops after that tier's assertions with the app live,
//! waits for Enter, then goes on and tears down as always. The terminal is a real pty (`script`).

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::run::RunFixture;

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The ready-to-paste `cc-ci exec …` line of the pause prompt, with `cc-ci` as the binary under test.
fn exec_hint(shown: &str) -> String {
    let line = shown
        .lines()
        .find(|l| l.contains("cc-ci exec"))
        .unwrap_or_else(|| panic!("no cc-ci exec line in the pause prompt: {shown}"));
    let cmd = line.trim().trim_start_matches("cc-ci ");
    assert!(
        shown.contains("services: app") && cmd.contains("--service app"),
        "{shown}"
    );
    cmd.to_string()
}

fn cc_ci_sh(f: &RunFixture, args: &str) -> std::process::Output {
    let line = format!("{} {args}", shell_quote(env!("CARGO_BIN_EXE_cc-ci")));
    Command::new("timeout")
        .args(["120", "sh", "-c", &line])
        .env("HOME", f.dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("sh runs cc-ci exec")
}

fn poke_while_paused(f: &RunFixture, hint: &str) {
    let pasted = cc_ci_sh(f, hint);
    let text = crate::support::cli::text(&pasted);
    assert_eq!(pasted.status.code(), Some(0), "{text}");
    assert!(
        String::from_utf8_lossy(&pasted.stdout).contains("bin"),
        "ls / ran: {text}"
    );
    let (run, coord) = (
        hint.split("--run ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap(),
        shell_quote(&f.coord.display().to_string()),
    );
    let unknown = cc_ci_sh(
        f,
        &format!("exec --coord-dir {coord} --run {run} --service nosuch -- true"),
    );
    let text = crate::support::cli::text(&unknown);
    assert_eq!(unknown.status.code(), Some(4), "{text}");
    assert!(
        text.contains("no service `nosuch` (its services: app)"),
        "{text}"
    );
    // A command that ran and failed is not run again: it leaves one line per attempt.
    let failing = cc_ci_sh(
        f,
        &format!("exec --coord-dir {coord} --run {run} --service app --deadline 60s -- sh -c 'echo x >> /var/www/.attempts; exit 3'"),
    );
    let text = crate::support::cli::text(&failing);
    assert_eq!(failing.status.code(), Some(1), "{text}");
    assert!(
        text.contains("exited 3") && text.contains("not retried"),
        "{text}"
    );
    let count = cc_ci_sh(
        f,
        &format!("exec --coord-dir {coord} --run {run} --service app -- cat /var/www/.attempts"),
    );
    assert_eq!(
        String::from_utf8_lossy(&count.stdout),
        "x\n",
        "{}",
        crate::support::cli::text(&count)
    );
}

#[test]
fn pause_after_waits_for_enter_with_the_app_live_then_tears_down() {
    let f = RunFixture::new("pause-tty");
    let inner = f.command(&["--stages", "install,upgrade", "--pause-after", "install"]);
    let mut line = shell_quote(&inner.get_program().to_string_lossy());
    for a in inner.get_args() {
        line.push(' ');
        line.push_str(&shell_quote(&a.to_string_lossy()));
    }
    let mut cmd = Command::new("script");
    cmd.args(["-qfec", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let mut child = cmd
        .spawn()
        .expect("script (util-linux) runs cc-ci on a pty");
    let seen = Arc::new(Mutex::new(String::new()));
    let mut out = child.stdout.take().unwrap();
    let reader = {
        let seen = Arc::clone(&seen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let start = Instant::now();
    while !seen.lock().unwrap().contains("paused after install") {
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "no pause prompt: {}",
            seen.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Paused: the app is live, and stays so while nobody presses Enter. The prompt says how to look
    // inside: the printed command works as pasted, an unknown service and a failing command fail at once.
    std::thread::sleep(Duration::from_secs(2));
    let hint = exec_hint(&seen.lock().unwrap());
    poke_while_paused(&f, &hint);
    assert!(
        !crate::support::run::leftovers(&f.stack()).is_empty(),
        "the app must be live while paused"
    );
    assert!(
        !seen.lock().unwrap().contains("── upgrade"),
        "the run went on without Enter"
    );
    child.stdin.as_mut().unwrap().write_all(b"\n").unwrap();
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let shown = seen.lock().unwrap().clone();
    assert_eq!(status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("── upgrade"),
        "the run went on after Enter: {shown}"
    );
    f.assert_nothing_left();
}
