//! Runs the real `cc-ci` binary with a clean, hermetic environment (no real HOME or XDG variables).

use std::path::Path;
use std::process::{Command, Output};

/// A `cc-ci` command whose environment is cleared of everything that could leak the machine's own
/// state into a test: HOME and XDG point into `home`, and every `CCCI_*` variable is removed.
pub fn cc_ci(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cc-ci"));
    for (k, _) in std::env::vars() {
        if k.starts_with("CCCI_") || k.starts_with("XDG_") || k == "CI" {
            cmd.env_remove(&k);
        }
    }
    cmd.env("HOME", home);
    cmd.stdin(std::process::Stdio::null());
    cmd
}

/// Stdout and stderr of an output, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd` to completion like `Command::output`, but kills it (and fails the test) when it has not
/// finished within `limit`: a test never hangs on a process.
pub fn output_within(cmd: &mut Command, limit: std::time::Duration) -> Output {
    use std::io::Read;
    use wait_timeout::ChildExt;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let pipes = (child.stdout.take(), child.stderr.take());
    let read = |p: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = p {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = read(pipes.0.map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = read(pipes.1.map(|p| Box::new(p) as Box<dyn Read + Send>));
    match child.wait_timeout(limit).expect("wait") {
        Some(status) => Output {
            status,
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        },
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{:?} did not finish within {limit:?}; killed: {}",
                cmd,
                String::from_utf8_lossy(&err.join().unwrap_or_default())
            );
        }
    }
}
