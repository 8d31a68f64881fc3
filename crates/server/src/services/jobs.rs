//! The operator's view of background jobs: list them, retry a failed or dead
//! one, cancel one that has not started (`steward jobs …`).
//!
//! These changes are deployment bookkeeping, not an organization's data:
//! the audit trail is per organization, so they commit unaudited and are
//! logged instead.

use steward_core::ids::JobId;
use steward_core::permissions::Permission;
use steward_core::validate::Fields;
use steward_core::{Error, FieldError, Result};
use steward_store::Db;
use steward_store::jobs::{self, Change, Job, JobState};

use super::Ctx;

/// The most jobs one list shows.
pub const MAX_LIST: i64 = 1000;

/// Jobs newest first, of one state and kind when given.
pub async fn list(db: &Db, ctx: &Ctx, state: Option<&str>, kind: Option<&str>, limit: i64) -> Result<Vec<Job>> {
    ctx.authorize_deployment(Permission::JobsManage)?;
    let mut f = Fields::new();
    let state = state.filter(|s| !s.is_empty()).and_then(|s| {
        let parsed = JobState::parse(s);
        if parsed.is_none() {
            let names: Vec<_> = JobState::ALL.iter().map(|s| s.as_str()).collect();
            f.push("state", "invalid", format!("must be one of {}", names.join(", ")));
        }
        parsed
    });
    if !(1..=MAX_LIST).contains(&limit) {
        f.push("limit", "out_of_range", format!("must be between 1 and {MAX_LIST}"));
    }
    f.finish()?;
    let mut c = db.conn().await?;
    Ok(jobs::list(&mut c, state, kind.filter(|k| !k.is_empty()), limit).await?)
}

fn job_id(id: &str) -> Result<JobId> {
    id.trim().parse().map_err(|_| Error::validation(vec![FieldError::new("id", "invalid", "must be a job id (job_…)")]))
}

/// A failed, dead or cancelled job runs again now, with its attempts reset.
pub async fn retry(db: &Db, ctx: &Ctx, id: &str) -> Result<Job> {
    ctx.authorize_deployment(Permission::JobsManage)?;
    let id = job_id(id)?;
    let mut tx = db.write_deployment().await?;
    let change = jobs::retry(&mut tx, &id, ctx.now).await?;
    let job = outcome(change, "retried", "only a failed, dead or cancelled job can be retried")?;
    tx.commit_unaudited().await?;
    tracing::info!(job = %job.id, kind = %job.kind, actor = ?ctx.principal.actor().name, "job retried");
    Ok(job)
}

/// A pending or failed (waiting to retry) job will not run.
pub async fn cancel(db: &Db, ctx: &Ctx, id: &str) -> Result<Job> {
    ctx.authorize_deployment(Permission::JobsManage)?;
    let id = job_id(id)?;
    let mut tx = db.write_deployment().await?;
    let change = jobs::cancel(&mut tx, &id, ctx.now).await?;
    let job = outcome(change, "cancelled", "only a pending or failed job can be cancelled")?;
    tx.commit_unaudited().await?;
    tracing::info!(job = %job.id, kind = %job.kind, actor = ?ctx.principal.actor().name, "job cancelled");
    Ok(job)
}

fn outcome(change: Change, verb: &str, rule: &str) -> Result<Job> {
    match change {
        Change::Done(job) => Ok(*job),
        Change::NotFound => Err(Error::new(404, "not_found", "Not found", "No job has this id.")),
        Change::Refused(state) => {
            Err(Error::conflict("job_state", format!("The job is {} and can't be {verb}: {rule}.", state.as_str()))
                .with_extension("current_state", state.as_str()))
        }
        Change::Duplicate => Err(Error::conflict(
            "job_duplicate",
            "Another job with the same dedupe key is still to run; that one will do the work.",
        )),
    }
}
