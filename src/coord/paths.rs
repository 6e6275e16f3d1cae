//! The one resolver of the coord tree's location, used by every consumer (runner, provisioner, grant
//! minting and checks, watchers). It only computes paths: it never creates or reads anything on disk.
//!
//! Precedence of the base: explicit `--coord-dir` → `CCCI_COORD_DIR` → `$XDG_CACHE_HOME/cc-ci/coord`
//! → `$HOME/.cache/cc-ci/coord`. The grant dir and key come from `CCCI_GRANT_DIR` / `CCCI_GRANT_KEY`
//! when set, else from the resolved base.

use std::path::{Path, PathBuf};

use super::CoordError;

/// Every path of the coord tree, resolved once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoordPaths {
    /// The base directory (0700).
    pub base: PathBuf,
    /// `ledger.db`: the SQLite source of truth.
    pub ledger_db: PathBuf,
    /// `ledger.jsonl`: the mirror and export format.
    pub mirror: PathBuf,
    /// `spool/`: events written while the database was unavailable.
    pub spool: PathBuf,
    /// `grants/`: signed grant files.
    pub grants: PathBuf,
    /// `grant-key`: 32 random bytes, 0600.
    pub grant_key: PathBuf,
    /// `ledger-key`: 32 random bytes, 0600; authenticates spool files and seals the chain head.
    pub ledger_key: PathBuf,
    /// `runs/`: per-run directories.
    pub runs: PathBuf,
    /// `stacks/`: one lock per stack, held by the one live run that owns it.
    pub stacks: PathBuf,
}

impl CoordPaths {
    /// Resolves the paths from `explicit` and the process environment.
    pub fn resolve(explicit: Option<&Path>) -> Result<CoordPaths, CoordError> {
        Self::resolve_with(explicit, &|k| std::env::var(k).ok())
    }

    /// Resolves the paths from `explicit` and the environment given by `env` (tests pass a map).
    /// Empty variables count as unset; a relative `XDG_CACHE_HOME` is ignored, as the XDG spec says.
    pub fn resolve_with(
        explicit: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<CoordPaths, CoordError> {
        let var = |k: &str| env(k).filter(|v| !v.is_empty());
        let base = if let Some(p) = explicit {
            absolute(p)
        } else if let Some(d) = var("CCCI_COORD_DIR") {
            absolute(Path::new(&d))
        } else if let Some(x) = var("XDG_CACHE_HOME").filter(|x| Path::new(x).is_absolute()) {
            Path::new(&x).join("cc-ci").join("coord")
        } else if let Some(h) = var("HOME") {
            absolute(Path::new(&h))
                .join(".cache")
                .join("cc-ci")
                .join("coord")
        } else {
            return Err(CoordError::NoBase);
        };
        let grants = var("CCCI_GRANT_DIR")
            .map(|d| absolute(Path::new(&d)))
            .unwrap_or_else(|| base.join("grants"));
        let grant_key = var("CCCI_GRANT_KEY")
            .map(|d| absolute(Path::new(&d)))
            .unwrap_or_else(|| base.join("grant-key"));
        Ok(CoordPaths {
            ledger_db: base.join("ledger.db"),
            mirror: base.join("ledger.jsonl"),
            spool: base.join("spool"),
            runs: base.join("runs"),
            stacks: base.join("stacks"),
            ledger_key: base.join("ledger-key"),
            grants,
            grant_key,
            base,
        })
    }
}

impl std::fmt::Display for CoordPaths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "base     {}", self.base.display())?;
        writeln!(f, "ledger   {}", self.ledger_db.display())?;
        writeln!(f, "mirror   {}", self.mirror.display())?;
        writeln!(f, "spool    {}", self.spool.display())?;
        writeln!(f, "grants   {}", self.grants.display())?;
        writeln!(f, "key      {}", self.grant_key.display())?;
        writeln!(f, "lkey     {}", self.ledger_key.display())?;
        write!(f, "runs     {}", self.runs.display())
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match std::env::current_dir() {
        Ok(cwd) => cwd.join(p),
        Err(_) => p.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    const ALL: &[(&str, &str)] = &[
        ("CCCI_COORD_DIR", "/env/coord"),
        ("XDG_CACHE_HOME", "/xdg"),
        ("HOME", "/home/u"),
    ];

    #[test]
    fn explicit_dir_wins_over_every_variable() {
        let p = CoordPaths::resolve_with(Some(Path::new("/explicit")), &env(ALL)).unwrap();
        assert_eq!(p.base, Path::new("/explicit"));
        assert_eq!(p.grant_key, Path::new("/explicit/grant-key"));
        assert_eq!(p.grants, Path::new("/explicit/grants"));
    }

    #[test]
    fn ccci_coord_dir_wins_over_xdg_and_home() {
        let p = CoordPaths::resolve_with(None, &env(ALL)).unwrap();
        assert_eq!(p.base, Path::new("/env/coord"));
        assert_eq!(p.ledger_db, Path::new("/env/coord/ledger.db"));
    }

    #[test]
    fn xdg_cache_home_wins_over_home() {
        let p = CoordPaths::resolve_with(None, &env(&ALL[1..])).unwrap();
        assert_eq!(p.base, Path::new("/xdg/cc-ci/coord"));
        assert_eq!(p.mirror, Path::new("/xdg/cc-ci/coord/ledger.jsonl"));
    }

    #[test]
    fn home_is_the_last_resort() {
        let p = CoordPaths::resolve_with(None, &env(&ALL[2..])).unwrap();
        assert_eq!(p.base, Path::new("/home/u/.cache/cc-ci/coord"));
        assert_eq!(p.spool, Path::new("/home/u/.cache/cc-ci/coord/spool"));
        assert_eq!(p.runs, Path::new("/home/u/.cache/cc-ci/coord/runs"));
    }

    #[test]
    fn empty_and_relative_variables_are_skipped() {
        let e = env(&[
            ("CCCI_COORD_DIR", ""),
            ("XDG_CACHE_HOME", "relative/cache"),
            ("HOME", "/h"),
        ]);
        let p = CoordPaths::resolve_with(None, &e).unwrap();
        assert_eq!(p.base, Path::new("/h/.cache/cc-ci/coord"));
    }

    #[test]
    fn nothing_set_is_an_error_with_a_hint() {
        let e = CoordPaths::resolve_with(None, &env(&[])).unwrap_err();
        assert!(matches!(e, CoordError::NoBase));
        assert!(e.to_string().contains("hint"));
    }

    #[test]
    fn grant_variables_override_the_derived_paths_even_with_an_explicit_dir() {
        let e = env(&[("CCCI_GRANT_DIR", "/g/dir"), ("CCCI_GRANT_KEY", "/g/key")]);
        let p = CoordPaths::resolve_with(Some(Path::new("/x")), &e).unwrap();
        assert_eq!(p.base, Path::new("/x"));
        assert_eq!(p.grants, Path::new("/g/dir"));
        assert_eq!(p.grant_key, Path::new("/g/key"));
    }
}
