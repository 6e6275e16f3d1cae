//! Spending what the trust gate allowed. While preparing, a `repo-local` grant (or the deprecated
//! off-switch) only *would allow*: nothing is spent, so a run refused for a typo, an empty selection or
//! a bad plan costs no grant use. The use is taken (a recorded `grant_check`, or the off-switch's
//! `obligation`) at the moment the run first executes a repo-local file — after specs, filters and the
//! plan were validated — and that second decision is emitted as a `GateDecided` event. It decides
//! nothing the gate did not already decide, and never reads the files it admits.

use std::sync::{Arc, Mutex};

use crate::coord::{check_grant, record_obligation, CoordPaths, GrantQuery, Ledger};
use crate::discover::GateVia;
use crate::report::event::{Gate, GateDecision};
use crate::report::{EventBus, EventKind};

/// What must be spent before a repo-local file runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// Nothing: the allowlist allowed (no use to spend), or the gate denied (nothing will run).
    Nothing,
    /// A use of this `repo-local` grant.
    Grant(String),
    /// The deprecated off-switch: an obligation is recorded.
    OffSwitch,
}

impl Pending {
    /// What a gate decision leaves to spend.
    pub fn of(via: &GateVia) -> Pending {
        match via {
            GateVia::Grant(id) => Pending::Grant(id.clone()),
            GateVia::OffSwitch => Pending::OffSwitch,
            GateVia::Allowlist | GateVia::Denied | GateVia::NotNeeded => Pending::Nothing,
        }
    }
}

/// Where the spend is recorded: the run's ledger and bus (a listing has neither and spends nothing).
pub struct Record {
    pub paths: CoordPaths,
    pub ledger: Arc<Ledger>,
    pub bus: Arc<EventBus>,
}

/// The run's admission of repo-local files: spent once, at their first use; every later use gets the
/// same answer.
pub struct Admission {
    pending: Pending,
    recipe: String,
    pr: Option<u64>,
    run_id: String,
    files: Vec<String>,
    record: Option<Record>,
    outcome: Mutex<Option<Result<(), String>>>,
}

impl Admission {
    pub fn new(
        pending: Pending,
        recipe: &str,
        pr: Option<u64>,
        run_id: &str,
        files: Vec<String>,
        record: Option<Record>,
    ) -> Admission {
        Admission {
            pending,
            recipe: recipe.to_string(),
            pr,
            run_id: run_id.to_string(),
            files,
            record,
            outcome: Mutex::new(None),
        }
    }

    /// Nothing to spend (a session test's prepared run).
    #[cfg(test)]
    pub fn none() -> Admission {
        Admission::new(Pending::Nothing, "", None, "", Vec::new(), None)
    }

    /// Whether a use is still to be taken.
    pub fn pending(&self) -> &Pending {
        &self.pending
    }

    /// Takes the use before repo-local files first run (`first_use` names what runs, for the record).
    /// `Err(why)` when the grant no longer allows (used up or revoked meanwhile, the ledger is gone):
    /// then no repo-local file may run.
    pub fn admit(&self, first_use: &str) -> Result<(), String> {
        let mut outcome = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(o) = outcome.as_ref() {
            return o.clone();
        }
        let o = self.spend(first_use);
        *outcome = Some(o.clone());
        o
    }

    fn spend(&self, first_use: &str) -> Result<(), String> {
        let record = match (&self.pending, &self.record) {
            (Pending::Nothing, _) => return Ok(()),
            (_, None) => return Err("a listing never runs repo-local files".to_string()),
            (_, Some(r)) => r,
        };
        let (allowed, reason, grant) = match &self.pending {
            Pending::Grant(id) => self.spend_grant(record, id, first_use),
            Pending::OffSwitch => self.spend_off_switch(record, first_use),
            Pending::Nothing => unreachable!("returned above"),
        };
        record.bus.emit(EventKind::GateDecided(GateDecision {
            gate: Gate::RepoLocal,
            recipe: self.recipe.clone(),
            allowed,
            reason: reason.clone(),
            grant,
            pr: self.pr,
            files: self.files.clone(),
            provisional: false,
            not_needed: false,
        }));
        if allowed {
            Ok(())
        } else {
            Err(reason)
        }
    }

    fn spend_grant(
        &self,
        record: &Record,
        id: &str,
        first_use: &str,
    ) -> (bool, String, Option<String>) {
        let q = GrantQuery {
            gate: "repo-local".into(),
            recipe: self.recipe.clone(),
            pr: self.pr,
            run_id: Some(self.run_id.clone()),
        };
        match check_grant(&record.paths, &record.ledger, &q) {
            Ok(d) if d.allowed => (
                true,
                format!("{} — spent before {first_use}", d.reason),
                d.grant_id,
            ),
            Ok(d) => (
                false,
                format!("grant {id} would have allowed when the run was prepared, but no longer does ({}); repo-local files do not run", d.reason),
                None,
            ),
            Err(e) => (
                false,
                format!("the repo-local grant check failed ({e}); repo-local files do not run"),
                None,
            ),
        }
    }

    fn spend_off_switch(&self, record: &Record, first_use: &str) -> (bool, String, Option<String>) {
        match record_obligation(
            &record.ledger,
            "repo-local",
            &self.recipe,
            self.pr,
            Some(&self.run_id),
            "CCCI_TRUST_GATE_OFF=1 used instead of a grant",
        ) {
            Ok(()) => (
                true,
                format!("the deprecated off-switch CCCI_TRUST_GATE_OFF=1 let repo-local files run (before {first_use}); an obligation is recorded: mint a repo-local grant (`cc-ci coord obligations`)"),
                None,
            ),
            Err(e) => (
                false,
                format!("the off-switch's obligation could not be recorded ({e}); repo-local files do not run"),
                None,
            ),
        }
    }
}
