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
