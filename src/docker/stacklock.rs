//! One stack, one live run. Before anything of a run touches the engine, it takes the stack's lock
//! (`<coord>/stacks/<stack>/lock`, the same exclusive `flock` note as a run lock) and then asks the
//! engine whether a service of the stack carries another run's id whose run lock is still held (a run
//! of another coord tree), or carries no cc-ci run id at all (deployed by hand or by abra outside any
//! live run). Either way the second run is refused, naming the live run and its pid. It never removes
//! or changes anything on the engine.

use std::path::{Path, PathBuf};

use super::runlock::{LockInfo, RunLock};
use super::{DockerError, Engine, LABEL_NAMESPACE, LABEL_RUN_ID, LABEL_RUN_LOCK};

/// Why a run may not use a stack.
#[derive(Debug, thiserror::Error)]
pub enum StackBusy {
    #[error(
        "stack {stack} belongs to live run {run_id} (pid {pid}, since {started}): refusing to deploy \
         over it; nothing was touched (hint: wait for that run, or pass another --domain)"
    )]
    Live {
        stack: String,
        run_id: String,
        pid: u32,
        started: String,
    },
    #[error(
        "stack {stack} already has service {service} that no live cc-ci run made{owner}: refusing to \
         deploy over it; nothing was touched (hint: remove it, or run `cc-ci janitor` when it is a dead \
         run's, or pass another --domain)"
    )]
    Foreign {
        stack: String,
        service: String,
        /// ` (left by run X)` when a run id label names a dead run.
        owner: String,
    },
    #[error("stack lock {}: {message}", path.display())]
    Lock { path: PathBuf, message: String },
    #[error("checking who uses stack {stack}: {source}")]
    Engine {
        stack: String,
        #[source]
        source: Box<DockerError>,
    },
}

/// The directory of `stack`'s lock under the coord tree's `stacks/`.
pub fn stack_lock_dir(stacks_dir: &Path, stack: &str) -> PathBuf {
    stacks_dir.join(stack)
}

/// Takes `stack`'s lock for `run_id`, or names the live run that holds it.
pub fn acquire_stack(stacks_dir: &Path, stack: &str, run_id: &str) -> Result<RunLock, StackBusy> {
    let dir = stack_lock_dir(stacks_dir, stack);
    let path = dir.join("lock");
    match RunLock::acquire(&dir, run_id, stack) {
        Ok(l) => Ok(l),
        Err(DockerError::Lock { .. }) if RunLock::is_alive(&path) => {
            Err(live(stack, RunLock::read_info(&path)))
        }
        Err(e) => Err(StackBusy::Lock {
            path,
            message: e.to_string(),
        }),
    }
}

fn live(stack: &str, info: Option<LockInfo>) -> StackBusy {
    let info = info.unwrap_or(LockInfo {
        run_id: "(unknown)".into(),
        pid: 0,
        stack: stack.into(),
        started: "(unknown)".into(),
    });
    StackBusy::Live {
        stack: stack.into(),
        run_id: info.run_id,
        pid: info.pid,
        started: info.started,
    }
}

impl Engine {
    /// Refuses when a service of `stack` belongs to anyone but `run_id`: another live run (found by
    /// its `cc-ci.run-lock` label), or nobody cc-ci knows alive. Call it after the janitor, which reaps
    /// dead runs' stacks.
    pub fn check_stack_free(&self, stack: &str, run_id: &str) -> Result<(), StackBusy> {
        let label = format!("{LABEL_NAMESPACE}={stack}");
        let services = self
            .block(self.list_kind("service", Some(&label), None))
            .map_err(|e| StackBusy::Engine {
                stack: stack.into(),
                source: Box::new(e),
            })?;
        for s in services {
            let owner = s.labels.get(LABEL_RUN_ID).map(String::as_str);
            if owner == Some(run_id) {
                continue;
            }
            if let Some(lock) = s.labels.get(LABEL_RUN_LOCK).map(Path::new) {
                if RunLock::is_alive(lock) {
                    return Err(live(stack, RunLock::read_info(lock)));
                }
            }
            return Err(StackBusy::Foreign {
                stack: stack.into(),
                service: s.name,
                owner: owner
                    .map(|o| format!(" (left by run {o})"))
                    .unwrap_or_default(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_on_a_locked_stack_is_told_the_live_run_and_its_pid() {
        let d = tempfile::tempdir().unwrap();
        let held = acquire_stack(d.path(), "hello_x", "run-a").unwrap();
        let e = acquire_stack(d.path(), "hello_x", "run-b").unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, StackBusy::Live { .. }), "{msg}");
        assert!(msg.contains("live run run-a"), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        // Another stack is free; once the first run is gone, so is its stack.
        acquire_stack(d.path(), "hello_y", "run-b").unwrap();
        drop(held);
        acquire_stack(d.path(), "hello_x", "run-b").unwrap();
    }
}
