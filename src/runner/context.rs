//! The live app as trials see it: the engine, the app's identity, what install looked like, values
//! recorded by seeding steps, and the backup made by the backup op. Shared by every trial thread.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::deploy::{AppRef, BackupArtifact};
use crate::docker::{ExecOptions, ExecOutput, ServiceState};

use crate::report::{EventBus, EventKind};

use super::engine::AppEngine;

/// What the main service looked like at a point in time (for the upgrade proof and its fallback).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub version: Option<String>,
    pub image: String,
    pub chaos: Option<String>,
    pub chaos_version: Option<String>,
    pub update_state: Option<String>,
}

/// The live app could not be asked (messages are redacted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    /// The engine refused or failed (listing services, exec, logs).
    #[error("{0}")]
    Engine(String),
    #[error("service `{name}` not found in stack {stack} (services: {services})")]
    NoService {
        name: String,
        stack: String,
        services: String,
    },
}

/// Shared state of a running session.
pub struct Live {
    pub engine: Arc<dyn AppEngine>,
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
    /// `-s` / `--capture=no`: every exec's output is shown on this bus as it finishes.
    pub echo: Option<Arc<EventBus>>,
}

impl Live {
    /// The live context of a prepared run on `engine`.
    pub fn new(engine: Arc<dyn AppEngine>, app: &AppRef, p: &super::prepare::Prepared) -> Live {
        let meta = &p.discovery.meta;
        Live {
            engine,
            app: app.clone(),
            main_service: meta
                .main_service
                .clone()
                .unwrap_or_else(|| "app".to_string()),
            head_ref: p.checkout.head_ref.clone(),
            exec_deadline: Duration::from_secs(90),
            http_timeout: meta.http_timeout.unwrap_or(Duration::from_secs(60)),
            http_port: meta.http_port,
            accepted_statuses: meta
                .accepted_statuses
                .clone()
                .unwrap_or_else(|| vec![200, 201, 202, 204, 301, 302, 303, 307, 308, 401, 403]),
            health_path: meta.health_path.clone().unwrap_or_else(|| "/".to_string()),
            install: Default::default(),
            values: Default::default(),
            backup: Default::default(),
            echo: None,
        }
    }

    fn label_key(&self, suffix: &str) -> String {
        format!("coop-cloud.{}.{suffix}", self.app.stack)
    }

    /// The services of the app, now.
    pub fn services(&self) -> Result<Vec<ServiceState>, LiveError> {
        self.engine
            .services(&self.app.stack)
            .map_err(|e| self.engine_error(e))
    }

    /// An engine error, redacted.
    pub fn engine_error(&self, e: impl std::fmt::Display) -> LiveError {
        LiveError::Engine(self.app.redactor.redact(&e.to_string()))
    }

    /// The named service (short name), now.
    pub fn service(&self, name: &str) -> Result<ServiceState, LiveError> {
        let all = self.services()?;
        let names: Vec<String> = all.iter().map(|s| s.name.clone()).collect();
        all.into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| LiveError::NoService {
                name: name.to_string(),
                stack: self.app.stack.clone(),
                services: names.join(", "),
            })
    }

    /// The main service's version labels and image, now.
    pub fn snapshot(&self) -> Result<Snapshot, LiveError> {
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
    ) -> Result<ExecOutput, LiveError> {
        let opts = ExecOptions {
            deadline: self.exec_deadline,
            expect_exit,
        };
        let r = self
            .engine
            .exec(&self.app.stack, service, argv, &opts)
            .map(|mut o| {
                o.stdout = self.app.redactor.redact(&o.stdout);
                o.stderr = self.app.redactor.redact(&o.stderr);
                o
            })
            .map_err(|e| self.engine_error(e));
        if let Some(bus) = &self.echo {
            bus.emit(EventKind::StepOutput {
                source: format!("exec in {service}: {}", argv.join(" ")),
                text: match &r {
                    Ok(o) => {
                        let out = format!("{}{}", o.stdout, o.stderr);
                        match out.trim_end() {
                            "" => format!("(exit {})", o.exit_code),
                            shown => format!("{shown}\n(exit {})", o.exit_code),
                        }
                    }
                    Err(e) => format!("failed: {e}"),
                },
            });
        }
        r
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
