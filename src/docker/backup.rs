//! Backup and restore by the backup-bot-two labels: `backupbot.backup=true` marks a service; every
//! volume it mounts is taken unless `backupbot.backup.volumes.<vol>=false`; `…volumes.<vol>.path` limits
//! a volume to comma-separated sub-paths; pre/post hooks run in the container via exec. Archives come
//! from the engine's archive API. A backup is verified and re-taken up to 3 times when not readable or
//! empty; a restore verifies every checksum first, then uploads, restarts the services (force update)
//! and waits for convergence.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bollard::container::{DownloadFromContainerOptions, UploadToContainerOptions};
use bollard::models::MountPointTypeEnum;
use futures_util::StreamExt;

use super::archive::{check_tar, read_artifact, write_artifact, ManifestEntry};
use super::BackupArtifact;
use super::{DockerError, Engine, ExecOptions};

/// Attempts at a verified backup (DESIGN §2b).
const BACKUP_ATTEMPTS: usize = 3;
const HOOK_DEADLINE: Duration = Duration::from_secs(120);

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
            let mut last = String::new();
            let mut taken = None;
            for attempt in 1..=BACKUP_ATTEMPTS {
                match self.take_service(stack, &svc.name, &svc.labels).await {
                    Ok(m) => {
                        taken = Some(m);
                        break;
                    }
                    Err(e) => last = format!("attempt {attempt}: {e}"),
                }
            }
            members.extend(taken.ok_or_else(|| {
                err(format!(
                    "service {} gave no verified archive after {BACKUP_ATTEMPTS} attempts; {last}",
                    svc.name
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

    /// One attempt at one service: pre-hook, download every path, post-hook, verify.
    async fn take_service(
        &self,
        stack: &str,
        service: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<Vec<(ManifestEntry, Vec<u8>)>, String> {
        let (cid, mounts) = self.volume_mounts(stack, service).await?;
        if let Some(hook) = labels.get("backupbot.backup.pre-hook") {
            self.hook(stack, service, hook).await?;
        }
        let mut out = Vec::new();
        let mut failure = None;
        for (volume, root) in mounts {
            if labels
                .get(&format!("backupbot.backup.volumes.{volume}"))
                .map(String::as_str)
                == Some("false")
            {
                continue;
            }
            let paths: Vec<String> =
                match labels.get(&format!("backupbot.backup.volumes.{volume}.path")) {
                    Some(p) => p
                        .split(',')
                        .map(|s| s.trim().trim_matches('/'))
                        .filter(|s| !s.is_empty())
                        .map(|s| format!("{}/{s}", root.trim_end_matches('/')))
                        .collect(),
                    None => vec![root.clone()],
                };
            for path in paths {
                match self.download(&cid, &path).await {
                    Ok(data) => {
                        if let Err(e) = check_tar(&data) {
                            failure = Some(format!("{path}: {e}"));
                        }
                        let member = format!("{volume}{path}.tar");
                        let entry = ManifestEntry {
                            service: service.into(),
                            volume: volume.clone(),
                            path: path.clone(),
                            member,
                            sha256: String::new(),
                            bytes: 0,
                            files: 0,
                        };
                        out.push((entry, data));
                    }
                    Err(e) => failure = Some(format!("{path}: {e}")),
                }
            }
        }
        if let Some(hook) = labels.get("backupbot.backup.post-hook") {
            self.hook(stack, service, hook).await?;
        }
        match failure {
            Some(f) => Err(f),
            None => Ok(out),
        }
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
            .filter(|m| m.typ == Some(MountPointTypeEnum::VOLUME))
            .filter_map(|m| {
                let name = m.name?;
                let vol = name.strip_prefix(&prefix).unwrap_or(&name).to_string();
                Some((vol, m.destination?))
            })
            .collect();
        Ok((id, mounts))
    }

    async fn hook(&self, stack: &str, service: &str, hook: &str) -> Result<(), String> {
        let cmd = vec!["sh".to_string(), "-c".to_string(), hook.to_string()];
        let opts = ExecOptions {
            deadline: HOOK_DEADLINE,
            expect_exit: Some(0),
        };
        self.exec_async(stack, service, &cmd, &opts)
            .await
            .map(|_| ())
            .map_err(|e| format!("hook `{hook}`: {e}"))
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

    /// Restores an artifact made by [`Engine::backup`] into the running stack and waits until it has
    /// converged again (at most `timeout`).
    pub fn restore(
        &self,
        stack: &str,
        artifact: &BackupArtifact,
        timeout: Duration,
    ) -> Result<(), DockerError> {
        self.block(self.restore_async(stack, artifact, timeout))
    }

    async fn restore_async(
        &self,
        stack: &str,
        artifact: &BackupArtifact,
        timeout: Duration,
    ) -> Result<(), DockerError> {
        let err = |m: String| DockerError::Restore {
            stack: stack.into(),
            message: m,
        };
        let (_, members) = read_artifact(&artifact.path).map_err(err)?;
        let mut by_service: BTreeMap<String, Vec<(ManifestEntry, Vec<u8>)>> = BTreeMap::new();
        for (e, data) in members {
            by_service
                .entry(e.service.clone())
                .or_default()
                .push((e, data));
        }
        let states = self.snapshot(stack).await?.states(stack);
        for (service, entries) in &by_service {
            let labels = states
                .iter()
                .find(|s| &s.name == service)
                .map(|s| s.labels.clone())
                .unwrap_or_default();
            if let Some(hook) = labels.get("backupbot.restore.pre-hook") {
                self.hook(stack, service, hook).await.map_err(err)?;
            }
            let full = format!("{stack}_{service}");
            let c = self.service_containers(&full, false).await?;
            let cid =
                c.first()
                    .and_then(|c| c.id.clone())
                    .ok_or_else(|| DockerError::NoContainer {
                        stack: stack.into(),
                        service: service.clone(),
                    })?;
            for (e, data) in entries {
                let clear = vec![
                    "sh".into(),
                    "-c".into(),
                    "[ -d \"$1\" ] && rm -rf -- \"$1\"/* \"$1\"/.[!.]* \"$1\"/..?* 2>/dev/null; true".into(),
                    "sh".into(),
                    e.path.clone(),
                ];
                let opts = ExecOptions {
                    deadline: Duration::from_secs(30),
                    expect_exit: None,
                };
                // Best effort: an image without a shell keeps files added after the backup.
                let _ = self.exec_async(stack, service, &clear, &opts).await;
                let parent = Path::new(&e.path)
                    .parent()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "/".into());
                self.docker
                    .upload_to_container(
                        &cid,
                        Some(UploadToContainerOptions {
                            path: parent,
                            ..Default::default()
                        }),
                        bytes::Bytes::from(data.clone()),
                    )
                    .await
                    .map_err(|x| err(format!("upload of {} into {service}: {x}", e.path)))?;
            }
            self.force_update(&full).await?;
        }
        self.wait_converged_async(stack, timeout, &mut |_| {}, None)
            .await?;
        for service in by_service.keys() {
            let labels = states
                .iter()
                .find(|s| &s.name == service)
                .map(|s| s.labels.clone())
                .unwrap_or_default();
            if let Some(hook) = labels.get("backupbot.restore.post-hook") {
                self.hook(stack, service, hook).await.map_err(err)?;
            }
        }
        Ok(())
    }

    /// Restarts every task of `service` (short name) by bumping its force-update counter, as
    /// `docker service update --force` does. Returns once swarm accepted the update.
    pub fn restart_service(&self, stack: &str, service: &str) -> Result<(), DockerError> {
        self.block(self.force_update(&format!("{stack}_{service}")))
    }

    /// Restarts every task of a service by bumping its force-update counter. Done on the raw JSON so
    /// that no field of the spec is lost on the way (bollard's model drops `Healthcheck`).
    pub(crate) async fn force_update(&self, full_name: &str) -> Result<(), DockerError> {
        let api = |e: String| DockerError::api(format!("force update {full_name}"), e);
        let svc: serde_json::Value = self
            .raw
            .get_json(&format!("/services/{full_name}"))
            .await
            .map_err(api)?;
        let version = svc
            .pointer("/Version/Index")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        let id = svc
            .get("ID")
            .and_then(|v| v.as_str())
            .unwrap_or(full_name)
            .to_string();
        let mut spec = svc.get("Spec").cloned().unwrap_or_default();
        let tmpl = &mut spec["TaskTemplate"];
        let n = tmpl
            .get("ForceUpdate")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        tmpl["ForceUpdate"] = serde_json::json!(n + 1);
        let resp = self
            .raw
            .request(
                "POST",
                &format!("/services/{id}/update?version={version}"),
                Some(&spec),
            )
            .await
            .map_err(api)?;
        resp.ok().map_err(api)
    }
}
