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
    // Paused: the app is live, and stays so while nobody presses Enter.
    std::thread::sleep(Duration::from_secs(2));
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
