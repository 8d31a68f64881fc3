//! Social platform connections of a workspace.

use sqlx::any::AnyRow;
use steward_core::ids::{ConnectionId, OrgId, WorkspaceId};
use steward_core::time::Timestamp;
use steward_core::workspaces::{ConnectionStatus, Platform};

use crate::StoreResult;
use crate::db::Conn;
use crate::row::{parsed, text, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: ConnectionId,
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub platform: Platform,
    pub account_name: String,
    pub status: ConnectionStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const COLUMNS: &str = "id, org_id, workspace_id, platform, account_name, status, created_at, updated_at";

fn from_row(r: &AnyRow) -> StoreResult<Connection> {
    Ok(Connection {
        id: ConnectionId::from_trusted(text(r, "id")?),
        org_id: OrgId::from_trusted(text(r, "org_id")?),
        workspace_id: WorkspaceId::from_trusted(text(r, "workspace_id")?),
        platform: parsed(r, "platform", Platform::parse)?,
        account_name: text(r, "account_name")?,
        status: parsed(r, "status", ConnectionStatus::parse)?,
        created_at: time(r, "created_at")?,
        updated_at: time(r, "updated_at")?,
    })
}

pub async fn insert(c: &mut Conn, x: &Connection) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO platform_connections (id, org_id, workspace_id, platform, account_name, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(x.id.as_str())
    .bind(x.org_id.as_str())
    .bind(x.workspace_id.as_str())
    .bind(x.platform.as_str())
    .bind(&x.account_name)
    .bind(x.status.as_str())
    .bind(x.created_at.millis())
    .bind(x.updated_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn update(c: &mut Conn, x: &Connection) -> StoreResult<()> {
    sqlx::query("UPDATE platform_connections SET account_name = $3, status = $4, updated_at = $5 WHERE workspace_id = $1 AND id = $2")
        .bind(x.workspace_id.as_str())
        .bind(x.id.as_str())
        .bind(&x.account_name)
        .bind(x.status.as_str())
        .bind(x.updated_at.millis())
        .execute(c)
        .await?;
    Ok(())
}

pub async fn get(c: &mut Conn, ws: &WorkspaceId, id: &ConnectionId) -> StoreResult<Option<Connection>> {
    let sql = format!("SELECT {COLUMNS} FROM platform_connections WHERE workspace_id = $1 AND id = $2");
    crate::row::one(c, sql, vec![ws.as_str().into(), id.as_str().into()], from_row).await
}

pub async fn list(c: &mut Conn, ws: &WorkspaceId, after: Option<&str>, limit: i64) -> StoreResult<Vec<Connection>> {
    let sql =
        format!("SELECT {COLUMNS} FROM platform_connections WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3");
    crate::row::all(c, sql, vec![ws.as_str().into(), after.unwrap_or("").into(), limit.into()], from_row).await
}

pub async fn delete(c: &mut Conn, ws: &WorkspaceId, id: &ConnectionId) -> StoreResult<bool> {
    let res = sqlx::query("DELETE FROM platform_connections WHERE workspace_id = $1 AND id = $2")
        .bind(ws.as_str())
        .bind(id.as_str())
        .execute(c)
        .await?;
    Ok(res.rows_affected() == 1)
}
