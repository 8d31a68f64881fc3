//! Campaigns of a workspace.

use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use steward_core::ids::{CampaignId, OrgId, WorkspaceId};
use steward_core::time::Timestamp;
use steward_core::workspaces::{CampaignStatus, PausedBy};

use crate::StoreResult;
use crate::activity::{self, Metric};
use crate::db::{Conn, WriteTx};
use crate::row::{int, opt_text, parsed, text, time};
use crate::scope::{OrgScope, WorkspaceScope};
use crate::workspaces::{Counter, adjust};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: CampaignId,
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub status: CampaignStatus,
    pub paused_by: Option<PausedBy>,
    pub cost_credits: i64,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const COLUMNS: &str =
    "id, org_id, workspace_id, name, status, paused_by, cost_credits, created_by, created_at, updated_at";

fn from_row(r: &AnyRow) -> StoreResult<Campaign> {
    Ok(Campaign {
        id: CampaignId::from_trusted(text(r, "id")?),
        org_id: OrgId::from_trusted(text(r, "org_id")?),
        workspace_id: WorkspaceId::from_trusted(text(r, "workspace_id")?),
        name: text(r, "name")?,
        status: parsed(r, "status", CampaignStatus::parse)?,
        paused_by: opt_text(r, "paused_by")?.as_deref().and_then(PausedBy::parse),
        cost_credits: int(r, "cost_credits")?,
        created_by: opt_text(r, "created_by")?,
        created_at: time(r, "created_at")?,
        updated_at: time(r, "updated_at")?,
    })
}

pub async fn insert(c: &mut WriteTx, ws: &WorkspaceScope, x: &Campaign) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO campaigns (id, org_id, workspace_id, name, status, paused_by, cost_credits, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(x.id.as_str())
    .bind(ws.org_id().as_str())
    .bind(ws.id().as_str())
    .bind(&x.name)
    .bind(x.status.as_str())
    .bind(x.paused_by.map(|p| p.as_str()))
    .bind(x.cost_credits)
    .bind(&x.created_by)
    .bind(x.created_at.millis())
    .bind(x.updated_at.millis())
    .execute(&mut **c)
    .await?;
    activity::bump(c, ws.org_id(), x.created_at, Metric::CampaignsCreated, 1).await?;
    if x.status == CampaignStatus::Active {
        activity::adjust_active(c, ws.id(), 1).await?;
    }
    adjust(c, ws.id(), Counter::Campaigns, 1).await
}

pub async fn update(c: &mut WriteTx, ws: &WorkspaceScope, x: &Campaign) -> StoreResult<()> {
    let before: Option<(String,)> =
        sqlx::query_as("SELECT status FROM campaigns WHERE workspace_id = $1 AND org_id = $3 AND id = $2")
            .bind(ws.id().as_str())
            .bind(x.id.as_str())
            .bind(ws.org_id().as_str())
            .fetch_optional(&mut **c)
            .await?;
    let was_active = before.is_some_and(|(s,)| s == CampaignStatus::Active.as_str());
    let is_active = x.status == CampaignStatus::Active;
    activity::adjust_active(c, ws.id(), i64::from(is_active) - i64::from(was_active)).await?;
    sqlx::query(
        "UPDATE campaigns SET name = $3, status = $4, paused_by = $5, cost_credits = $6, updated_at = $7 WHERE workspace_id = $1 AND org_id = $8 AND id = $2",
    )
    .bind(ws.id().as_str())
    .bind(x.id.as_str())
    .bind(&x.name)
    .bind(x.status.as_str())
    .bind(x.paused_by.map(|p| p.as_str()))
    .bind(x.cost_credits)
    .bind(x.updated_at.millis())
    .bind(ws.org_id().as_str())
    .execute(&mut **c)
    .await?;
    Ok(())
}

pub async fn get(c: &mut Conn, ws: &WorkspaceScope, id: &CampaignId) -> StoreResult<Option<Campaign>> {
    let sql = format!("SELECT {COLUMNS} FROM campaigns WHERE workspace_id = $1 AND org_id = $3 AND id = $2");
    crate::row::one(c, sql, vec![ws.as_str().into(), id.as_str().into(), ws.org_id().as_str().into()], from_row).await
}

pub async fn list(c: &mut Conn, ws: &WorkspaceScope, after: Option<&str>, limit: i64) -> StoreResult<Vec<Campaign>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM campaigns WHERE workspace_id = $1 AND org_id = $4 AND id > $2 ORDER BY id LIMIT $3"
    );
    crate::row::all(
        c,
        sql,
        vec![ws.as_str().into(), after.unwrap_or("").into(), limit.into(), ws.org_id().as_str().into()],
        from_row,
    )
    .await
}

/// Pauses every active campaign of a workspace, remembering why; returns how many.
pub async fn pause_active(c: &mut WriteTx, ws: &WorkspaceScope, by: PausedBy, now: Timestamp) -> StoreResult<u64> {
    let res = sqlx::query("UPDATE campaigns SET status = 'paused', paused_by = $2, updated_at = $3 WHERE workspace_id = $1 AND org_id = $4 AND status = 'active'")
        .bind(ws.as_str())
        .bind(by.as_str())
        .bind(now.millis())
        .bind(ws.org_id().as_str())
        .execute(&mut **c)
        .await?;
    activity::adjust_active(c, ws, -(res.rows_affected() as i64)).await?;
    Ok(res.rows_affected())
}

/// Resumes exactly the campaigns paused for this reason; returns how many.
pub async fn resume_paused_by(c: &mut WriteTx, ws: &WorkspaceScope, by: PausedBy, now: Timestamp) -> StoreResult<u64> {
    let res = sqlx::query(
        "UPDATE campaigns SET status = 'active', paused_by = NULL, updated_at = $3 WHERE workspace_id = $1 AND org_id = $4 AND status = 'paused' AND paused_by = $2",
    )
    .bind(ws.as_str())
    .bind(by.as_str())
    .bind(now.millis())
    .bind(ws.org_id().as_str())
    .execute(&mut **c)
    .await?;
    activity::adjust_active(c, ws, res.rows_affected() as i64).await?;
    Ok(res.rows_affected())
}

pub async fn count_active(c: &mut Conn, ws: &WorkspaceScope) -> StoreResult<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM campaigns WHERE workspace_id = $1 AND org_id = $2 AND status = 'active'")
            .bind(ws.as_str())
            .bind(ws.org_id().as_str())
            .fetch_one(c)
            .await?;
    Ok(n)
}

/// Active campaigns per workspace, for the given workspaces.
pub async fn active_counts(
    c: &mut Conn,
    org: &OrgScope,
    ids: &[WorkspaceId],
) -> StoreResult<std::collections::HashMap<String, i64>> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(200) {
        let marks: Vec<String> = (2..=chunk.len() + 1).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT workspace_id, COUNT(*) AS n FROM campaigns WHERE org_id = $1 AND status = 'active' AND workspace_id IN ({}) \
             GROUP BY workspace_id",
            marks.join(", ")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(org.as_str());
        for id in chunk {
            q = q.bind(id.as_str());
        }
        for row in q.fetch_all(&mut *c).await? {
            out.insert(text(&row, "workspace_id")?, int(&row, "n")?);
        }
    }
    Ok(out)
}
