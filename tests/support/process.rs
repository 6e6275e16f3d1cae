//! Processes with a deadline: a test never hangs on a child.

use std::process::{Command, Output};

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
