//! Background jobs: typed kinds with serde payloads, kept in the store's
//! `jobs` table and run by [`worker::Worker`]. A use case enqueues with
//! [`enqueue`] inside its own [`WriteTx`], so the job exists only if the
//! change commits. Handlers may run more than once (a worker that dies
//! mid-job loses it when its lease runs out), so each one is idempotent.
//!
//! One file per kind; [`Registry::standard`] lists them all.

pub mod audit_retention;
pub mod credits;
pub mod gauges;
pub mod mail;
pub mod noop;
pub mod reports;
pub mod rollup_upkeep;
pub mod schedule;
pub mod webhooks;
pub mod worker;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use steward_core::ids::{JobId, OrgId};
use steward_core::time::Timestamp;
use steward_core::{Error, Result};
use steward_store::jobs::{self, NewJob};
use steward_store::{Db, WriteTx};

use crate::AppState;
use crate::services::Ctx;

/// A kind of job: its name in the table, its payload (the implementing type,
/// as JSON), how often it may be tried, and what it does.
pub trait Job: Serialize + DeserializeOwned + Send + 'static {
    const KIND: &'static str;
    /// Attempts before the job is declared dead.
    const MAX_ATTEMPTS: i64 = 5;

    fn run(self, ctx: JobCtx) -> impl Future<Output = std::result::Result<(), JobError>> + Send;
}

/// What a running job can reach: what a request handler can (the database,
/// files, mailer, sealing key, metrics, clock), and the job's own facts.
#[derive(Clone)]
pub struct JobCtx {
    pub app: AppState,
    pub id: JobId,
    pub org_id: Option<OrgId>,
    /// 1 on the first attempt.
    pub attempt: i64,
}

impl JobCtx {
    pub fn db(&self) -> &Db {
        &self.app.db
    }

    pub fn now(&self) -> Timestamp {
        self.app.clock.now()
    }

    /// The system acting for this job, named for what it does.
    pub fn system(&self, name: &'static str) -> Ctx {
        Ctx::system(name, self.now())
    }
}

/// Why an attempt failed. A permanent error (a payload that no longer parses,
/// an unknown kind) makes the job dead at once: retrying can't help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    pub message: String,
    pub permanent: bool,
}

impl JobError {
    pub fn retry(message: impl Into<String>) -> Self {
        JobError { message: message.into(), permanent: false }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        JobError { message: message.into(), permanent: true }
    }
}

impl From<Error> for JobError {
    fn from(e: Error) -> Self {
        // Storage details went to the log when the error was made; the code
        // and detail are what an operator reads in `steward jobs list`.
        JobError::retry(format!("{}: {}", e.code, e.detail))
    }
}

impl From<steward_store::StoreError> for JobError {
    fn from(e: steward_store::StoreError) -> Self {
        Error::from(e).into()
    }
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Where and when a job runs, and what keeps it single.
#[derive(Debug, Clone, Default)]
pub struct Enqueue {
    pub org: Option<OrgId>,
    /// Later than now; default now.
    pub run_at: Option<Timestamp>,
    /// While a job with this key is still to run, another is not enqueued.
    pub dedupe_key: Option<String>,
}

/// The row for a job of kind `J`.
pub fn new_job<J: Job>(job: &J, opts: Enqueue, now: Timestamp) -> Result<NewJob> {
    let payload = serde_json::to_string(job).map_err(|e| {
        tracing::error!(kind = J::KIND, error = %e, "a job payload does not serialize");
        Error::internal()
    })?;
    Ok(NewJob {
        kind: J::KIND,
        payload,
        org_id: opts.org,
        run_at: opts.run_at.unwrap_or(now),
        max_attempts: J::MAX_ATTEMPTS,
        dedupe_key: opts.dedupe_key,
    })
}

/// Enqueues `job` in the caller's transaction; `None` when its dedupe key is
/// taken by a job still to run.
pub async fn enqueue<J: Job>(tx: &mut WriteTx, job: &J, opts: Enqueue, now: Timestamp) -> Result<Option<JobId>> {
    Ok(jobs::enqueue(tx, new_job(job, opts, now)?, now).await?)
}

type Started = BoxFuture<'static, std::result::Result<(), JobError>>;
type Handler = Arc<dyn Fn(&str, JobCtx) -> std::result::Result<Started, JobError> + Send + Sync>;

/// The kinds a worker knows, by name.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.handlers.keys()).finish()
    }
}

impl Registry {
    /// Every kind Steward runs.
    pub fn standard() -> Self {
        Registry::default()
            .with::<audit_retention::AuditRetention>()
            .with::<rollup_upkeep::RollupUpkeep>()
            .with::<noop::Noop>()
            .with::<mail::Mail>()
            .with::<webhooks::Fanout>()
            .with::<webhooks::Attempt>()
            .with::<credits::CreditAlert>()
            .with::<credits::CreditsExpiry>()
            .with::<reports::Generate>()
            .with::<reports::ReportsExpiry>()
    }

    /// Adds a kind (tests add their own).
    pub fn with<J: Job>(mut self) -> Self {
        let handler: Handler = Arc::new(|payload: &str, ctx: JobCtx| {
            let job: J = serde_json::from_str(payload)
                .map_err(|e| JobError::permanent(format!("the {} payload no longer parses: {e}", J::KIND)))?;
            Ok(Box::pin(job.run(ctx)) as Started)
        });
        self.handlers.insert(J::KIND, handler);
        self
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<_> = self.handlers.keys().copied().collect();
        kinds.sort_unstable();
        kinds
    }

    /// The job's run, ready to poll; a permanent error when its kind is
    /// unknown or its payload does not parse.
    pub(crate) fn start(&self, kind: &str, payload: &str, ctx: JobCtx) -> std::result::Result<Started, JobError> {
        match self.handlers.get(kind) {
            Some(handler) => handler(payload, ctx),
            None => Err(JobError::permanent(format!(
                "unknown job kind `{kind}`: this version of Steward runs {}; retry it (`steward jobs retry`) on a version that knows it",
                self.kinds().join(", ")
            ))),
        }
    }
}
