//! Reading the audit trail.

use steward_core::Result;
use steward_core::authz::Access;
use steward_core::pagination::{self, Page};
use steward_store::Db;
use steward_store::audit::{self, AuditEvent};

use super::Ctx;

pub async fn list(db: &Db, ctx: &Ctx, page: &Page) -> Result<(Vec<AuditEvent>, Option<String>)> {
    ctx.principal.require(Access::OrgRead)?;
    if page.after.as_deref().is_some_and(|a| a.parse::<i64>().is_err()) {
        return Err(steward_core::pagination::decode_cursor("").unwrap_err());
    }
    let mut c = db.conn().await?;
    let rows = audit::list(&mut c, ctx.org_id(), page).await?;
    Ok(pagination::finish(rows, page, |e| e.seq.to_string()))
}
