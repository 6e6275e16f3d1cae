//! The backup artifact on disk: `<name>.tar.gz` holding one tar member per backed-up path (exactly the
//! archive the engine gave for it), and `<name>.manifest.json` beside it with the SHA-256 of every
//! member and of the `.tar.gz`. Writing checks each member is a readable, non-empty tar; reading
//! verifies every checksum before anything is restored. Pure file work: no engine calls.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::BackupArtifact;

/// One backed-up path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ManifestEntry {
    /// Short service name the archive was taken from.
    pub service: String,
    /// Volume name as the recipe calls it (`content`).
    pub volume: String,
    /// Path inside the container that was archived (the volume root, or a sub-path of it).
    pub path: String,
    /// Member name inside the `.tar.gz`.
    pub member: String,
    /// SHA-256 of the member (hex).
    pub sha256: String,
    pub bytes: u64,
    /// Entries (files, directories) the member holds.
    pub files: u64,
}

/// The manifest written beside the `.tar.gz`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BackupManifest {
    pub stack: String,
    /// RFC 3339 UTC.
    pub created: String,
    /// File name of the `.tar.gz` (in the same directory).
    pub archive: String,
    pub archive_sha256: String,
    pub entries: Vec<ManifestEntry>,
}

/// One backed-up path with the tar the engine gave for it.
pub type Member = (ManifestEntry, Vec<u8>);

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Counts the entries of a tar archive; an unreadable or empty one is an error.
pub(crate) fn check_tar(data: &[u8]) -> Result<u64, String> {
    let mut ar = tar::Archive::new(data);
    let mut n = 0u64;
    for e in ar.entries().map_err(|e| format!("unreadable tar: {e}"))? {
        let mut e = e.map_err(|e| format!("unreadable tar entry: {e}"))?;
        std::io::copy(&mut e, &mut std::io::sink())
            .map_err(|e| format!("truncated tar entry: {e}"))?;
        n += 1;
    }
    if n == 0 {
        return Err("the archive is empty".into());
    }
    Ok(n)
}

/// Where the manifest of an artifact lives: `x.tar.gz` → `x.manifest.json`.
pub fn manifest_path(archive: &Path) -> PathBuf {
    let name = archive
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("backup.tar.gz");
    let base = name.strip_suffix(".tar.gz").unwrap_or(name);
    archive.with_file_name(format!("{base}.manifest.json"))
}

/// Writes the `.tar.gz` and its manifest into `dest_dir`. `members` pairs each entry (its `sha256`,
/// `bytes` and `files` are filled in here) with the tar the engine produced.
pub(crate) fn write_artifact(
    dest_dir: &Path,
    stack: &str,
    members: Vec<(ManifestEntry, Vec<u8>)>,
) -> Result<(BackupArtifact, BackupManifest), String> {
    std::fs::create_dir_all(dest_dir).map_err(|e| format!("{}: {e}", dest_dir.display()))?;
    let now = time::OffsetDateTime::now_utc();
    let created = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let stamp = now.unix_timestamp_nanos() / 1_000_000;
    let archive_name = format!("{stack}-{stamp}.tar.gz");
    let archive_path = dest_dir.join(&archive_name);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut entries = Vec::new();
    {
        let mut b = tar::Builder::new(&mut gz);
        for (mut entry, data) in members {
            entry.files = check_tar(&data).map_err(|e| format!("{}: {e}", entry.path))?;
            entry.sha256 = sha256_hex(&data);
            entry.bytes = data.len() as u64;
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o600);
            h.set_mtime(now.unix_timestamp().max(0) as u64);
            h.set_cksum();
            b.append_data(&mut h, &entry.member, data.as_slice())
                .map_err(|e| format!("writing {}: {e}", entry.member))?;
            entries.push(entry);
        }
        b.finish()
            .map_err(|e| format!("writing the archive: {e}"))?;
    }
    let bytes = gz.finish().map_err(|e| format!("compressing: {e}"))?;
    let archive_sha256 = sha256_hex(&bytes);
    std::fs::write(&archive_path, &bytes)
        .map_err(|e| format!("{}: {e}", archive_path.display()))?;
    let manifest = BackupManifest {
        stack: stack.into(),
        created,
        archive: archive_name,
        archive_sha256: archive_sha256.clone(),
        entries,
    };
    let mpath = manifest_path(&archive_path);
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
    std::fs::write(&mpath, json).map_err(|e| format!("{}: {e}", mpath.display()))?;
    let artifact = BackupArtifact {
        path: archive_path,
        sha256: archive_sha256,
        entries: manifest
            .entries
            .iter()
            .map(|e| format!("{}:{}", e.volume, e.path))
            .collect(),
    };
    Ok((artifact, manifest))
}

/// Reads an artifact back with every checksum verified: each member (its entry, the tar the engine
/// gave). What the runner's verification reads.
pub fn read_backup(archive: &Path) -> Result<Vec<Member>, String> {
    read_artifact(archive).map(|(_, members)| members)
}

/// Reads an artifact back, verifying the archive's and every member's checksum against the manifest.
pub(crate) fn read_artifact(archive: &Path) -> Result<(BackupManifest, Vec<Member>), String> {
    let mpath = manifest_path(archive);
    let mtext = std::fs::read_to_string(&mpath).map_err(|e| format!("{}: {e}", mpath.display()))?;
    let manifest: BackupManifest = serde_json::from_str(&mtext)
        .map_err(|e| format!("{}: bad manifest: {e}", mpath.display()))?;
    let bytes = std::fs::read(archive).map_err(|e| format!("{}: {e}", archive.display()))?;
    let got = sha256_hex(&bytes);
    if got != manifest.archive_sha256 {
        return Err(format!(
            "{}: checksum {got} does not match the manifest's {} (hint: the file was changed or truncated)",
            archive.display(),
            manifest.archive_sha256
        ));
    }
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
    let mut found = std::collections::HashMap::new();
    for e in ar
        .entries()
        .map_err(|e| format!("unreadable archive: {e}"))?
    {
        let mut e = e.map_err(|e| format!("unreadable archive entry: {e}"))?;
        let name = e
            .path()
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data)
            .map_err(|e| format!("reading {name}: {e}"))?;
        found.insert(name, data);
    }
    let mut out = Vec::new();
    for entry in &manifest.entries {
        let data = found
            .remove(&entry.member)
            .ok_or_else(|| format!("member {} is missing from the archive", entry.member))?;
        let sum = sha256_hex(&data);
        if sum != entry.sha256 {
            return Err(format!(
                "member {}: checksum {sum} does not match the manifest's {}",
                entry.member, entry.sha256
            ));
        }
        out.push((entry.clone(), data));
    }
    Ok((manifest, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(name: &str, body: &[u8]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, body).unwrap();
        b.into_inner().unwrap()
    }

    fn entry() -> ManifestEntry {
        ManifestEntry {
            service: "app".into(),
            volume: "content".into(),
            path: "/var/www".into(),
            member: "content/var/www.tar".into(),
            sha256: String::new(),
            bytes: 0,
            files: 0,
        }
    }

    #[test]
    fn an_artifact_round_trips_with_checksums() {
        let d = tempfile::tempdir().unwrap();
        let data = tar_with("www/index.html", b"hi");
        let (a, m) = write_artifact(d.path(), "s", vec![(entry(), data.clone())]).unwrap();
        assert_eq!(m.entries[0].sha256, sha256_hex(&data));
        assert_eq!(a.entries, ["content:/var/www"]);
        let (_, back) = read_artifact(&a.path).unwrap();
        assert_eq!(back[0].1, data);
    }

    #[test]
    fn a_tampered_archive_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let (a, _) = write_artifact(d.path(), "s", vec![(entry(), tar_with("f", b"x"))]).unwrap();
        let mut bytes = std::fs::read(&a.path).unwrap();
        let n = bytes.len();
        bytes[n - 10] ^= 0xff;
        std::fs::write(&a.path, bytes).unwrap();
        assert!(read_artifact(&a.path)
            .unwrap_err()
            .contains("does not match"));
    }

    #[test]
    fn an_empty_tar_is_not_a_backup() {
        let empty = tar::Builder::new(Vec::new()).into_inner().unwrap();
        assert!(check_tar(&empty).unwrap_err().contains("empty"));
        assert!(check_tar(b"garbage that is not a tar at all").is_err());
    }
}
