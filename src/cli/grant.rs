//! `cc-ci grant`: mint, check, list and revoke signed escape grants. `check` exits 0 when a valid
//! grant allows, 1 when denied, 2 on error, 4 on a usage error (an unknown gate, a recipe name that is
//! a path); every check is recorded in the ledger.

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::coord::{fail, CoordDirArg};
use crate::coord::{self, CoordError, GrantQuery, Ledger, MintRequest};
use crate::exit;

#[derive(Debug, clap::Subcommand)]
pub enum GrantCmd {
    /// Mint a grant and print its id.
    Mint {
        #[command(flatten)]
        dir: CoordDirArg,
        /// The gate it opens, e.g. `repo-local` or `skip-generic`.
        #[arg(long)]
        gate: String,
        #[arg(long)]
        recipe: String,
        /// Limit the grant to one pull request.
        #[arg(long)]
        pr: Option<u64>,
        /// How long it is valid, e.g. `2h` (1s to 90d).
        #[arg(long, value_parser = crate::duration::clap_parser(Duration::from_secs(1), coord::MAX_TTL))]
        ttl: Duration,
        /// How many allowed checks it answers.
        #[arg(long, default_value_t = 1)]
        uses: u32,
        #[arg(long)]
        reason: String,
        /// Who mints it (default: $USER).
        #[arg(long)]
        minter: Option<String>,
    },
    /// Check whether a valid grant allows this gate and scope (exit 0 allow, 1 deny, 2 error).
    Check {
        #[command(flatten)]
        dir: CoordDirArg,
        #[arg(long)]
        gate: String,
        #[arg(long)]
        recipe: String,
        #[arg(long)]
        pr: Option<u64>,
        /// The run the check belongs to.
        #[arg(long)]
        run: Option<String>,
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
        id: String,
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
        } => {
            let minter = minter
                .or_else(|| std::env::var("USER").ok())
                .or_else(|| std::env::var("LOGNAME").ok())
                .unwrap_or_else(|| "unknown".to_string());
            let req = MintRequest {
                gate,
                recipe,
                pr,
                ttl,
                uses,
                reason,
                minter,
            };
            req.check()?;
            let paths = dir.resolve()?;
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
        } => {
            coord::check_gate(&gate)?;
            coord::check_recipe(&recipe)?;
            let paths = dir.resolve()?;
            let ledger = Ledger::open(&paths)?;
            let q = GrantQuery {
                gate,
                recipe,
                pr,
                run_id: run,
            };
            let d = coord::check_grant(&paths, &ledger, &q)?;
            if d.allowed {
                println!("allow: {}", d.reason);
                Ok(exit::code(exit::OK))
            } else {
                println!("deny: {}", d.reason);
                Ok(exit::code(exit::FAILED))
            }
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
