//! The host's engine lock, held exclusively while a test stops the engine (everyone else holds it
//! shared while they use Docker), and the restart itself, by pid, through scripts/engine-restart.sh.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// How long a test waits for the other users of the engine to let go.
const LOCK_WAIT: Duration = Duration::from_secs(15 * 60);

/// The exclusive engine lock, released on drop (after making sure the engine runs).
pub struct EngineLock {
    _file: File,
}

fn lock_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CCCI_ENGINE_LOCK") {
        return PathBuf::from(p);
    }
    let shared = PathBuf::from("/work/.engine.lock");
    if shared.parent().is_some_and(|d| d.is_dir()) {
        return shared;
    }
    std::env::temp_dir().join("cc-ci-engine.lock")
}

impl EngineLock {
    /// Waits (bounded) until nobody else uses the engine, then holds it.
    pub fn exclusive() -> EngineLock {
        let path = lock_path();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // A blocking flock is woken the moment the last shared holder lets go (polling would miss
        // short gaps between other people's runs); a helper thread waits so the wait is bounded.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let r = file.lock().map(|()| file);
            let _ = tx.send(r);
        });
        let file = match rx.recv_timeout(LOCK_WAIT) {
            Ok(Ok(file)) => file,
            Ok(Err(e)) => panic!("engine lock {}: {e}", path.display()),
            Err(_) => panic!(
                "engine lock {}: others still use the engine after {LOCK_WAIT:?} (never run these \
                 tests under a shared hold of it)",
                path.display()
            ),
        };
        EngineLock { _file: file }
    }
}

impl Drop for EngineLock {
    fn drop(&mut self) {
        // Whatever the test did, the engine runs (with its swarm) before others get it back.
        let _ = restart_script(&["--ensure-up"]);
    }
}

/// Runs scripts/engine-restart.sh with `args` (deadline 5 minutes), returning whether it succeeded.
pub fn restart_script(args: &[&str]) -> bool {
    let script = crate::support::recipe_repo::project_root().join("scripts/engine-restart.sh");
    let out = Command::new("timeout")
        .args(["-k", "10", "300", "bash"])
        .arg(&script)
        .args(args)
        .output()
        .expect("run engine-restart.sh");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out.status.success()
}
