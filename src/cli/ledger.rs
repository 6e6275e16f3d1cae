//! `cc-ci ledger`: tail, verify and export the hash-chained ledger (and a hidden `append` used by
//! tests and scripts). Verify exits 0 when intact and 1 when tampered or divergent; after the verdict
//! it lists runs that started and never ended (and those running now, by their run lock — the
//! liveness check is here because `coord` must not depend on `docker`). That list is a warning, not
//! tampering: it never changes verify's exit code.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::coord::{fail, CoordDirArg};
use crate::coord::{
    self, Appended, Checkpoint, CoordError, Ledger, LedgerOptions, NewEvent, OpenRun,
};
use crate::docker::RunLock;
use crate::exit;

#[derive(Debug, clap::Subcommand)]
pub enum LedgerCmd {
    /// Show the last events.
    Tail {
        #[command(flatten)]
        dir: CoordDirArg,
        /// How many events.
        #[arg(short = 'n', default_value_t = 20)]
        n: u64,
        /// Print JSONL (the export format) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Recompute the hash chain over the database and the mirror; exit 1 on the first divergence.
    /// Then list runs that started and never ended (a warning; the exit code is the chain's).
    Verify {
        #[command(flatten)]
        dir: CoordDirArg,
        /// A checkpoint a run printed (`SEQ:HASH`): the chain must still hold that event there.
        #[arg(long, value_name = "SEQ:HASH", value_parser = |s: &str| s.parse::<Checkpoint>())]
        checkpoint: Option<Checkpoint>,
    },
    /// Print every committed event as JSONL (one object per line).
    Export {
        #[command(flatten)]
        dir: CoordDirArg,
    },
    /// Rebuild a lost or damaged ledger.db (moved aside first) from a mirror that verifies.
    Rebuild {
        #[command(flatten)]
        dir: CoordDirArg,
    },
    /// Append events and print each acknowledgement as it happens (for tests and scripts).
    #[command(hide = true)]
    Append {
        #[command(flatten)]
        dir: CoordDirArg,
        #[arg(long)]
        kind: String,
        #[arg(long)]
        subject: String,
        #[arg(long, default_value = "ok")]
        outcome: String,
        #[arg(long)]
        run: Option<String>,
        /// JSON object for the event's data.
        #[arg(long)]
        data: Option<String>,
        /// Append this many events; the subject gets a `-<i>` suffix when more than one.
        #[arg(long, default_value_t = 1)]
        count: u64,
        #[arg(long, default_value_t = 5000)]
        busy_timeout_ms: u64,
    },
}

pub fn run(cmd: LedgerCmd) -> anyhow::Result<ExitCode> {
    Ok(match run_inner(cmd) {
        Ok(code) => code,
        Err(e) => fail(e),
    })
}

fn run_inner(cmd: LedgerCmd) -> Result<ExitCode, CoordError> {
    let mut out = std::io::stdout().lock();
    match cmd {
        LedgerCmd::Tail { dir, n, json } => {
            let ledger = Ledger::open(&dir.resolve()?)?;
            for ev in ledger.tail(n)? {
                let line = if json {
                    ev.to_line()
                } else {
                    format!(
                        "{:>6} {} {:<14} {:<8} {} {}",
                        ev.seq,
                        ev.ts,
                        ev.kind,
                        ev.outcome,
                        ev.subject,
                        ev.run_id
                            .as_deref()
                            .map(|r| format!("run={r}"))
                            .unwrap_or_default()
                    )
                };
                let _ = writeln!(out, "{line}");
            }
            Ok(exit::code(exit::OK))
        }
        LedgerCmd::Verify { dir, checkpoint } => {
            let paths = dir.resolve()?;
            let report = coord::verify_with(&paths, checkpoint.as_ref())?;
            let _ = writeln!(out, "{report}");
            match coord::never_ended_runs(&paths) {
                Ok(open) => {
                    let _ = write!(out, "{}", open_runs(&open, &|r| running(&paths, r)));
                }
                Err(e) => eprintln!("cc-ci: warning: cannot list runs that never ended: {e}"),
            }
            Ok(exit::code(if report.intact {
                exit::OK
            } else {
                exit::FAILED
            }))
        }
        LedgerCmd::Rebuild { dir } => {
            let r = coord::rebuild(&dir.resolve()?)?;
            let _ = writeln!(
                out,
                "rebuilt the database from {} mirrored event(s)",
                r.events
            );
            if let Some(c) = r.checkpoint {
                let _ = writeln!(out, "ledger checkpoint {c}");
            }
            Ok(exit::code(exit::OK))
        }
        LedgerCmd::Export { dir } => {
            let paths = dir.resolve()?;
            coord::export(&paths, &mut out)?;
            Ok(exit::code(exit::OK))
        }
        LedgerCmd::Append {
            dir,
            kind,
            subject,
            outcome,
            run,
            data,
            count,
            busy_timeout_ms,
        } => {
            let paths = dir.resolve()?;
            let data = match data {
                Some(d) => serde_json::from_str(&d).map_err(|e| CoordError::Parse {
                    path: "--data".into(),
                    why: e.to_string(),
                })?,
                None => serde_json::json!({}),
            };
            let ledger = Ledger::open_with(
                &paths,
                LedgerOptions {
                    busy_timeout: Duration::from_millis(busy_timeout_ms),
                },
            )?;
            for i in 0..count {
                let subj = if count > 1 {
                    format!("{subject}-{i}")
                } else {
                    subject.clone()
                };
                let mut ev = NewEvent::new(&kind, subj.clone(), outcome.clone()).data(data.clone());
                if let Some(r) = &run {
                    ev = ev.run(r);
                }
                let line = match ledger.append(ev)? {
                    Appended::Committed { seq } => format!("ack {subj} committed {seq}"),
                    Appended::Spooled { path } => {
                        format!("ack {subj} spooled {}", path.display())
                    }
                };
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
                if let Some(e) = ledger.take_mirror_error() {
                    eprintln!("cc-ci: warning: {e} (the event is committed; `cc-ci coord reconcile` repairs the mirror)");
                }
            }
            Ok(exit::code(exit::OK))
        }
    }
}

/// The never-ended section of `ledger verify`: empty when every run ended; runs whose run lock is
/// held now are listed apart as running.
fn open_runs(open: &[OpenRun], is_running: &dyn Fn(&str) -> bool) -> String {
    let (live, dead): (Vec<&OpenRun>, Vec<&OpenRun>) =
        open.iter().partition(|r| is_running(&r.run_id));
    let line = |r: &OpenRun| format!("  {}  started {}  {}\n", r.run_id, r.started, r.subject);
    let mut s = String::new();
    if !dead.is_empty() {
        s += &format!("runs that never ended: {}\n", dead.len());
        dead.iter().for_each(|r| s += &line(r));
        s += "(hint: a fallback file ledger-unrecorded-<run id>*.jsonl in the run's artifacts dir or the temp dir may hold the rest: `cc-ci coord reconcile --from FILE`; a killed run is closed as abandoned by the janitor: `cc-ci janitor`)\n";
    }
    if !live.is_empty() {
        s += &format!("runs running now: {}\n", live.len());
        live.iter().for_each(|r| s += &line(r));
    }
    s
}

/// Whether run `run_id` is live: its run lock `<coord>/runs/<run id>/lock` is held. A run id that is
/// not one path component, or a lock that is not a regular file, is not live (never opened).
fn running(paths: &coord::CoordPaths, run_id: &str) -> bool {
    if run_id.is_empty() || run_id == "." || run_id == ".." || run_id.contains('/') {
        return false;
    }
    let lock = paths.runs.join(run_id).join("lock");
    matches!(crate::regular::check_regular(&lock), Ok(true)) && RunLock::is_alive(&lock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str) -> OpenRun {
        OpenRun {
            run_id: id.into(),
            subject: format!("/src/{id}"),
            started: "2026-11-30T19:00:00.000000Z".into(),
        }
    }

    #[test]
    fn the_never_ended_section_is_empty_when_all_ended_and_lists_running_runs_apart() {
        assert_eq!(open_runs(&[], &|_| false), "");
        let s = open_runs(&[run("a"), run("b")], &|r| r == "b");
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "runs that never ended: 1");
        assert_eq!(lines[1], "  a  started 2026-11-30T19:00:00.000000Z  /src/a");
        assert!(
            lines[2].contains("cc-ci coord reconcile --from FILE"),
            "{s}"
        );
        assert_eq!(lines[3], "runs running now: 1");
        assert_eq!(lines[4], "  b  started 2026-11-30T19:00:00.000000Z  /src/b");
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn a_run_is_running_while_its_run_lock_is_held() {
        let d = tempfile::tempdir().unwrap();
        let paths = coord::CoordPaths::resolve(Some(d.path())).unwrap();
        assert!(!running(&paths, "r1"));
        let lock = RunLock::acquire(&paths.runs.join("r1"), "r1", "s").unwrap();
        assert!(running(&paths, "r1"));
        assert!(!running(&paths, "../runs/r1"));
        drop(lock);
        assert!(!running(&paths, "r1"));
    }
}
