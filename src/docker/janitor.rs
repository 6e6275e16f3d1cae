//! The janitor: reaps what dead runs left behind. A run is dead when nobody holds its lock file
//! (`RunLock::is_alive` is false), e.g. after a SIGKILL. It finds dead runs two ways: resources whose
//! `cc-ci.run-lock` label names a lock nobody holds, and run directories under `runs_dir` whose lock is
//! not held (their note names the stack, which also catches abra-made resources without cc-ci labels).
//! It never touches a stack any of whose resources names a live lock. By default a pass reaps only the
//! dead runs of its own coord tree (locks under `runs_dir`): that tree's ledger is the one that started
//! them, so it is the one that records their removal and closes them as abandoned; another tree's dead
//! runs are that tree's business (or an operator's `cc-ci janitor --all-trees`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::resources::Res;
use super::runlock::RunLock;
use super::watch::StackWatch;
use super::{DockerError, Engine, LABEL_NAMESPACE, LABEL_RUN_ID, LABEL_RUN_LOCK};

/// Kinds the janitor looks at, in removal order.
const KINDS: [&str; 5] = ["service", "volume", "secret", "config", "network"];
/// Marker written into a dead run directory once its stack is reaped.
const REAPED: &str = "reaped";

/// One resource the janitor removed (or would remove, on a dry run).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Removal {
    /// `service`, `volume`, `secret`, `config`, `network`.
    pub kind: String,
    pub name: String,
    pub stack: String,
    pub run_id: Option<String>,
    /// Why it was reaped, e.g. `lock /runs/x/lock not held`.
    pub reason: String,
}

/// What a janitor pass did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct JanitorReport {
    pub dry_run: bool,
    pub removed: Vec<Removal>,
    /// Stacks left alone because a live run holds one of their locks.
    pub skipped_live: Vec<String>,
    /// Stacks that could not be removed, with the error.
    pub errors: Vec<String>,
}

/// Which dead runs a janitor pass may reap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JanitorScope {
    /// Only runs whose lock lies under the pass's `runs_dir` (one coord tree: what a run's own pass does).
    Tree,
    /// Dead runs of any coord tree on this engine (an operator cleaning up after a removed tree).
    AllTrees,
}

impl JanitorScope {
    /// Whether a resource labelled with run lock `lock` is within this scope for `runs_dir`.
    fn covers(self, runs_dir: &Path, lock: &Path) -> bool {
        self == JanitorScope::AllTrees || lock.starts_with(runs_dir)
    }
}

/// A stack to reap and why.
struct Target {
    run_id: Option<String>,
    reason: String,
    run_dir: Option<PathBuf>,
}

impl Engine {
    /// Reaps the leftovers of dead runs. `on_remove` is called for each removal (the CLI records it in
    /// the ledger). A dry run only reports.
    pub fn janitor(
        &self,
        runs_dir: &Path,
        scope: JanitorScope,
        dry_run: bool,
        on_remove: &mut dyn FnMut(&Removal),
    ) -> Result<JanitorReport, DockerError> {
        self.block(self.janitor_async(runs_dir, scope, dry_run, &|_| true, on_remove))
    }

    /// [`Engine::janitor`] limited to the stacks `only` accepts (tests on a shared engine use it to
    /// stay within their own stacks).
    pub fn janitor_filtered(
        &self,
        runs_dir: &Path,
        scope: JanitorScope,
        dry_run: bool,
        only: &dyn Fn(&str) -> bool,
        on_remove: &mut dyn FnMut(&Removal),
    ) -> Result<JanitorReport, DockerError> {
        self.block(self.janitor_async(runs_dir, scope, dry_run, only, on_remove))
    }

    async fn janitor_async(
        &self,
        runs_dir: &Path,
        scope: JanitorScope,
        dry_run: bool,
        only: &dyn Fn(&str) -> bool,
        on_remove: &mut dyn FnMut(&Removal),
    ) -> Result<JanitorReport, DockerError> {
        let mut report = JanitorReport {
            dry_run,
            ..Default::default()
        };
        let mut targets: BTreeMap<String, Target> = BTreeMap::new();
        let mut orphans: Vec<(Res, String)> = Vec::new();
        for kind in KINDS {
            for r in self.list_kind(kind, Some(LABEL_RUN_LOCK), None).await? {
                let lock = r.labels.get(LABEL_RUN_LOCK).cloned().unwrap_or_default();
                if !scope.covers(runs_dir, Path::new(&lock)) || RunLock::is_alive(Path::new(&lock))
                {
                    continue;
                }
                let reason = format!("lock {lock} not held");
                match r.labels.get(LABEL_NAMESPACE) {
                    Some(stack) => {
                        targets.entry(stack.clone()).or_insert(Target {
                            run_id: r.labels.get(LABEL_RUN_ID).cloned(),
                            reason,
                            run_dir: None,
                        });
                    }
                    None => orphans.push((r, reason)),
                }
            }
        }
        for (dir, info) in dead_run_dirs(runs_dir) {
            let t = targets.entry(info.stack.clone()).or_insert(Target {
                run_id: Some(info.run_id.clone()),
                reason: format!("run dir {} not locked", dir.display()),
                run_dir: None,
            });
            t.run_dir = Some(dir);
        }
        targets.retain(|stack, _| only(stack));
        orphans.retain(|_| only(""));
        for (stack, t) in targets {
            let all = self.find(&stack, None, &KINDS).await?;
            if let Some(live) = all.iter().find_map(|r| {
                r.labels
                    .get(LABEL_RUN_LOCK)
                    .filter(|l| RunLock::is_alive(Path::new(l.as_str())))
            }) {
                report
                    .skipped_live
                    .push(format!("{stack} (lock {live} is held)"));
                continue;
            }
            let removal = |r: &Res| Removal {
                kind: r.kind.to_string(),
                name: r.name.clone(),
                stack: stack.clone(),
                run_id: r
                    .labels
                    .get(LABEL_RUN_ID)
                    .cloned()
                    .or_else(|| t.run_id.clone()),
                reason: t.reason.clone(),
            };
            if dry_run {
                for r in &all {
                    let rm = removal(r);
                    on_remove(&rm);
                    report.removed.push(rm);
                }
                continue;
            }
            let mut removed = Vec::new();
            let result = self
                .remove_stack_async(&stack, None, &mut |r: &Res| removed.push(removal(r)))
                .await;
            for rm in removed {
                on_remove(&rm);
                report.removed.push(rm);
            }
            match result {
                Ok(()) => {
                    if let Some(dir) = &t.run_dir {
                        let _ = std::fs::write(dir.join(REAPED), b"reaped by cc-ci janitor\n");
                    }
                }
                Err(e) => report.errors.push(format!("{stack}: {e}")),
            }
        }
        for (r, reason) in orphans {
            let rm = Removal {
                kind: r.kind.to_string(),
                name: r.name.clone(),
                stack: String::new(),
                run_id: r.labels.get(LABEL_RUN_ID).cloned(),
                reason,
            };
            if !dry_run {
                if let Err(e) = self.remove_orphan(&r).await {
                    report.errors.push(format!("{} {}: {e}", r.kind, r.name));
                    continue;
                }
            }
            on_remove(&rm);
            report.removed.push(rm);
        }
        Ok(report)
    }

    async fn remove_orphan(&self, r: &Res) -> Result<(), DockerError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        if r.kind == "service" {
            return self
                .docker
                .delete_service(&r.id)
                .await
                .map_err(|e| DockerError::api(format!("remove service {}", r.name), e));
        }
        // No stack to follow: retry on a plain half-second interval while the engine says "in use".
        let mut watch = StackWatch::polling("", std::time::Duration::from_millis(500));
        self.remove_res(r, deadline, &mut watch).await
    }
}

/// Run directories under `runs_dir` whose lock exists, is not held, and was not reaped yet.
fn dead_run_dirs(runs_dir: &Path) -> Vec<(PathBuf, super::LockInfo)> {
    let Ok(rd) = std::fs::read_dir(runs_dir) else {
        return Vec::new();
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for entry in rd.flatten() {
        let dir = entry.path();
        let lock = dir.join("lock");
        if !lock.is_file() || dir.join(REAPED).exists() || RunLock::is_alive(&lock) {
            continue;
        }
        if let Some(info) = RunLock::read_info(&lock) {
            if !info.stack.is_empty() && seen.insert(dir.clone()) {
                out.push((dir, info));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unlocked_unreaped_run_dirs_are_dead() {
        let d = tempfile::tempdir().unwrap();
        let live = RunLock::acquire(&d.path().join("live"), "r-live", "s_live").unwrap();
        drop(RunLock::acquire(&d.path().join("dead"), "r-dead", "s_dead").unwrap());
        drop(RunLock::acquire(&d.path().join("done"), "r-done", "s_done").unwrap());
        std::fs::write(d.path().join("done").join(REAPED), "x").unwrap();
        let dead = dead_run_dirs(d.path());
        let stacks: Vec<&str> = dead.iter().map(|(_, i)| i.stack.as_str()).collect();
        assert_eq!(stacks, ["s_dead"]);
        drop(live);
    }

    #[test]
    fn a_tree_pass_covers_only_locks_under_its_runs_dir() {
        let runs = Path::new("/coord/a/runs");
        let own = Path::new("/coord/a/runs/r1/lock");
        let other = Path::new("/coord/b/runs/r2/lock");
        let sibling = Path::new("/coord/a/runs-old/r3/lock");
        assert!(JanitorScope::Tree.covers(runs, own));
        assert!(!JanitorScope::Tree.covers(runs, other));
        assert!(
            !JanitorScope::Tree.covers(runs, sibling),
            "a prefix of the name is not the dir"
        );
        assert!(
            !JanitorScope::Tree.covers(runs, Path::new("")),
            "an empty label is no lock of ours"
        );
        assert!(JanitorScope::AllTrees.covers(runs, other));
    }
}
