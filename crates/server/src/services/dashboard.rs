//! The organization dashboard (ORG-2, ORG-3).

use steward_core::authz::Access;
use steward_core::time::period_starts;
use steward_core::{Error, Result};
use steward_store::dashboard::{self, Figures};
use steward_store::{Db, organizations};

use super::Ctx;

pub async fn figures(db: &Db, ctx: &Ctx) -> Result<(Figures, String)> {
    ctx.principal.require(Access::OrgRead)?;
    let mut c = db.conn().await?;
    let org = organizations::get(&mut c, ctx.org_id()).await?.ok_or_else(Error::internal)?;
    let (month, week) = period_starts(ctx.now, &org.timezone);
    Ok((dashboard::figures(&mut c, ctx.org_id(), month, week).await?, org.timezone))
}
