//! Background jobs in the `jobs` table: enqueued inside a use case's
//! [`WriteTx`] (so a rolled-back change enqueues nothing), claimed by workers
//! with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one
//! writer), and finished, retried or declared dead. What a job *does* lives in
//! the server crate; this module only keeps the rows.
//!
//! Every write after the enqueue is the worker's bookkeeping, nobody's action:
//! short deployment transactions committed unaudited. Each is guarded by the
//! claim (`locked_by` and the attempt number), so a worker whose lease ran out
//! and was taken over can no longer finish or fail the job.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::any::AnyRow;
use steward_core::ids::{JobId, OrgId};
use steward_core::time::Timestamp;
use tokio::sync::Notify;

use crate::db::{Conn, Db, WriteTx};
use crate::listen::Heard;
use crate::row::{Arg, Sql, int, opt_text, opt_time, parsed, text, time};
use crate::{Engine, StoreResult};

/// The channel enqueues are announced on (PostgreSQL).
pub(crate) const CHANNEL: &str = "steward_jobs";

/// The longest `last_error` kept; a handler's error can be a whole backtrace.
const MAX_ERROR_CHARS: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for `run_at`.
    Pending,
    /// Claimed by a worker until `locked_until`.
    Running,
    Done,
    /// An attempt failed; it runs again at `run_at`.
    Failed,
    /// Out of attempts, or never runnable; `last_error` says why.
    Dead,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 6] =
        [JobState::Pending, JobState::Running, JobState::Done, JobState::Failed, JobState::Dead, JobState::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// A job to enqueue. `payload` is the kind's JSON.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: &'static str,
    pub payload: String,
    pub org_id: Option<OrgId>,
    pub run_at: Timestamp,
    pub max_attempts: i64,
    /// While a job with this key is pending, running or failed, another is not enqueued.
    pub dedupe_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub payload: String,
    pub org_id: Option<OrgId>,
    pub state: JobState,
    /// Attempts started, this one included while it runs.
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: Timestamp,
    pub locked_by: Option<String>,
    pub locked_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub dedupe_key: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// When the latest attempt was claimed.
    pub started_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, kind, payload, org_id, state, attempts, max_attempts, run_at, locked_by, locked_until, \
                       last_error, dedupe_key, created_at, updated_at, finished_at, started_at";

fn job(r: &AnyRow) -> StoreResult<Job> {
    Ok(Job {
        id: JobId::from_trusted(text(r, "id")?),
        kind: text(r, "kind")?,
        payload: text(r, "payload")?,
        org_id: opt_text(r, "org_id")?.map(OrgId::from_trusted),
        state: parsed(r, "state", JobState::parse)?,
        attempts: int(r, "attempts")?,
        max_attempts: int(r, "max_attempts")?,
        run_at: time(r, "run_at")?,
        locked_by: opt_text(r, "locked_by")?,
        locked_until: opt_time(r, "locked_until")?,
        last_error: opt_text(r, "last_error")?,
        dedupe_key: opt_text(r, "dedupe_key")?,
        created_at: time(r, "created_at")?,
        updated_at: time(r, "updated_at")?,
        finished_at: opt_time(r, "finished_at")?,
        started_at: opt_time(r, "started_at")?,
    })
}

/// Enqueues a job in the caller's transaction: it exists, and workers hear
/// of it, only if that transaction commits. `None` when a job with the same
/// dedupe key is still to run (nothing was added).
pub async fn enqueue(tx: &mut WriteTx, new: NewJob, now: Timestamp) -> StoreResult<Option<JobId>> {
    let id = JobId::new();
    // No conflict target: the partial unique index on dedupe_key is the only
    // one a fresh id can hit, and both engines skip the row instead of failing
    // (which on PostgreSQL would abort the caller's transaction).
    let inserted = sqlx::query(
        "INSERT INTO jobs (id, kind, payload, org_id, state, attempts, max_attempts, run_at, dedupe_key, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $7, $8, $8) ON CONFLICT DO NOTHING",
    )
    .bind(id.as_str())
    .bind(new.kind)
    .bind(&new.payload)
    .bind(new.org_id.as_ref().map(|o| o.as_str().to_owned()))
    .bind(new.max_attempts.max(1))
    .bind(new.run_at.millis())
    .bind(new.dedupe_key.clone())
    .bind(now.millis())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(None);
    }
    tx.enqueued_job(new.kind).await?;
    Ok(Some(id))
}

/// Claims up to `limit` jobs that are due (or whose lease ran out) for
/// `worker` until `now + lease`, counting the attempt. On PostgreSQL rows
/// another worker is claiming are skipped, not waited for.
pub async fn claim(db: &Db, worker: &str, now: Timestamp, lease: Duration, limit: i64) -> StoreResult<Vec<Job>> {
    let mut tx = db.write_deployment().await?;
    let lock = if Engine::of(&tx) == Engine::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2, updated_at = $3, started_at = $3 \
         WHERE id IN (SELECT id FROM jobs \
           WHERE (state IN ('pending', 'failed') AND run_at <= $3) OR (state = 'running' AND locked_until <= $3) \
           ORDER BY run_at LIMIT $4{lock}) \
         RETURNING {COLUMNS}"
    );
    let until = now.millis().saturating_add(lease.as_millis() as i64);
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(worker)
        .bind(until)
        .bind(now.millis())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    let mut jobs = rows.iter().map(job).collect::<StoreResult<Vec<_>>>()?;
    tx.commit_unaudited().await?;
    jobs.sort_by_key(|j| j.run_at);
    Ok(jobs)
}

/// When the next waiting job is due (pending, or failed and waiting for its
/// retry): a worker with nothing to do sleeps until then, not a whole poll.
pub async fn next_due(c: &mut Conn) -> StoreResult<Option<Timestamp>> {
    let (at,): (Option<i64>,) =
        sqlx::query_as("SELECT MIN(run_at) FROM jobs WHERE state IN ('pending', 'failed')").fetch_one(c).await?;
    Ok(at.map(Timestamp::from_millis))
}

/// How many jobs are in each live state, by kind, and when the oldest job
/// that is due now became due: what the metrics show.
pub async fn summary(c: &mut Conn, now: Timestamp) -> StoreResult<(Vec<(String, JobState, i64)>, Option<Timestamp>)> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT kind, state, COUNT(*) FROM jobs WHERE state IN ('pending', 'running', 'failed', 'dead') GROUP BY kind, state",
    )
    .fetch_all(&mut *c)
    .await?;
    let counts = rows.into_iter().filter_map(|(k, s, n)| JobState::parse(&s).map(|s| (k, s, n))).collect();
    let (oldest,): (Option<i64>,) =
        sqlx::query_as("SELECT MIN(run_at) FROM jobs WHERE state IN ('pending', 'failed') AND run_at <= $1")
            .bind(now.millis())
            .fetch_one(c)
            .await?;
    Ok((counts, oldest.map(Timestamp::from_millis)))
}

/// An update of a claimed job, applied only while the claim still holds.
async fn update_claimed(db: &Db, claimed: &Job, set: &str, args: Vec<Arg>) -> StoreResult<bool> {
    let mut tx = db.write_deployment().await?;
    let mut sql = Sql::new("UPDATE jobs SET ");
    sql.push(set, args);
    sql.push(
        " WHERE id = ? AND state = 'running' AND locked_by = ? AND attempts = ?",
        [
            Arg::Text(claimed.id.to_string()),
            Arg::Text(claimed.locked_by.clone().unwrap_or_default()),
            Arg::Int(claimed.attempts),
        ],
    );
    let (text, args) = sql.query();
    let q = crate::row::bind_all(sqlx::query(sqlx::AssertSqlSafe(text)), args);
    let changed = q.execute(&mut *tx).await?.rows_affected() == 1;
    tx.commit_unaudited().await?;
    Ok(changed)
}

/// Extends the lease of a job still running; `false` when the claim was lost.
pub async fn renew(db: &Db, claimed: &Job, until: Timestamp) -> StoreResult<bool> {
    update_claimed(db, claimed, "locked_until = ?", vec![Arg::Int(until.millis())]).await
}

/// The job succeeded.
pub async fn complete(db: &Db, claimed: &Job, now: Timestamp) -> StoreResult<bool> {
    update_claimed(
        db,
        claimed,
        "state = 'done', locked_by = NULL, locked_until = NULL, updated_at = ?, finished_at = ?",
        vec![Arg::Int(now.millis()), Arg::Int(now.millis())],
    )
    .await
}

/// The attempt failed with `error`: again at `retry_at`, or dead when `None`.
pub async fn fail(
    db: &Db,
    claimed: &Job,
    now: Timestamp,
    error: &str,
    retry_at: Option<Timestamp>,
) -> StoreResult<bool> {
    let error = Arg::Text(error.chars().take(MAX_ERROR_CHARS).collect());
    let now = Arg::Int(now.millis());
    match retry_at {
        Some(at) => {
            let set =
                "state = 'failed', run_at = ?, last_error = ?, locked_by = NULL, locked_until = NULL, updated_at = ?";
            update_claimed(db, claimed, set, vec![Arg::Int(at.millis()), error, now]).await
        }
        None => {
            let set = "state = 'dead', last_error = ?, locked_by = NULL, locked_until = NULL, updated_at = ?, finished_at = ?";
            update_claimed(db, claimed, set, vec![error, now.clone(), now]).await
        }
    }
}

/// Gives a job back unfinished (the worker is stopping): due at once, and the
/// attempt does not count.
pub async fn release(db: &Db, claimed: &Job, now: Timestamp) -> StoreResult<bool> {
    let set =
        "state = 'pending', attempts = attempts - 1, run_at = ?, locked_by = NULL, locked_until = NULL, updated_at = ?";
    update_claimed(db, claimed, set, vec![Arg::Int(now.millis()), Arg::Int(now.millis())]).await
}

pub async fn get(c: &mut Conn, id: &JobId) -> StoreResult<Option<Job>> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
    crate::row::one(c, sql, vec![Arg::Text(id.to_string())], job).await
}

/// Newest first, optionally of one state and one kind.
pub async fn list(c: &mut Conn, state: Option<JobState>, kind: Option<&str>, limit: i64) -> StoreResult<Vec<Job>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM jobs WHERE 1 = 1"));
    if let Some(s) = state {
        sql.push(" AND state = ?", [Arg::from(s.as_str())]);
    }
    if let Some(k) = kind {
        sql.push(" AND kind = ?", [Arg::from(k)]);
    }
    sql.push(" ORDER BY created_at DESC, id DESC LIMIT ?", [Arg::Int(limit)]);
    let (text, args) = sql.query();
    crate::row::all(c, text, args, job).await
}

/// What an operator's change to a job found.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Done(Box<Job>),
    NotFound,
    /// The job is in a state the change does not apply to.
    Refused(JobState),
    /// A retry would make a second job with a dedupe key still to run.
    Duplicate,
}

/// Makes a dead, failed or cancelled job due now with a fresh set of attempts.
pub async fn retry(tx: &mut WriteTx, id: &JobId, now: Timestamp) -> StoreResult<Change> {
    let Some(current) = get(tx, id).await? else { return Ok(Change::NotFound) };
    if !matches!(current.state, JobState::Dead | JobState::Failed | JobState::Cancelled) {
        return Ok(Change::Refused(current.state));
    }
    // A dead or cancelled job is outside the dedupe index; coming back, it
    // must not become a second job with its key.
    if current.state != JobState::Failed
        && let Some(key) = &current.dedupe_key
    {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM jobs WHERE dedupe_key = $1 AND state IN ('pending', 'running', 'failed') AND id <> $2",
        )
        .bind(key)
        .bind(id.as_str())
        .fetch_one(&mut **tx)
        .await?;
        if n > 0 {
            return Ok(Change::Duplicate);
        }
    }
    let set = "state = 'pending', attempts = 0, run_at = $2, updated_at = $2, finished_at = NULL";
    let change = change(tx, &current, now, set).await?;
    if matches!(change, Change::Done(_)) {
        tx.enqueued_job(&current.kind).await?;
    }
    Ok(change)
}

/// Stops a job that has not started (pending, or waiting for a retry).
pub async fn cancel(tx: &mut WriteTx, id: &JobId, now: Timestamp) -> StoreResult<Change> {
    let Some(current) = get(tx, id).await? else { return Ok(Change::NotFound) };
    if !matches!(current.state, JobState::Pending | JobState::Failed) {
        return Ok(Change::Refused(current.state));
    }
    change(tx, &current, now, "state = 'cancelled', updated_at = $2, finished_at = $2").await
}

/// Applies `set` if the job is still in the state it was read in.
async fn change(tx: &mut WriteTx, current: &Job, now: Timestamp, set: &str) -> StoreResult<Change> {
    let sql = format!("UPDATE jobs SET {set} WHERE id = $1 AND state = $3");
    let changed = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(current.id.as_str())
        .bind(now.millis())
        .bind(current.state.as_str())
        .execute(&mut **tx)
        .await?;
    let after = get(tx, &current.id).await?;
    Ok(match after {
        None => Change::NotFound,
        Some(job) if changed.rows_affected() == 1 => Change::Done(Box::new(job)),
        // A worker claimed it between the read and the update.
        Some(job) => Change::Refused(job.state),
    })
}

/// Records that `schedule` fired for the period starting at `period_start`.
/// `true` for exactly one caller per period across every instance: that one
/// enqueues the period's pass, in the same transaction.
pub async fn fire(tx: &mut WriteTx, schedule: &str, period_start: Timestamp, now: Timestamp) -> StoreResult<bool> {
    let n = sqlx::query(
        "INSERT INTO job_schedule_runs (schedule, period_start, fired_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(schedule)
    .bind(period_start.millis())
    .bind(now.millis())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// What job workers wait on between claims.
pub struct Wakeup {
    notify: Notify,
    /// The database to listen on (PostgreSQL only).
    url: Option<String>,
    listening: AtomicBool,
}

impl std::fmt::Debug for Wakeup {
    // The URL may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wakeup").field("listening", &self.listening).finish_non_exhaustive()
    }
}

impl Wakeup {
    pub(crate) fn local() -> Arc<Self> {
        Arc::new(Wakeup { notify: Notify::new(), url: None, listening: AtomicBool::new(false) })
    }

    pub(crate) fn shared(url: &str) -> Arc<Self> {
        Arc::new(Wakeup { notify: Notify::new(), url: Some(url.to_owned()), listening: AtomicBool::new(false) })
    }

    /// Resolves at the next wake-up. Made *before* looking for work, it also
    /// catches a wake-up that happens while the worker looks.
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }

    pub fn wake(&self) {
        self.notify.notify_waiters();
    }
}

/// Starts the PostgreSQL listener once; it wakes the workers on every notice,
/// and after a reconnection (notices may have been missed meanwhile). It
/// stops when the `Db` is gone.
pub(crate) fn listen(wakeup: &Arc<Wakeup>) {
    let Some(url) = wakeup.url.clone() else { return };
    if wakeup.listening.swap(true, Ordering::AcqRel) {
        return;
    }
    let weak: Weak<Wakeup> = Arc::downgrade(wakeup);
    tokio::spawn(async move {
        crate::listen::listen(&url, CHANNEL, "new jobs", "polling meanwhile", |heard| {
            let Some(w) = weak.upgrade() else { return false };
            if matches!(heard, Heard::Notice(_) | Heard::Reconnected) {
                w.wake();
            }
            true
        })
        .await;
    });
}
