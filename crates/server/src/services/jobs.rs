//! The operator's view of background jobs: list them, retry a failed or dead
//! one, cancel one that has not started (`steward jobs …`).
//!
//! These changes are deployment bookkeeping, not an organization's data:
//! the audit trail is per organization, so they commit unaudited and are
//! logged instead.

use steward_core::ids::JobId;
use steward_core::messages::{problem, rule};
use steward_core::permissions::Permission;
use steward_core::validate::Fields;
use steward_core::{Error, Result};
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
            f.push("state", &rule::NOT_ONE_OF, &[("allowed", &names.join(", "))]);
        }
        parsed
    });
    if !(1..=MAX_LIST).contains(&limit) {
        f.push("limit", &rule::OUT_OF_RANGE, &[("range", &format!("1 to {MAX_LIST}"))]);
    }
    f.finish()?;
    let mut c = db.conn().await?;
    Ok(jobs::list(&mut c, state, kind.filter(|k| !k.is_empty()), limit).await?)
}

fn job_id(id: &str) -> Result<JobId> {
    id.trim().parse().map_err(|_| Error::field("id", &rule::INVALID_ID, &[("expected", &"a job id (job_…)")]))
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
        Change::NotFound => {
            Err(Error::new(404, &problem::NOT_FOUND, &[("what", &"job"), ("place", &"this deployment")]))
        }
        Change::Refused(state) => {
            Err(Error::conflict(&problem::JOB_STATE, &[("state", &state.as_str()), ("verb", &verb), ("rule", &rule)])
                .with_extension("current_state", state.as_str()))
        }
        Change::Duplicate => Err(Error::conflict(&problem::JOB_DUPLICATE, &[])),
    }
}
