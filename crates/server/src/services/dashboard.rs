//! The organization dashboard (ORG-2, ORG-3).

use steward_core::permissions::Permission;
use steward_core::time::period_starts;
use steward_core::{Error, Result};
use steward_store::dashboard::{self, Figures};
use steward_store::{Db, organizations};

use super::Ctx;

pub async fn figures(db: &Db, ctx: &Ctx) -> Result<(Figures, String)> {
    let org = ctx.authorize(Permission::OrganizationRead)?;
    let mut c = db.conn().await?;
    let organization = organizations::get(&mut c, &org).await?.ok_or_else(Error::internal)?;
    let (month, week) = period_starts(ctx.now, &organization.timezone);
    Ok((dashboard::figures(&mut c, &org, month, week).await?, organization.timezone))
}

/// Rollup slots are kept this long: the dashboard sums at most the current
/// month (31 days) in the organization's zone (offsets up to 14 h).
pub const ROLLUP_KEEP_DAYS: i64 = 35;

/// Drops the organization's rollup slots the dashboard no longer reads (the
/// hourly upkeep job); how many went.
pub async fn prune_rollups(db: &Db, ctx: &Ctx) -> Result<u64> {
    let org = ctx.authorize(Permission::OrganizationWrite)?;
    let mut tx = db.write(&org).await?;
    let pruned =
        steward_store::activity::prune(&mut tx, &org, ctx.now.plus_seconds(-ROLLUP_KEEP_DAYS * 86_400)).await?;
    // Derived counters, nobody's action: no audit event.
    tx.commit_unaudited().await?;
    Ok(pruned)
}
