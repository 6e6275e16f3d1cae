//! Restore of an artifact made by backup.rs into the running stack. Every checksum is verified before
//! anything is touched. Then, per backed-up service: `backupbot.restore.pre-hook`, each path emptied
//! (best effort, needs `sh`) and its archive uploaded to the path's parent, and the service restarted
//! (force update); then the stack must converge; then `backupbot.restore.post-hook` runs (e.g. loading
//! a database dump). The post-hook of every service whose restore began runs even when a later step
//! failed, and the first failure is what the restore reports. It never removes or creates services.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bollard::query_parameters::UploadToContainerOptions;
use http::Method;

use super::archive::{read_artifact, Member};
use super::hooks::{with_post_hook, RESTORE_POST, RESTORE_PRE};
use super::BackupArtifact;
use super::{DockerError, Engine, ExecOptions};

impl Engine {
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
        let mut by_service: BTreeMap<String, Vec<Member>> = BTreeMap::new();
        for (e, data) in members {
            by_service
                .entry(e.service.clone())
                .or_default()
                .push((e, data));
        }
        let states = self.snapshot(stack).await?.states(stack);
        let labels_of = |service: &str| {
            states
                .iter()
                .find(|s| s.name == service)
                .map(|s| s.labels.clone())
                .unwrap_or_default()
        };
        let mut started = Vec::new();
        let mut failure = None;
        for (service, entries) in &by_service {
            started.push(service);
            let labels = labels_of(service);
            if let Err(e) = self.restore_service(stack, service, &labels, entries).await {
                failure = Some(e);
                break;
            }
        }
        if failure.is_none() {
            failure = self
                .wait_converged_async(stack, timeout, &mut |_| {}, None)
                .await
                .err();
        }
        let mut post = Ok(());
        for service in started {
            let done = self
                .run_hook(stack, service, &labels_of(service), RESTORE_POST)
                .await;
            post = with_post_hook(post, done);
        }
        match (failure, post) {
            (None, Ok(())) => Ok(()),
            (Some(e), Ok(())) => Err(e),
            (None, Err(p)) => Err(err(p)),
            (Some(e), Err(p)) => Err(err(format!("{e}; then the post-hook failed too: {p}"))),
        }
    }

    /// The pre-hook, the uploads and the restart of one service.
    async fn restore_service(
        &self,
        stack: &str,
        service: &str,
        labels: &BTreeMap<String, String>,
        entries: &[Member],
    ) -> Result<(), DockerError> {
        let err = |m: String| DockerError::Restore {
            stack: stack.into(),
            message: m,
        };
        self.run_hook(stack, service, labels, RESTORE_PRE)
            .await
            .map_err(err)?;
        let full = format!("{stack}_{service}");
        let c = self.service_containers(&full, false).await?;
        let cid = c
            .first()
            .and_then(|c| c.id.clone())
            .ok_or_else(|| DockerError::NoContainer {
                stack: stack.into(),
                service: service.into(),
            })?;
        for (e, data) in entries {
            let clear = vec![
                "sh".into(),
                "-c".into(),
                "[ -d \"$1\" ] && rm -rf -- \"$1\"/* \"$1\"/.[!.]* \"$1\"/..?* 2>/dev/null; true"
                    .into(),
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
                    bollard::body_full(bytes::Bytes::from(data.clone())),
                )
                .await
                .map_err(|x| err(format!("upload of {} into {service}: {x}", e.path)))?;
        }
        self.force_update(&full).await
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
            .raw(Method::GET, &format!("/services/{full_name}"), None)
            .await
            .and_then(|a| a.json())
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
        self.raw(
            Method::POST,
            &format!("/services/{id}/update?version={version}"),
            Some(&spec),
        )
        .await
        .and_then(|a| a.ok())
        .map_err(api)
    }
}
