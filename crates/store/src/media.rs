//! Media files of a workspace: the rows here, the bytes in the storage folder.

use sqlx::any::AnyRow;
use steward_core::ids::{MediaId, OrgId, WorkspaceId};
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::row::{int, opt_text, text, time};
use crate::scope::WorkspaceScope;
use crate::workspaces::{Counter, adjust};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub id: MediaId,
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub filename: String,
    pub content_type: String,
    pub bytes: i64,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
}

const COLUMNS: &str = "id, org_id, workspace_id, filename, content_type, bytes, created_by, created_at";

fn from_row(r: &AnyRow) -> StoreResult<Media> {
    Ok(Media {
        id: MediaId::from_trusted(text(r, "id")?),
        org_id: OrgId::from_trusted(text(r, "org_id")?),
        workspace_id: WorkspaceId::from_trusted(text(r, "workspace_id")?),
        filename: text(r, "filename")?,
        content_type: text(r, "content_type")?,
        bytes: int(r, "bytes")?,
        created_by: opt_text(r, "created_by")?,
        created_at: time(r, "created_at")?,
    })
}

pub async fn insert(c: &mut WriteTx, ws: &WorkspaceScope, x: &Media) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO media (id, org_id, workspace_id, filename, content_type, bytes, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(x.id.as_str())
    .bind(ws.org_id().as_str())
    .bind(ws.id().as_str())
    .bind(&x.filename)
    .bind(&x.content_type)
    .bind(x.bytes)
    .bind(&x.created_by)
    .bind(x.created_at.millis())
    .execute(&mut **c)
    .await?;
    adjust(c, ws.id(), Counter::StorageBytes, x.bytes).await
}

pub async fn get(c: &mut Conn, ws: &WorkspaceScope, id: &MediaId) -> StoreResult<Option<Media>> {
    let sql = format!("SELECT {COLUMNS} FROM media WHERE workspace_id = $1 AND org_id = $3 AND id = $2");
    crate::row::one(c, sql, vec![ws.as_str().into(), id.as_str().into(), ws.org_id().as_str().into()], from_row).await
}

pub async fn list(c: &mut Conn, ws: &WorkspaceScope, after: Option<&str>, limit: i64) -> StoreResult<Vec<Media>> {
    let sql =
        format!("SELECT {COLUMNS} FROM media WHERE workspace_id = $1 AND org_id = $4 AND id > $2 ORDER BY id LIMIT $3");
    crate::row::all(
        c,
        sql,
        vec![ws.as_str().into(), after.unwrap_or("").into(), limit.into(), ws.org_id().as_str().into()],
        from_row,
    )
    .await
}

pub async fn delete(c: &mut WriteTx, ws: &WorkspaceScope, x: &Media) -> StoreResult<bool> {
    let res = sqlx::query("DELETE FROM media WHERE workspace_id = $1 AND org_id = $3 AND id = $2")
        .bind(ws.id().as_str())
        .bind(x.id.as_str())
        .bind(ws.org_id().as_str())
        .execute(&mut **c)
        .await?;
    if res.rows_affected() == 1 {
        adjust(c, ws.id(), Counter::StorageBytes, -x.bytes).await?;
    }
    Ok(res.rows_affected() == 1)
}
