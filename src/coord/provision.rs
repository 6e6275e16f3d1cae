//! Provisioning: makes the coord tree exist and proves it usable. Idempotent (a second run creates
//! nothing) and loud (every failure names the path and the OS error). It creates the base (0700),
//! `spool/`, `grants/`, `runs/`, the grant key, the ledger key, `ledger.db` with its schema in WAL
//! mode and `ledger.jsonl`, writes, fsyncs and removes a probe in the base, and seals a chain head
//! written before sealing existed. It never accepts a key or a base open to group or others, or owned
//! by another user: it refuses it, or repairs the mode when asked and records that.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::json;

use super::key::{self, KeyStatus};
use super::{db, seal, CoordError, CoordPaths, Ledger, NewEvent};

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
    /// The seq of a head written before sealing existed, sealed by this run.
    pub sealed: Option<u64>,
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
            let new = if p.is_dir() { "0700" } else { "0600" };
            writeln!(f, "repaired  {} (mode {mode:04o} -> {new})", p.display())?;
        }
        if let Some(seq) = self.sealed {
            writeln!(f, "sealed    the chain head at seq {seq}")?;
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
    let mut repaired = Vec::new();
    if let Some(mode) = check_base(&paths.base, opts)? {
        repaired.push((paths.base.clone(), mode));
    }
    probe(&paths.base)?;
    ensure_dir(&paths.spool, &mut r)?;
    ensure_dir(&paths.grants, &mut r)?;
    ensure_dir(&paths.runs, &mut r)?;
    if let Some(parent) = paths.grant_key.parent() {
        if !parent.is_dir() {
            ensure_dir(parent, &mut r)?;
        }
    }
    for (path, what) in [
        (&paths.grant_key, key::GRANT),
        (&paths.ledger_key, key::LEDGER),
    ] {
        if let Some(mode) = ensure_key(path, what, opts, &mut r)? {
            repaired.push((path.clone(), mode));
        }
    }
    let db_existed = paths.ledger_db.exists();
    db::create(&paths.ledger_db)
        .map_err(|e| CoordError::sql("create the schema", &paths.ledger_db, e))?;
    push(&mut r, &paths.ledger_db, db_existed);
    let mirror_existed = paths.mirror.exists();
    super::sys::check_regular(&paths.mirror)
        .map_err(|e| CoordError::io("use the mirror", &paths.mirror, e))?;
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(&paths.mirror)
        .map_err(|e| CoordError::io("create the mirror", &paths.mirror, e))?;
    push(&mut r, &paths.mirror, mirror_existed);
    r.sealed = seal_unsealed_head(paths)?;
    record(paths, &r, &repaired)?;
    r.repaired = repaired;
    Ok(r)
}

/// Records what provisioning created or repaired (nothing when it found everything in place).
fn record(
    paths: &CoordPaths,
    r: &ProvisionReport,
    repaired: &[(PathBuf, u32)],
) -> Result<(), CoordError> {
    if r.created.is_empty() && repaired.is_empty() {
        return Ok(());
    }
    let ledger = Ledger::open(paths)?;
    if !r.created.is_empty() {
        let created: Vec<String> = r.created.iter().map(|p| p.display().to_string()).collect();
        ledger.append(
            NewEvent::new("provision", paths.base.display().to_string(), "created")
                .data(json!({ "created": created })),
        )?;
    }
    for (path, mode) in repaired {
        ledger.append(
            NewEvent::new("perms_repair", path.display().to_string(), "repaired").data(
                json!({ "old_mode": format!("{mode:04o}"), "new_mode": format!("{:04o}", new_mode(path, paths)) }),
            ),
        )?;
    }
    Ok(())
}

fn new_mode(path: &Path, paths: &CoordPaths) -> u32 {
    if path == paths.base {
        0o700
    } else {
        0o600
    }
}

/// The base must belong to the user running cc-ci and be closed to group and others; a permissive
/// mode is refused, or chmodded to 0700 with `repair_perms` (returns the old mode).
fn check_base(base: &Path, opts: &ProvisionOptions) -> Result<Option<u32>, CoordError> {
    let m = std::fs::metadata(base).map_err(|e| CoordError::io("inspect", base, e))?;
    if m.uid() != key::euid() {
        return Err(key::foreign_owner(base, "coord directory", m.uid()));
    }
    let mode = m.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(None);
    }
    if !opts.repair_perms {
        return Err(CoordError::DirInsecure {
            path: base.to_path_buf(),
            mode,
        });
    }
    std::fs::set_permissions(base, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| CoordError::io("chmod 700", base, e))?;
    Ok(Some(mode))
}

/// Creates a missing key or checks an existing one; a permissive one is refused, or repaired with
/// `repair_perms` (returns the old mode).
fn ensure_key(
    path: &Path,
    what: &'static str,
    opts: &ProvisionOptions,
    r: &mut ProvisionReport,
) -> Result<Option<u32>, CoordError> {
    let insecure = |mode| CoordError::KeyInsecure {
        what,
        path: path.to_path_buf(),
        mode,
    };
    match key::inspect(path, what)? {
        KeyStatus::Missing => {
            if key::create_or_adopt(path)? {
                r.created.push(path.to_path_buf());
                return Ok(None);
            }
            // Another process won the race: its key must pass the same checks.
            match key::inspect(path, what)? {
                KeyStatus::Sound => r.existing.push(path.to_path_buf()),
                KeyStatus::Missing => {
                    return Err(CoordError::NotProvisioned {
                        path: path.to_path_buf(),
                    })
                }
                KeyStatus::Insecure { mode } => return Err(insecure(mode)),
            }
            Ok(None)
        }
        KeyStatus::Sound => {
            r.existing.push(path.to_path_buf());
            Ok(None)
        }
        KeyStatus::Insecure { mode } if opts.repair_perms => {
            key::repair(path)?;
            r.existing.push(path.to_path_buf());
            Ok(Some(mode))
        }
        KeyStatus::Insecure { mode } => Err(insecure(mode)),
    }
}

/// A ledger written before the head was sealed gets its seal now (trust on first use). Returns the
/// seq sealed, if this call sealed one.
fn seal_unsealed_head(paths: &CoordPaths) -> Result<Option<u64>, CoordError> {
    let key = key::load(&paths.ledger_key, key::LEDGER)?;
    let sql = |action| move |e| CoordError::sql(action, &paths.ledger_db, e);
    let mut conn = db::open_rw(&paths.ledger_db, db::DEFAULT_BUSY_TIMEOUT).map_err(sql("open"))?;
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sql("begin a write transaction"))?;
    let (seq, hash) = db::last(&tx).map_err(sql("read the chain head"))?;
    if seq == 0 || seal::read(&tx).map_err(sql("read the seal"))?.is_some() {
        return Ok(None);
    }
    seal::write(&tx, &key, seq, &hash).map_err(sql("seal the chain head"))?;
    tx.commit().map_err(sql("commit the seal"))?;
    Ok(Some(seq))
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
