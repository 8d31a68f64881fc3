//! Social platform connections of a workspace.

use sqlx::any::AnyRow;
use steward_core::ids::{ConnectionId, OrgId, WorkspaceId};
use steward_core::time::Timestamp;
use steward_core::workspaces::{ConnectionStatus, Platform};

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::row::{parsed, text, time};
use crate::scope::WorkspaceScope;

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

pub async fn insert(c: &mut WriteTx, ws: &WorkspaceScope, x: &Connection) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO platform_connections (id, org_id, workspace_id, platform, account_name, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(x.id.as_str())
    .bind(ws.org_id().as_str())
    .bind(ws.id().as_str())
    .bind(x.platform.as_str())
    .bind(&x.account_name)
    .bind(x.status.as_str())
    .bind(x.created_at.millis())
    .bind(x.updated_at.millis())
    .execute(&mut **c)
    .await?;
    Ok(())
}

pub async fn update(c: &mut WriteTx, ws: &WorkspaceScope, x: &Connection) -> StoreResult<()> {
    sqlx::query("UPDATE platform_connections SET account_name = $3, status = $4, updated_at = $5 WHERE workspace_id = $1 AND org_id = $6 AND id = $2")
        .bind(ws.id().as_str())
        .bind(x.id.as_str())
        .bind(&x.account_name)
        .bind(x.status.as_str())
        .bind(x.updated_at.millis())
        .bind(ws.org_id().as_str())
        .execute(&mut **c)
        .await?;
    Ok(())
}

pub async fn get(c: &mut Conn, ws: &WorkspaceScope, id: &ConnectionId) -> StoreResult<Option<Connection>> {
    let sql = format!("SELECT {COLUMNS} FROM platform_connections WHERE workspace_id = $1 AND org_id = $3 AND id = $2");
    crate::row::one(c, sql, vec![ws.as_str().into(), id.as_str().into(), ws.org_id().as_str().into()], from_row).await
}

pub async fn list(c: &mut Conn, ws: &WorkspaceScope, after: Option<&str>, limit: i64) -> StoreResult<Vec<Connection>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM platform_connections WHERE workspace_id = $1 AND org_id = $4 AND id > $2 ORDER BY id LIMIT $3"
    );
    crate::row::all(
        c,
        sql,
        vec![ws.as_str().into(), after.unwrap_or("").into(), limit.into(), ws.org_id().as_str().into()],
        from_row,
    )
    .await
}

pub async fn delete(c: &mut WriteTx, ws: &WorkspaceScope, id: &ConnectionId) -> StoreResult<bool> {
    let res = sqlx::query("DELETE FROM platform_connections WHERE workspace_id = $1 AND org_id = $3 AND id = $2")
        .bind(ws.as_str())
        .bind(id.as_str())
        .bind(ws.org_id().as_str())
        .execute(&mut **c)
        .await?;
    Ok(res.rows_affected() == 1)
}
