//! Errors of the coord tree. Every variant names the path it concerns and, where a person can act,
//! carries a `(hint: …)`. Nothing here prints; callers decide how to show and map errors to exit codes.

use std::path::PathBuf;

/// Anything the coord tree can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoordError {
    /// No base directory could be derived: no explicit directory, no `CCCI_COORD_DIR`, no usable
    /// `XDG_CACHE_HOME` and no `HOME`.
    #[error("cannot resolve the coord directory: none of --coord-dir, CCCI_COORD_DIR, XDG_CACHE_HOME or HOME is set (hint: pass --coord-dir DIR or set CCCI_COORD_DIR)")]
    NoBase,

    /// An operating-system call on a path failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// SQLite refused something on the ledger database.
    #[error("ledger database {}: cannot {action}: {source}", path.display())]
    Sqlite {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// A path of the coord tree exists but is not what it must be (e.g. a file where a directory belongs).
    #[error("{}: {what} (hint: {hint})", path.display())]
    Invalid {
        path: PathBuf,
        what: String,
        hint: String,
    },

    /// A key (grant or ledger) is readable or writable by group or others.
    #[error("{what} {} has mode {mode:04o}: group/other permissions are not allowed (hint: run `cc-ci coord provision --repair-perms` or `chmod 600 {}`)", path.display(), path.display())]
    KeyInsecure {
        what: &'static str,
        path: PathBuf,
        mode: u32,
    },

    /// The base directory is open to group or others.
    #[error("coord directory {} has mode {mode:04o}: group/other permissions are not allowed (hint: run `cc-ci coord provision --repair-perms` or `chmod 700 {}`)", path.display(), path.display())]
    DirInsecure { path: PathBuf, mode: u32 },

    /// The coord tree has not been provisioned (a directory the operation needs is missing).
    #[error("coord tree not provisioned: {} is missing (hint: run `cc-ci coord provision`)", path.display())]
    NotProvisioned { path: PathBuf },

    /// A file of the coord tree (spool file, grant file, mirror line) could not be parsed.
    #[error("cannot parse {}: {why}", path.display())]
    Parse { path: PathBuf, why: String },

    /// Neither the database nor the spool could take an event.
    #[error("event lost: the database failed ({db}) and the spool failed ({spool}) (hint: run `cc-ci coord provision` and check the disk)")]
    EventLost { db: String, spool: String },

    /// A grant operation was asked for something that does not exist or makes no sense.
    #[error("grant: {0}")]
    Grant(String),

    /// The request itself is wrong (a usage error: the CLI exits 4).
    #[error("{0}")]
    Usage(String),
}

impl CoordError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        CoordError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn sql(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: rusqlite::Error,
    ) -> Self {
        let path = path.into();
        if super::db::is_corrupt(&source) {
            return CoordError::Invalid {
                path,
                what: format!("cannot {action}: the database is corrupt ({source})"),
                hint: "run `cc-ci ledger verify`: it checks the mirror on its own and says how to rebuild the database".into(),
            };
        }
        CoordError::Sqlite {
            action,
            path,
            source,
        }
    }
}
