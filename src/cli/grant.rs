//! `cc-ci grant`: mint, check, list and revoke signed escape grants. `check` exits 0 when a valid
//! grant allows, 1 when denied, 2 on error, 4 on a usage error (an unknown gate, a recipe name that is
//! a path). `check` is the gate's real decision: it is recorded in the ledger and an allow spends one
//! of the grant's uses; `check --dry-run` decides the same way and records and spends nothing.

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::coord::{fail, CoordDirArg};
use crate::coord::{self, CoordError, GrantQuery, Ledger, MintRequest};
use crate::exit;

#[derive(Debug, clap::Subcommand)]
pub enum GrantCmd {
    /// Mint a grant and print its id. With `--settles ID`: settle an off-switch obligation after the
    /// fact instead (a record covering exactly that obligation, usable by no run or check).
    Mint {
        #[command(flatten)]
        dir: CoordDirArg,
        /// The gate it opens: `repo-local` or `skip-generic`.
        #[arg(long, required_unless_present = "settles", conflicts_with = "settles")]
        gate: Option<String>,
        /// The recipe it covers (its name, e.g. `hedgedoc`).
        #[arg(long, required_unless_present = "settles", conflicts_with = "settles")]
        recipe: Option<String>,
        /// Limit the grant to one pull request (default: every PR of the recipe).
        #[arg(long, conflicts_with = "settles")]
        pr: Option<u64>,
        /// How long it is valid, e.g. `2h` (1s to 90d).
        #[arg(long, required_unless_present = "settles", conflicts_with = "settles",
              value_parser = crate::duration::clap_parser(Duration::from_secs(1), coord::MAX_TTL))]
        ttl: Option<Duration>,
        /// How many allowed checks (runs that go ahead) it answers.
        #[arg(long, default_value_t = 1, conflicts_with = "settles")]
        uses: u32,
        /// Why it is granted, for the ledger and reviewers, e.g. "reviewed test_upgrade.py in PR 42".
        #[arg(long)]
        reason: String,
        /// Who mints it (default: $USER).
        #[arg(long)]
        minter: Option<String>,
        /// Settle the obligation with this id (`cc-ci coord obligations --format json` lists them);
        /// gate, recipe and PR are the obligation's.
        #[arg(long, value_name = "OBLIGATION_ID")]
        settles: Option<String>,
    },
    /// The gate's real decision for this gate and scope, as a run takes it: recorded in the ledger,
    /// and an allow spends one use of the grant (exit 0 allow, 1 deny, 2 error, 4 usage). With
    /// `--dry-run` it only says what the decision would be.
    Check {
        #[command(flatten)]
        dir: CoordDirArg,
        /// The gate asked about: `repo-local` or `skip-generic`.
        #[arg(long)]
        gate: String,
        /// The recipe asked about.
        #[arg(long)]
        recipe: String,
        /// The pull request asked about (a PR-less grant covers every PR).
        #[arg(long)]
        pr: Option<u64>,
        /// The run the check belongs to (recorded with the decision).
        #[arg(long)]
        run: Option<String>,
        /// Decide without spending a use or recording anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// List grants: valid, expired, revoked, used up.
    List {
        #[command(flatten)]
        dir: CoordDirArg,
    },
    /// Revoke a grant (recorded; a revoked grant denies).
    Revoke {
        #[command(flatten)]
        dir: CoordDirArg,
        /// The grant's id, as `grant mint` printed it and `grant list` shows it (`g-…`).
        id: String,
        /// Why it is revoked, for the ledger.
        #[arg(long, default_value = "revoked by operator")]
        reason: String,
    },
}

pub fn run(cmd: GrantCmd) -> anyhow::Result<ExitCode> {
    Ok(match run_inner(cmd) {
        Ok(code) => code,
        Err(e) => fail(e),
    })
}

fn run_inner(cmd: GrantCmd) -> Result<ExitCode, CoordError> {
    match cmd {
        GrantCmd::Mint {
            dir,
            gate,
            recipe,
            pr,
            ttl,
            uses,
            reason,
            minter,
            settles,
        } => {
            let minter = minter
                .or_else(|| std::env::var("USER").ok())
                .or_else(|| std::env::var("LOGNAME").ok())
                .unwrap_or_else(|| "unknown".to_string());
            let paths = dir.resolve()?;
            if let Some(obligation) = settles {
                let ledger = Ledger::open(&paths)?;
                let c = coord::settle(&paths, &ledger, &obligation, &reason, &minter)?;
                println!("{}", c.id);
                eprintln!(
                    "settled obligation {obligation} (gate {} recipe {}) with {}: a record, usable by no run or check",
                    c.gate, c.scope.recipe, c.id
                );
                return Ok(exit::code(exit::OK));
            }
            let req = MintRequest {
                gate: gate.unwrap_or_default(),
                recipe: recipe.unwrap_or_default(),
                pr,
                ttl: ttl.unwrap_or_default(),
                uses,
                reason,
                minter,
            };
            req.check()?;
            let ledger = Ledger::open(&paths)?;
            let claims = coord::mint(&paths, &ledger, &req)?;
            println!("{}", claims.id);
            eprintln!(
                "minted {} for gate {} recipe {} (expires {}, {} use(s))",
                claims.id, claims.gate, claims.scope.recipe, claims.expires, claims.uses
            );
            Ok(exit::code(exit::OK))
        }
        GrantCmd::Check {
            dir,
            gate,
            recipe,
            pr,
            run,
            dry_run,
        } => {
            coord::check_gate(&gate)?;
            coord::check_recipe(&recipe)?;
            let paths = dir.resolve()?;
            let q = GrantQuery {
                gate,
                recipe,
                pr,
                run_id: run,
            };
            let d = if dry_run {
                coord::decide_grant(&paths, &q)?
            } else {
                coord::check_grant(&paths, &Ledger::open(&paths)?, &q)?
            };
            let (word, code) = match (d.allowed, dry_run) {
                (true, false) => ("allow", exit::OK),
                (true, true) => ("would allow (dry run, no use spent)", exit::OK),
                (false, false) => ("deny", exit::FAILED),
                (false, true) => ("would deny (dry run)", exit::FAILED),
            };
            println!("{word}: {}", d.reason);
            Ok(exit::code(code))
        }
        GrantCmd::List { dir } => {
            let rows = coord::list_grants(&dir.resolve()?)?;
            for r in &rows {
                println!("{r}");
            }
            if rows.is_empty() {
                println!("no grants");
            }
            Ok(exit::code(exit::OK))
        }
        GrantCmd::Revoke { dir, id, reason } => {
            let paths = dir.resolve()?;
            let ledger = Ledger::open(&paths)?;
            coord::revoke(&paths, &ledger, &id, &reason)?;
            println!("revoked {id}");
            Ok(exit::code(exit::OK))
        }
    }
}
