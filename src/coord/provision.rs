//! Provisioning: makes the coord tree exist and proves it usable. Idempotent (a second run creates
//! nothing) and loud (every failure names the path and the OS error). It creates the base (0700),
//! `spool/`, `grants/`, `runs/`, the grant key, `ledger.db` with its schema in WAL mode and
//! `ledger.jsonl`, and writes, fsyncs and removes a probe in the base. It never accepts a grant key
//! readable by group or others: it refuses it, or repairs it when asked and records that.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde_json::json;

use super::key::{self, KeyStatus};
use super::{db, CoordError, CoordPaths, Ledger, NewEvent};

/// What provisioning may do beyond creating what is missing.
#[derive(Debug, Clone, Default)]
pub struct ProvisionOptions {
    /// chmod an existing grant key with group/other bits to 0600 (recorded in the ledger).
    pub repair_perms: bool,
}

/// What provisioning found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvisionReport {
    pub created: Vec<PathBuf>,
    pub existing: Vec<PathBuf>,
    /// Paths whose permissions were repaired, with the old mode.
    pub repaired: Vec<(PathBuf, u32)>,
}

impl std::fmt::Display for ProvisionReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for p in &self.created {
            writeln!(f, "created   {}", p.display())?;
        }
        for p in &self.existing {
            writeln!(f, "exists    {}", p.display())?;
        }
        for (p, mode) in &self.repaired {
            writeln!(f, "repaired  {} (mode {mode:04o} -> 0600)", p.display())?;
        }
        if self.created.is_empty() && self.repaired.is_empty() {
            write!(f, "nothing to do: the coord tree is provisioned")
        } else {
            write!(
                f,
                "provisioned: {} created, {} already existed",
                self.created.len(),
                self.existing.len()
            )
        }
    }
}

/// Provisions the coord tree at `paths`.
pub fn provision(
    paths: &CoordPaths,
    opts: &ProvisionOptions,
) -> Result<ProvisionReport, CoordError> {
    let mut r = ProvisionReport::default();
    ensure_dir(&paths.base, &mut r)?;
    probe(&paths.base)?;
    ensure_dir(&paths.spool, &mut r)?;
    ensure_dir(&paths.grants, &mut r)?;
    ensure_dir(&paths.runs, &mut r)?;
    if let Some(parent) = paths.grant_key.parent() {
        if !parent.is_dir() {
            ensure_dir(parent, &mut r)?;
        }
    }
    let mut repaired_key = None;
    match key::inspect(&paths.grant_key)? {
        KeyStatus::Missing => {
            if key::create_or_adopt(&paths.grant_key)? {
                r.created.push(paths.grant_key.clone());
            } else {
                // Another process won the race: its key must pass the same checks.
                match key::inspect(&paths.grant_key)? {
                    KeyStatus::Sound => r.existing.push(paths.grant_key.clone()),
                    KeyStatus::Missing => {
                        return Err(CoordError::NotProvisioned {
                            path: paths.grant_key.clone(),
                        })
                    }
                    KeyStatus::Insecure { mode } => {
                        return Err(CoordError::KeyInsecure {
                            path: paths.grant_key.clone(),
                            mode,
                        })
                    }
                }
            }
        }
        KeyStatus::Sound => r.existing.push(paths.grant_key.clone()),
        KeyStatus::Insecure { mode } if opts.repair_perms => {
            key::repair(&paths.grant_key)?;
            r.repaired.push((paths.grant_key.clone(), mode));
            repaired_key = Some(mode);
        }
        KeyStatus::Insecure { mode } => {
            return Err(CoordError::KeyInsecure {
                path: paths.grant_key.clone(),
                mode,
            })
        }
    }
    let db_existed = paths.ledger_db.exists();
    db::create(&paths.ledger_db)
        .map_err(|e| CoordError::sql("create the schema", &paths.ledger_db, e))?;
    push(&mut r, &paths.ledger_db, db_existed);
    let mirror_existed = paths.mirror.exists();
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(&paths.mirror)
        .map_err(|e| CoordError::io("create the mirror", &paths.mirror, e))?;
    push(&mut r, &paths.mirror, mirror_existed);

    if !r.created.is_empty() || repaired_key.is_some() {
        let ledger = Ledger::open(paths)?;
        if !r.created.is_empty() {
            let created: Vec<String> = r.created.iter().map(|p| p.display().to_string()).collect();
            ledger.append(
                NewEvent::new("provision", paths.base.display().to_string(), "created")
                    .data(json!({ "created": created })),
            )?;
        }
        if let Some(mode) = repaired_key {
            ledger.append(
                NewEvent::new(
                    "perms_repair",
                    paths.grant_key.display().to_string(),
                    "repaired",
                )
                .data(json!({ "old_mode": format!("{mode:04o}"), "new_mode": "0600" })),
            )?;
        }
    }
    Ok(r)
}

fn push(r: &mut ProvisionReport, p: &Path, existed: bool) {
    if existed {
        r.existing.push(p.to_path_buf());
    } else {
        r.created.push(p.to_path_buf());
    }
}

/// Creates `dir` (0700, parents as needed) or checks that it is a directory.
fn ensure_dir(dir: &Path, r: &mut ProvisionReport) -> Result<(), CoordError> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {
            r.existing.push(dir.to_path_buf());
            return Ok(());
        }
        Ok(_) => {
            return Err(CoordError::Invalid {
                path: dir.to_path_buf(),
                what: "exists but is not a directory".into(),
                hint: "move it away or choose another --coord-dir".into(),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(CoordError::io("inspect", dir, e)),
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| CoordError::io("create directory", parent, e))?;
    }
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => r.created.push(dir.to_path_buf()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => {
            r.existing.push(dir.to_path_buf())
        }
        Err(e) => return Err(CoordError::io("create directory", dir, e)),
    }
    Ok(())
}

/// Proves `dir` writable: write, fsync and remove a probe file.
fn probe(dir: &Path) -> Result<(), CoordError> {
    let mut rnd = [0u8; 6];
    let _ = getrandom::getrandom(&mut rnd);
    let p = dir.join(format!(
        ".probe-{}-{}",
        std::process::id(),
        hex::encode(rnd)
    ));
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&p)
        .map_err(|e| CoordError::io("write a probe file in", dir, e))?;
    let res = f
        .write_all(b"cc-ci probe\n")
        .and_then(|_| f.sync_all())
        .map_err(|e| CoordError::io("write and fsync the probe", &p, e));
    drop(f);
    let rm = std::fs::remove_file(&p).map_err(|e| CoordError::io("remove the probe", &p, e));
    res.and(rm)
}
