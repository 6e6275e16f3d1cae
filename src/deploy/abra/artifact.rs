//! Turning what `abra app backup create` left behind into a [`BackupArtifact`]: the new `.tar.gz`
//! under `$ABRA_DIR/backups/` (copied into the run's artifacts) or, when abra kept the snapshot
//! elsewhere (backup-bot's restic repository), a manifest holding abra's redacted output.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::deploy::{BackupArtifact, DeployError};

/// File names in `dir` now.
pub(crate) fn listing(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|it| {
            it.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn collect(
    backups: &Path,
    before: &BTreeSet<String>,
    dest_dir: &Path,
    stack: &str,
    output: &str,
) -> Result<BackupArtifact, DeployError> {
    let io = |p: &Path, e: std::io::Error| DeployError::Op {
        op: "backup",
        message: format!("{}: {e}", p.display()),
    };
    std::fs::create_dir_all(dest_dir).map_err(|e| io(dest_dir, e))?;
    let new: Vec<String> = listing(backups)
        .into_iter()
        .filter(|n| !before.contains(n) && n.ends_with(".tar.gz"))
        .collect();
    if let Some(name) = new.last() {
        let src = backups.join(name);
        let dest = dest_dir.join(name);
        std::fs::copy(&src, &dest).map_err(|e| io(&src, e))?;
        let entries = tar_entries(&dest).map_err(|e| io(&dest, e))?;
        return Ok(BackupArtifact {
            sha256: sha256_file(&dest).map_err(|e| io(&dest, e))?,
            path: dest,
            entries,
        });
    }
    let manifest: PathBuf = dest_dir.join(format!("{stack}-abra-backup.txt"));
    std::fs::write(&manifest, output).map_err(|e| io(&manifest, e))?;
    Ok(BackupArtifact {
        sha256: sha256_file(&manifest).map_err(|e| io(&manifest, e))?,
        path: manifest,
        entries: Vec::new(),
    })
}

fn sha256_file(p: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(p)?;
    let mut h = Sha256::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

fn tar_entries(p: &Path) -> std::io::Result<Vec<String>> {
    let f = std::fs::File::open(p)?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for e in archive.entries()? {
        let e = e?;
        if e.header().entry_type().is_file() {
            out.push(e.path()?.to_string_lossy().into_owned());
        }
    }
    Ok(out)
}
