//! `cc-ci ledger`: tail, verify and export the hash-chained ledger (and a hidden `append` used by
//! tests and scripts). Verify exits 0 when intact and 1 when tampered or divergent.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::coord::{fail, CoordDirArg};
use crate::coord::{self, Appended, Checkpoint, CoordError, Ledger, LedgerOptions, NewEvent};
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
            let report = coord::verify_with(&dir.resolve()?, checkpoint.as_ref())?;
            let _ = writeln!(out, "{report}");
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
