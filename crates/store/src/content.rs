//! Content items (posts) of a workspace. Deleting one sets `deleted_at`; the
//! retention job purges them later.

use sqlx::any::AnyRow;
use steward_core::ids::{CampaignId, ContentId, OrgId, WorkspaceId};
use steward_core::time::Timestamp;
use steward_core::workspaces::ContentStatus;

use crate::StoreResult;
use crate::activity::{self, Metric};
use crate::db::{Conn, WriteTx};
use crate::row::{opt_text, opt_time, parsed, text, time};
use crate::scope::WorkspaceScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub id: ContentId,
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub campaign_id: Option<CampaignId>,
    pub title: String,
    pub body: Option<String>,
    pub status: ContentStatus,
    pub scheduled_at: Option<Timestamp>,
    pub published_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const COLUMNS: &str = "id, org_id, workspace_id, campaign_id, title, body, status, scheduled_at, published_at, deleted_at, created_by, created_at, updated_at";

fn from_row(r: &AnyRow) -> StoreResult<Content> {
    Ok(Content {
        id: ContentId::from_trusted(text(r, "id")?),
        org_id: OrgId::from_trusted(text(r, "org_id")?),
        workspace_id: WorkspaceId::from_trusted(text(r, "workspace_id")?),
        campaign_id: opt_text(r, "campaign_id")?.map(CampaignId::from_trusted),
        title: text(r, "title")?,
        body: opt_text(r, "body")?,
        status: parsed(r, "status", ContentStatus::parse)?,
        scheduled_at: opt_time(r, "scheduled_at")?,
        published_at: opt_time(r, "published_at")?,
        deleted_at: opt_time(r, "deleted_at")?,
        created_by: opt_text(r, "created_by")?,
        created_at: time(r, "created_at")?,
        updated_at: time(r, "updated_at")?,
    })
}

pub async fn insert(c: &mut WriteTx, ws: &WorkspaceScope, x: &Content) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO content_items (id, org_id, workspace_id, campaign_id, title, body, status, scheduled_at, published_at, deleted_at, \
         created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(x.id.as_str())
    .bind(ws.org_id().as_str())
    .bind(ws.id().as_str())
    .bind(x.campaign_id.as_ref().map(CampaignId::as_str))
    .bind(&x.title)
    .bind(&x.body)
    .bind(x.status.as_str())
    .bind(x.scheduled_at.map(Timestamp::millis))
    .bind(x.published_at.map(Timestamp::millis))
    .bind(x.deleted_at.map(Timestamp::millis))
    .bind(&x.created_by)
    .bind(x.created_at.millis())
    .bind(x.updated_at.millis())
    .execute(&mut **c)
    .await?;
    if let Some(at) = counted(x.published_at, x.deleted_at) {
        activity::bump(c, ws.org_id(), at, Metric::ContentPublished, 1).await?;
    }
    Ok(())
}

/// When content counts as published: published, and not deleted.
fn counted(published_at: Option<Timestamp>, deleted_at: Option<Timestamp>) -> Option<Timestamp> {
    published_at.filter(|_| deleted_at.is_none())
}

pub async fn update(c: &mut WriteTx, ws: &WorkspaceScope, x: &Content) -> StoreResult<()> {
    let before: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT published_at, deleted_at FROM content_items WHERE workspace_id = $1 AND org_id = $3 AND id = $2",
    )
    .bind(ws.id().as_str())
    .bind(x.id.as_str())
    .bind(ws.org_id().as_str())
    .fetch_optional(&mut **c)
    .await?;
    let was = before.and_then(|(p, d)| counted(p.map(Timestamp::from_millis), d.map(Timestamp::from_millis)));
    let now = counted(x.published_at, x.deleted_at);
    if was != now {
        if let Some(at) = was {
            activity::bump(c, ws.org_id(), at, Metric::ContentPublished, -1).await?;
        }
        if let Some(at) = now {
            activity::bump(c, ws.org_id(), at, Metric::ContentPublished, 1).await?;
        }
    }
    sqlx::query(
        "UPDATE content_items SET campaign_id = $3, title = $4, body = $5, status = $6, scheduled_at = $7, published_at = $8, \
         deleted_at = $9, updated_at = $10 WHERE workspace_id = $1 AND org_id = $11 AND id = $2",
    )
    .bind(ws.id().as_str())
    .bind(x.id.as_str())
    .bind(x.campaign_id.as_ref().map(CampaignId::as_str))
    .bind(&x.title)
    .bind(&x.body)
    .bind(x.status.as_str())
    .bind(x.scheduled_at.map(Timestamp::millis))
    .bind(x.published_at.map(Timestamp::millis))
    .bind(x.deleted_at.map(Timestamp::millis))
    .bind(x.updated_at.millis())
    .bind(ws.org_id().as_str())
    .execute(&mut **c)
    .await?;
    Ok(())
}

/// A content item that is not deleted.
pub async fn get(c: &mut Conn, ws: &WorkspaceScope, id: &ContentId) -> StoreResult<Option<Content>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM content_items WHERE workspace_id = $1 AND org_id = $3 AND id = $2 AND deleted_at IS NULL"
    );
    crate::row::one(c, sql, vec![ws.as_str().into(), id.as_str().into(), ws.org_id().as_str().into()], from_row).await
}

pub async fn list(c: &mut Conn, ws: &WorkspaceScope, after: Option<&str>, limit: i64) -> StoreResult<Vec<Content>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM content_items WHERE workspace_id = $1 AND org_id = $4 AND deleted_at IS NULL AND id > $2 ORDER BY id LIMIT $3"
    );
    crate::row::all(
        c,
        sql,
        vec![ws.as_str().into(), after.unwrap_or("").into(), limit.into(), ws.org_id().as_str().into()],
        from_row,
    )
    .await
}
