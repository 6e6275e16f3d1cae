//! The live app as trials see it: the engine, the app's identity, what install looked like, values
//! recorded by seeding steps, and the backup made by the backup op. Shared by every trial thread.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::deploy::{AppRef, BackupArtifact};
use crate::docker::{Engine, ExecOptions, ExecOutput, ServiceState};

/// What the main service looked like at a point in time (for the upgrade proof and its fallback).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub version: Option<String>,
    pub image: String,
    pub chaos: Option<String>,
    pub chaos_version: Option<String>,
    pub update_state: Option<String>,
}

/// Shared state of a running session.
pub struct Live {
    pub engine: Arc<Engine>,
    pub app: AppRef,
    /// The service whose labels carry the version (abra's `app`).
    pub main_service: String,
    /// The commit the upgrade must deploy; `None` when unknown.
    pub head_ref: Option<String>,
    /// Deadline of one exec (retries included).
    pub exec_deadline: Duration,
    /// How long an HTTP check waits for an accepted answer.
    pub http_timeout: Duration,
    /// HTTP port of the main service (recipe.yaml, else the traefik label, else 80).
    pub http_port: Option<u16>,
    /// Accepted HTTP statuses when a check does not list its own.
    pub accepted_statuses: Vec<u16>,
    /// Default health path for generic HTTP checks.
    pub health_path: String,
    pub install: Mutex<Option<Snapshot>>,
    pub values: Mutex<BTreeMap<String, String>>,
    pub backup: Mutex<Option<BackupArtifact>>,
}

impl Live {
    fn label_key(&self, suffix: &str) -> String {
        format!("coop-cloud.{}.{suffix}", self.app.stack)
    }

    /// The services of the app, now.
    pub fn services(&self) -> Result<Vec<ServiceState>, String> {
        self.engine
            .services(&self.app.stack)
            .map_err(|e| self.app.redactor.redact(&e.to_string()))
    }

    /// The named service (short name), now.
    pub fn service(&self, name: &str) -> Result<ServiceState, String> {
        let all = self.services()?;
        let names: Vec<String> = all.iter().map(|s| s.name.clone()).collect();
        all.into_iter().find(|s| s.name == name).ok_or_else(|| {
            format!(
                "service `{name}` not found in stack {} (services: {})",
                self.app.stack,
                names.join(", ")
            )
        })
    }

    /// The main service's version labels and image, now.
    pub fn snapshot(&self) -> Result<Snapshot, String> {
        let s = self.service(&self.main_service)?;
        Ok(Snapshot {
            version: s.labels.get(&self.label_key("version")).cloned(),
            image: s.image.clone(),
            chaos: s.labels.get(&self.label_key("chaos")).cloned(),
            chaos_version: s.labels.get(&self.label_key("chaos-version")).cloned(),
            update_state: s.update_state.clone(),
        })
    }

    /// Runs a command in a running container of `service`, with the retry rules of `docker::exec`.
    /// `expect_exit: None` accepts any exit code as a result.
    pub fn exec(
        &self,
        service: &str,
        argv: &[String],
        expect_exit: Option<i64>,
    ) -> Result<ExecOutput, String> {
        let opts = ExecOptions {
            deadline: self.exec_deadline,
            expect_exit,
        };
        self.engine
            .exec(&self.app.stack, service, argv, &opts)
            .map(|mut o| {
                o.stdout = self.app.redactor.redact(&o.stdout);
                o.stderr = self.app.redactor.redact(&o.stderr);
                o
            })
            .map_err(|e| self.app.redactor.redact(&e.to_string()))
    }

    /// Stores a recorded value (data continuity).
    pub fn record(&self, name: &str, value: String) {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), value);
    }

    pub fn recorded(&self, name: &str) -> Option<String> {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }
}
