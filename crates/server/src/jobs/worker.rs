//! The worker: claims due jobs, runs up to `concurrency` at once with a
//! lease it keeps renewing, records how each ended, fires the schedules, and
//! on shutdown lets running jobs finish for a grace period before giving the
//! rest back.
//!
//! It wakes on [`steward_store::Db::job_wakeup`] (an enqueue in this process, or on
//! PostgreSQL a `NOTIFY` from any instance), so a job starts within
//! milliseconds of its commit; a job for later is waited for until its
//! `run_at`; a slow poll is the safety net for notices missed.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use steward_core::ids::JobId;
use steward_core::time::Timestamp;
use steward_store::jobs::{self, Job as Row};
use tokio::task::JoinSet;

use super::schedule::{self, Schedule};
use super::{JobCtx, JobError, Registry};
use crate::AppState;

/// Retry delays: `base · 2^(attempt-1)`, at most `cap`, ±20 % so jobs that
/// failed together don't retry together.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// The wait after failed attempt `attempt` (1-based) of job `id`. The
    /// jitter comes from the id and attempt: spread across jobs, repeatable
    /// for one.
    pub fn delay(&self, id: &JobId, attempt: i64) -> Duration {
        let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let plain = self.base.saturating_mul(2u32.saturating_pow(exp)).min(self.cap);
        let mut h = DefaultHasher::new();
        (id.as_str(), attempt).hash(&mut h);
        let factor = 0.8 + 0.4 * ((h.finish() % 10_000) as f64 / 10_000.0);
        plain.mul_f64(factor)
    }
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Written into `locked_by`: which process holds a job.
    pub name: String,
    pub concurrency: usize,
    /// How long a claim holds without renewal; renewed every third of it.
    pub lease: Duration,
    /// The safety net when no wake-up comes.
    pub poll: Duration,
    /// How often the schedules are asked whether a period is due.
    pub schedule_every: Duration,
    /// On shutdown, how long running jobs may take to finish before they are given back.
    pub grace: Duration,
    pub backoff: Backoff,
}

impl WorkerConfig {
    pub fn new(concurrency: usize) -> Self {
        WorkerConfig {
            name: format!("w{}-{}", std::process::id(), &JobId::new().as_str()[4..]),
            concurrency: concurrency.max(1),
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(5),
            schedule_every: Duration::from_secs(30),
            grace: Duration::from_secs(20),
            backoff: Backoff { base: Duration::from_secs(10), cap: Duration::from_secs(3600) },
        }
    }
}

#[derive(Clone)]
pub struct Worker {
    /// The database and clock it works on; what jobs reach through their [`JobCtx`].
    app: AppState,
    registry: Arc<Registry>,
    schedules: Arc<Vec<Schedule>>,
    config: Arc<WorkerConfig>,
}

/// Attempts this process ran, by kind and how they ended (`steward_jobs` is the table's state).
const RUNS: &str = "steward_job_runs_total";
const RUNS_HELP: &str = "Job attempts this process ran, by kind and outcome (done, retry, dead, lost).";

/// How one claimed job ended, for the log and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Failed; due again at this time.
    Retry(Timestamp),
    Dead(String),
    /// Another worker took it after the lease ran out; nothing was recorded.
    Lost,
}

impl Worker {
    /// A worker for `app`'s database, on its clock.
    pub fn new(app: AppState, registry: Registry, config: WorkerConfig) -> Self {
        Worker {
            app,
            registry: Arc::new(registry),
            schedules: Arc::new(schedule::standard()),
            config: Arc::new(config),
        }
    }

    pub fn with_schedules(mut self, schedules: Vec<Schedule>) -> Self {
        self.schedules = Arc::new(schedules);
        self
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Claims what is due now (up to `concurrency`) and runs it to the end:
    /// one step of [`Worker::run`], and what tests drive with a manual clock.
    pub async fn run_due(&self) -> steward_core::Result<Vec<(JobId, Outcome)>> {
        let claimed = self.claim(self.config.concurrency).await?;
        let runs = claimed.into_iter().map(|job| {
            let w = self.clone();
            async move { (job.id.clone(), w.run_one(job).await) }
        });
        Ok(futures_util::future::join_all(runs).await)
    }

    /// Fires the schedules whose period is due (see [`schedule::fire_due`]).
    pub async fn fire_schedules(&self) -> steward_core::Result<Vec<&'static str>> {
        schedule::fire_due(&self.app.db, &self.schedules, self.app.clock.now()).await
    }

    async fn claim(&self, n: usize) -> steward_core::Result<Vec<Row>> {
        let now = self.app.clock.now();
        Ok(jobs::claim(&self.app.db, &self.config.name, now, self.config.lease, n as i64).await?)
    }

    /// Runs until `shutdown` resolves, then lets running jobs finish for the
    /// grace period and gives back the ones that did not.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        self.app.db.listen_for_jobs();
        tokio::pin!(shutdown);
        let mut running: JoinSet<()> = JoinSet::new();
        let mut held: HashMap<tokio::task::Id, Row> = HashMap::new();
        let mut next_schedule = tokio::time::Instant::now();
        tracing::info!(worker = %self.config.name, concurrency = self.config.concurrency, kinds = ?self.registry, "worker started");
        loop {
            // Made before looking, so an enqueue committed meanwhile still wakes us.
            let wake = self.app.db.job_wakeup().notified();
            tokio::pin!(wake);
            if tokio::time::Instant::now() >= next_schedule {
                if let Err(e) = self.fire_schedules().await {
                    tracing::warn!(error = %e, "firing schedules failed; trying again soon");
                }
                next_schedule = tokio::time::Instant::now() + self.config.schedule_every;
            }
            let free = self.config.concurrency.saturating_sub(running.len());
            let mut full = free == 0;
            if free > 0 {
                match self.claim(free).await {
                    Ok(claimed) => {
                        full = claimed.len() == free;
                        for job in claimed {
                            let w = self.clone();
                            let row = job.clone();
                            let handle = running.spawn(async move {
                                let id = job.id.clone();
                                let outcome = w.run_one(job).await;
                                tracing::debug!(job = %id, ?outcome, "job ended");
                            });
                            held.insert(handle.id(), row);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "claiming jobs failed; trying again soon"),
                }
            }
            let until_schedule = next_schedule.saturating_duration_since(tokio::time::Instant::now());
            let nap = if full { self.config.poll } else { self.until_next_due().await };
            tokio::select! {
                _ = &mut shutdown => break,
                // A slot freed: look again (at once useful when the last claim filled every slot).
                Some(done) = running.join_next_with_id(), if !running.is_empty() => {
                    forget(&mut held, done);
                    // Every slot freed meanwhile too, so one claim refills them all.
                    while let Some(done) = running.try_join_next_with_id() {
                        forget(&mut held, done);
                    }
                }
                // While every slot is taken, a wake-up waits for a free one.
                _ = &mut wake, if !full => {}
                _ = tokio::time::sleep(nap.min(until_schedule)) => {}
            }
        }
        self.stop(running, held).await;
    }

    /// How long until the next waiting job is due, at most a poll.
    async fn until_next_due(&self) -> Duration {
        let next = async { steward_store::jobs::next_due(&mut *self.app.db.conn().await?).await };
        match next.await {
            Ok(Some(at)) => {
                let ms = at.millis().saturating_sub(self.app.clock.now().millis()).max(0);
                // A floor, so a due job another worker is claiming right now can't spin this loop.
                Duration::from_millis(u64::try_from(ms).unwrap_or(0))
                    .max(Duration::from_millis(20))
                    .min(self.config.poll)
            }
            Ok(None) => self.config.poll,
            Err(e) => {
                tracing::warn!(error = %e, "could not read when the next job is due");
                self.config.poll
            }
        }
    }

    async fn stop(&self, mut running: JoinSet<()>, mut held: HashMap<tokio::task::Id, Row>) {
        tracing::info!(running = running.len(), "worker stopping; letting running jobs finish");
        let finish = async {
            while let Some(done) = running.join_next_with_id().await {
                forget(&mut held, done);
            }
        };
        if tokio::time::timeout(self.config.grace, finish).await.is_err() {
            running.abort_all();
            while running.join_next().await.is_some() {}
            let now = self.app.clock.now();
            for job in held.values() {
                // Guarded by the claim: a job that ended meanwhile is left as it ended.
                match jobs::release(&self.app.db, job, now).await {
                    Ok(true) => tracing::info!(job = %job.id, kind = %job.kind, "gave back an unfinished job"),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(job = %job.id, error = %e, "could not give a job back; its lease will run out")
                    }
                }
            }
        }
        tracing::info!("worker stopped");
    }

    /// Runs one claimed job and records how it ended.
    async fn run_one(&self, job: Row) -> Outcome {
        let outcome = if job.attempts > job.max_attempts {
            // Claimed again only because its lease kept running out: the
            // worker died (or hung) during every attempt.
            Err(JobError::permanent(format!(
                "its lease ran out during each of its {} attempts (the worker stopped mid-job)",
                job.max_attempts
            )))
        } else {
            let ctx =
                JobCtx { app: self.app.clone(), id: job.id.clone(), org_id: job.org_id.clone(), attempt: job.attempts };
            match self.registry.start(&job.kind, &job.payload, ctx) {
                Err(e) => Err(e),
                Ok(run) => {
                    let run = AssertUnwindSafe(run).catch_unwind();
                    tokio::select! {
                        r = run => r.unwrap_or_else(|_| Err(JobError::retry("the job panicked"))),
                        () = self.keep_lease(&job) => return Outcome::Lost,
                    }
                }
            }
        };
        let now = self.app.clock.now();
        let (recorded, outcome) = match outcome {
            Ok(()) => (jobs::complete(&self.app.db, &job, now).await, Outcome::Done),
            Err(e) if e.permanent || job.attempts >= job.max_attempts => {
                tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = %e, "job is dead");
                let recorded = jobs::fail(&self.app.db, &job, now, &e.message, None).await;
                (recorded, Outcome::Dead(e.message))
            }
            Err(e) => {
                let wait = self.config.backoff.delay(&job.id, job.attempts);
                let at = after(now, wait);
                tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %e, retry_at = %at, "job failed; will retry");
                (jobs::fail(&self.app.db, &job, now, &e.message, Some(at)).await, Outcome::Retry(at))
            }
        };
        let outcome = match recorded {
            Ok(true) => outcome,
            Ok(false) => Outcome::Lost,
            Err(e) => {
                // The lease runs out and the job runs again (handlers are idempotent).
                tracing::warn!(job = %job.id, error = %e, "could not record how a job ended");
                Outcome::Lost
            }
        };
        let label = match &outcome {
            Outcome::Done => "done",
            Outcome::Retry(_) => "retry",
            Outcome::Dead(_) => "dead",
            Outcome::Lost => "lost",
        };
        self.app.metrics.add(RUNS, RUNS_HELP, &[("kind", job.kind.as_str()), ("outcome", label)], 1);
        outcome
    }

    /// Renews the job's lease every third of it; returns when the claim is lost.
    async fn keep_lease(&self, job: &Row) {
        loop {
            tokio::time::sleep(self.config.lease / 3).await;
            let until = after(self.app.clock.now(), self.config.lease);
            match jobs::renew(&self.app.db, job, until).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(job = %job.id, "lost a job's lease to another worker; stopping this run");
                    return;
                }
                Err(e) => tracing::warn!(job = %job.id, error = %e, "could not renew a job's lease"),
            }
        }
    }
}

fn forget(
    held: &mut HashMap<tokio::task::Id, Row>,
    done: std::result::Result<(tokio::task::Id, ()), tokio::task::JoinError>,
) {
    match done {
        Ok((id, ())) => {
            held.remove(&id);
        }
        // A panic inside run_one's bookkeeping (the handler's own panics are
        // caught): the lease runs out and another attempt follows.
        Err(e) => {
            tracing::error!(error = %e, "a job task failed");
            held.remove(&e.id());
        }
    }
}

/// `t` plus `d`.
fn after(t: Timestamp, d: Duration) -> Timestamp {
    Timestamp::from_millis(t.millis().saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
}
