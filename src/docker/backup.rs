//! Backup by the backup-bot-two labels: `backupbot.backup=true` marks a service; every volume it mounts
//! is taken unless `backupbot.backup.volumes.<vol>=false`; `…volumes.<vol>.path` limits a volume to
//! comma-separated sub-paths. For each service: the pre-hook runs in its container and is waited for
//! (a database dump is complete before anything is read); then the paths are read through the engine's
//! archive API from the container running at that moment; then the post-hook runs — whenever the
//! pre-hook started, even if it or a read failed, so the app is never left as the pre-hook put it. An
//! attempt whose archives are not readable, non-empty tars is re-taken (pre-hook included) up to 3 times.
//! Restoring lives in restore.rs; it never writes into a container.

use std::collections::BTreeMap;
use std::path::Path;

use bollard::query_parameters::DownloadFromContainerOptions;
use futures_util::StreamExt;

use super::archive::{check_tar, write_artifact, ManifestEntry, Member};
use super::hooks::{BACKUP_POST, BACKUP_PRE};
use super::BackupArtifact;
use super::{DockerError, Engine};

/// Attempts at a verified backup (DESIGN §2b).
const BACKUP_ATTEMPTS: usize = 3;

impl Engine {
    /// Backs up every backup-enabled service of `stack` into `dest_dir`.
    pub fn backup(&self, stack: &str, dest_dir: &Path) -> Result<BackupArtifact, DockerError> {
        self.block(self.backup_async(stack, dest_dir))
    }

    async fn backup_async(
        &self,
        stack: &str,
        dest_dir: &Path,
    ) -> Result<BackupArtifact, DockerError> {
        let err = |m: String| DockerError::Backup {
            stack: stack.into(),
            message: m,
        };
        let services: Vec<_> = self
            .snapshot(stack)
            .await?
            .states(stack)
            .into_iter()
            .filter(|s| s.labels.get("backupbot.backup").map(String::as_str) == Some("true"))
            .collect();
        if services.is_empty() {
            return Err(err(
                "no service carries backupbot.backup=true (hint: the recipe is not backup-capable)"
                    .into(),
            ));
        }
        let mut members = Vec::new();
        for svc in &services {
            let mut failures = Vec::new();
            let mut taken = None;
            for attempt in 1..=BACKUP_ATTEMPTS {
                match self.take_service(stack, &svc.name, &svc.labels).await {
                    Ok(m) => {
                        taken = Some(m);
                        break;
                    }
                    Err(e) => failures.push(format!("attempt {attempt}: {e}")),
                }
            }
            members.extend(taken.ok_or_else(|| {
                err(format!(
                    "service {} gave no verified archive after {BACKUP_ATTEMPTS} attempts; {}",
                    svc.name,
                    failures.join("; ")
                ))
            })?);
        }
        if members.is_empty() {
            return Err(err(
                "the backup-enabled services mount no volume to back up".into(),
            ));
        }
        let (artifact, _) = write_artifact(dest_dir, stack, members).map_err(err)?;
        Ok(artifact)
    }

    /// One attempt at one service: pre-hook, read every path, post-hook (always, once the pre-hook
    /// started).
    async fn take_service(
        &self,
        stack: &str,
        service: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<Vec<Member>, String> {
        let read = match self.run_hook(stack, service, labels, BACKUP_PRE).await {
            Ok(()) => self.read_paths(stack, service, labels).await,
            Err(e) => Err(e),
        };
        let post = self.run_hook(stack, service, labels, BACKUP_POST).await;
        match (read, post) {
            (Ok(members), Ok(())) => Ok(members),
            (Ok(_), Err(p)) => Err(p),
            (Err(e), Ok(())) => Err(e),
            (Err(e), Err(p)) => Err(format!("{e}; then the post-hook failed too: {p}")),
        }
    }

    /// Reads every selected path of the service's running container (resolved now, after the
    /// pre-hook) and checks each archive is a readable, non-empty tar.
    async fn read_paths(
        &self,
        stack: &str,
        service: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<Vec<Member>, String> {
        let (cid, mounts) = self.volume_mounts(stack, service).await?;
        let mut out = Vec::new();
        for (volume, root) in mounts {
            let Some(paths) = selected_paths(labels, &volume, &root) else {
                continue;
            };
            for path in paths {
                let data = self
                    .download(&cid, &path)
                    .await
                    .map_err(|e| format!("{path}: {e}"))?;
                check_tar(&data).map_err(|e| format!("{path}: {e}"))?;
                let entry = ManifestEntry {
                    service: service.into(),
                    volume: volume.clone(),
                    member: format!("{volume}{path}.tar"),
                    path,
                    sha256: String::new(),
                    bytes: 0,
                    files: 0,
                };
                out.push((entry, data));
            }
        }
        Ok(out)
    }

    /// The running container of a service and its volume mounts as (recipe volume name, mount path).
    async fn volume_mounts(
        &self,
        stack: &str,
        service: &str,
    ) -> Result<(String, Vec<(String, String)>), String> {
        let full = format!("{stack}_{service}");
        let c = self
            .service_containers(&full, false)
            .await
            .map_err(|e| e.to_string())?;
        let id = c
            .first()
            .and_then(|c| c.id.clone())
            .ok_or(format!("no running container for {full}"))?;
        let info = self
            .docker
            .inspect_container(&id, None)
            .await
            .map_err(|e| e.to_string())?;
        let prefix = format!("{stack}_");
        let mounts = info
            .mounts
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m.typ.as_deref() == Some("volume"))
            .filter_map(|m| {
                let name = m.name?;
                let vol = name.strip_prefix(&prefix).unwrap_or(&name).to_string();
                Some((vol, m.destination?))
            })
            .collect();
        Ok((id, mounts))
    }

    async fn download(&self, container: &str, path: &str) -> Result<Vec<u8>, String> {
        let mut s = self.docker.download_from_container(
            container,
            Some(DownloadFromContainerOptions {
                path: path.to_string(),
            }),
        );
        let mut data = Vec::new();
        while let Some(chunk) = s.next().await {
            data.extend_from_slice(&chunk.map_err(|e| format!("archive download: {e}"))?);
        }
        Ok(data)
    }
}

/// The paths of one volume (mounted at `root`) to back up: `None` when
/// `backupbot.backup.volumes.<vol>=false`; the sub-paths of `…volumes.<vol>.path` (comma-separated,
/// relative to the volume's root); else the whole volume.
fn selected_paths(
    labels: &BTreeMap<String, String>,
    volume: &str,
    root: &str,
) -> Option<Vec<String>> {
    if labels
        .get(&format!("backupbot.backup.volumes.{volume}"))
        .map(String::as_str)
        == Some("false")
    {
        return None;
    }
    let root = root.trim_end_matches('/');
    Some(
        match labels.get(&format!("backupbot.backup.volumes.{volume}.path")) {
            Some(p) => p
                .split(',')
                .map(|s| s.trim().trim_matches('/'))
                .filter(|s| !s.is_empty())
                .map(|s| format!("{root}/{s}"))
                .collect(),
            None => vec![root.to_string()],
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_volume_is_taken_whole_unless_its_paths_are_named() {
        let none = labels(&[]);
        assert_eq!(
            selected_paths(&none, "content", "/var/www/"),
            Some(vec!["/var/www".to_string()])
        );
        let some = labels(&[(
            "backupbot.backup.volumes.postgres.path",
            "backup.sql, /dumps/ ,",
        )]);
        assert_eq!(
            selected_paths(&some, "postgres", "/var/lib/postgresql/data"),
            Some(vec![
                "/var/lib/postgresql/data/backup.sql".to_string(),
                "/var/lib/postgresql/data/dumps".to_string()
            ])
        );
        assert_eq!(
            selected_paths(&some, "other", "/x"),
            Some(vec!["/x".to_string()])
        );
    }

    #[test]
    fn a_volume_marked_false_is_skipped() {
        let l = labels(&[("backupbot.backup.volumes.cache", "false")]);
        assert_eq!(selected_paths(&l, "cache", "/cache"), None);
        assert!(selected_paths(&l, "data", "/data").is_some());
    }
}
