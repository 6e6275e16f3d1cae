//! Verifying a backup before anything trusts it. The artifact is read back from disk: checksums (the
//! engine's manifest, or the archive abra left), every member readable; every path a backup-enabled
//! service's labels name (`backupbot.backup.volumes.<vol>.path`, where a pre-hook's dump lands) is in it
//! and holds data; every backup-enabled service gave something (when the artifact says which service a
//! part came from); then recipe.yaml's `backup_verify` check passes on the app. What it found — each
//! part's size and checksum — is the evidence the ledger records for each attempt. It only reads: it
//! never writes into a container or changes an artifact.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::deploy::BackupArtifact;
use crate::spec::Check;

use super::context::Live;

/// One part of a backup: a backed-up path (engine) or a volume (abra's archive).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Piece {
    pub volume: String,
    /// The path as the artifact names it (a container path, or `/` for a whole volume of abra's).
    pub path: String,
    /// The service it came from, when the artifact says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Regular files in it and their bytes.
    pub files: u64,
    pub bytes: u64,
    /// SHA-256 of the part (hex).
    pub sha256: String,
}

/// The verdict on one backup.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Verdict {
    pub pieces: Vec<Piece>,
    /// What is missing or wrong; empty when the backup is verified.
    pub problems: Vec<String>,
    /// Set when the contents cannot be read here (abra's snapshot in backup-bot-two's restic repo).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverifiable: Option<String>,
}

/// A regular file of the backup: (volume, path, size).
type File = (String, String, u64);

/// What an artifact holds: its parts, and every regular file in them.
type Contents = (Vec<Piece>, Vec<File>);

/// A path a service's labels promise data at: (service, volume, path relative to the volume root).
type Promise = (String, String, String);

/// Verifies `artifact` against the app's backup labels, then `check` (recipe.yaml `backup_verify`).
pub fn verify(live: &Live, artifact: &BackupArtifact, check: Option<&Check>) -> Verdict {
    let mut v = Verdict::default();
    let files = match read(artifact) {
        Ok(Some((pieces, files))) => {
            v.pieces = pieces;
            Some(files)
        }
        Ok(None) => {
            v.unverifiable = Some(
                "abra keeps the snapshot in backup-bot-two's restic repository: its contents cannot be read here"
                    .into(),
            );
            None
        }
        Err(e) => {
            v.problems.push(e);
            return v;
        }
    };
    match live.services() {
        Ok(services) => {
            let labelled: Vec<(String, BTreeMap<String, String>)> = services
                .into_iter()
                .filter(|s| {
                    s.labels
                        .get("backupbot.backup")
                        .is_some_and(|b| b == "true")
                })
                .map(|s| (s.name, s.labels))
                .collect();
            if let Some(files) = &files {
                v.problems.extend(missing(&labelled, &v.pieces, files));
            }
        }
        Err(e) => v
            .problems
            .push(format!("cannot read the app's labels: {e}")),
    }
    if let (true, Some(c)) = (v.problems.is_empty(), check) {
        if let Err(f) = super::check::evaluate(live, c) {
            v.problems.push(format!("backup_verify: {}", f.0));
        }
    }
    v
}

/// What the labels promise that the backup does not hold.
fn missing(
    labelled: &[(String, BTreeMap<String, String>)],
    pieces: &[Piece],
    files: &[File],
) -> Vec<String> {
    let mut out = Vec::new();
    let knows_services = pieces.iter().any(|p| p.service.is_some());
    for (svc, _) in labelled {
        if knows_services && !pieces.iter().any(|p| p.service.as_deref() == Some(svc)) {
            out.push(format!(
                "service {svc} carries backupbot.backup=true but gave nothing"
            ));
        }
    }
    for (svc, vol, rel) in promises(labelled) {
        let hits: Vec<&File> = files
            .iter()
            .filter(|(v, p, _)| *v == vol && under(p, &rel))
            .collect();
        let bytes: u64 = hits.iter().map(|f| f.2).sum();
        let named = format!("`{vol}/{rel}` (backupbot.backup.volumes.{vol}.path of {svc})");
        if hits.is_empty() {
            out.push(format!("{named} is not in the backup"));
        } else if bytes == 0 {
            out.push(format!(
                "{named} is empty (0 bytes): the pre-hook's dump did not reach it"
            ));
        }
    }
    out
}

/// The named paths of every backup-enabled service, except those of volumes marked `false`.
fn promises(labelled: &[(String, BTreeMap<String, String>)]) -> Vec<Promise> {
    let mut out = Vec::new();
    for (svc, labels) in labelled {
        for (k, paths) in labels {
            let Some(vol) = k
                .strip_prefix("backupbot.backup.volumes.")
                .and_then(|r| r.strip_suffix(".path"))
            else {
                continue;
            };
            if labels
                .get(&format!("backupbot.backup.volumes.{vol}"))
                .is_some_and(|v| v == "false")
            {
                continue;
            }
            for rel in paths.split(',').map(|p| p.trim().trim_matches('/')) {
                if !rel.is_empty() {
                    out.push((svc.clone(), vol.to_string(), rel.to_string()));
                }
            }
        }
    }
    out
}

/// Whether `path` (absolute inside the container or the volume) is `rel` or lies under it.
fn under(path: &str, rel: &str) -> bool {
    let p = format!("{}/", path.trim_end_matches('/'));
    p.ends_with(&format!("/{rel}/")) || p.contains(&format!("/{rel}/"))
}

/// The pieces and files of an artifact; `None` when it holds no contents (abra's output only).
fn read(a: &BackupArtifact) -> Result<Option<Contents>, String> {
    let meta = std::fs::symlink_metadata(&a.path)
        .map_err(|e| format!("the artifact {} is missing: {e}", a.path.display()))?;
    if !meta.is_file() {
        return Err(format!(
            "the artifact {} is not a regular file",
            a.path.display()
        ));
    }
    if crate::docker::manifest_path(&a.path).is_file() {
        return engine_artifact(&a.path).map(Some);
    }
    let name = a.path.to_string_lossy();
    if name.ends_with(".tar.gz") {
        return abra_archive(&a.path, &a.sha256).map(Some);
    }
    Ok(None)
}

/// The engine's artifact: the manifest's checksums verified, then each member's files.
fn engine_artifact(path: &Path) -> Result<Contents, String> {
    let members = crate::docker::read_backup(path)?;
    let (mut pieces, mut files) = (Vec::new(), Vec::new());
    for (entry, data) in members {
        let parent = entry.path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        let mut bytes = 0;
        let mut n = 0;
        for (name, size) in
            tar_files(data.as_slice()).map_err(|e| format!("{}: {e}", entry.member))?
        {
            files.push((entry.volume.clone(), format!("{parent}/{name}"), size));
            bytes += size;
            n += 1;
        }
        pieces.push(Piece {
            volume: entry.volume,
            path: entry.path,
            service: Some(entry.service),
            files: n,
            bytes,
            sha256: entry.sha256,
        });
    }
    Ok((pieces, files))
}

/// abra's `.tar.gz` (`<volume>/<path…>` inside): its checksum against what the deployer recorded, then
/// one piece per volume.
fn abra_archive(path: &Path, sha256: &str) -> Result<Contents, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let got = hex::encode(Sha256::digest(&data));
    if got != sha256 {
        return Err(format!(
            "{}: checksum {got} does not match the one taken when it was made ({sha256})",
            path.display()
        ));
    }
    let mut by_volume: BTreeMap<String, (u64, u64, Sha256)> = BTreeMap::new();
    let mut files = Vec::new();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(data.as_slice()));
    let entries = ar
        .entries()
        .map_err(|e| format!("{}: unreadable archive: {e}", path.display()))?;
    for e in entries {
        let mut e = e.map_err(|e| format!("{}: unreadable entry: {e}", path.display()))?;
        let name = e
            .path()
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .into_owned();
        let (vol, rest) = name.split_once('/').unwrap_or((name.as_str(), ""));
        let slot = by_volume
            .entry(vol.to_string())
            .or_insert_with(|| (0, 0, Sha256::new()));
        if !e.header().entry_type().is_file() {
            continue;
        }
        let mut body = Vec::new();
        e.read_to_end(&mut body)
            .map_err(|err| format!("{}: truncated {name}: {err}", path.display()))?;
        slot.0 += 1;
        slot.1 += body.len() as u64;
        slot.2.update(name.as_bytes());
        slot.2.update(&body);
        files.push((vol.to_string(), format!("/{rest}"), body.len() as u64));
    }
    if by_volume.is_empty() {
        return Err(format!("{}: the archive is empty", path.display()));
    }
    let pieces = by_volume
        .into_iter()
        .map(|(volume, (files, bytes, h))| Piece {
            volume,
            path: "/".into(),
            service: None,
            files,
            bytes,
            sha256: hex::encode(h.finalize()),
        })
        .collect();
    Ok((pieces, files))
}

/// The regular files of a tar and their sizes.
fn tar_files(data: &[u8]) -> Result<Vec<(String, u64)>, String> {
    let mut ar = tar::Archive::new(data);
    let mut out = Vec::new();
    for e in ar.entries().map_err(|e| format!("unreadable tar: {e}"))? {
        let e = e.map_err(|e| format!("unreadable tar entry: {e}"))?;
        if e.header().entry_type().is_file() {
            let name = e
                .path()
                .map_err(|e| e.to_string())?
                .to_string_lossy()
                .into_owned();
            out.push((name, e.size()));
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "backup_check_tests.rs"]
mod tests;
