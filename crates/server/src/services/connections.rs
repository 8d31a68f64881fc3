//! Platform connections (DOMAIN-3): managed by workspace admins.

use serde::Deserialize;
use steward_core::audit::Changes;
use steward_core::ids::{ConnectionId, WorkspaceId};
use steward_core::pagination::{self, Page};
use steward_core::permissions::Permission;
use steward_core::validate::{self, Fields};
use steward_core::workspaces::{self as rules, ConnectionStatus, Platform};
use steward_core::{Error, Result};
use steward_store::connections::{self, Connection};
use steward_store::{Db, audit};

use super::{Ctx, EventExt};

const TARGET: &str = "connection";

pub async fn list(db: &Db, ctx: &Ctx, ws: &WorkspaceId, page: &Page) -> Result<(Vec<Connection>, Option<String>)> {
    let mut c = db.conn().await?;
    let w = ctx.workspace(&mut c, ws, Permission::WorkspacesRead).await?;
    let rows = connections::list(&mut c, &w.scope, page.after.as_deref(), page.fetch_limit()).await?;
    Ok(pagination::finish(rows, page, |x| x.id.to_string()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnection {
    /// `facebook`, `instagram`, `x`, `linkedin`, `tiktok`, `youtube`, `pinterest` or `threads`.
    #[schema(value_type = String, example = "instagram")]
    pub platform: String,
    /// The account's handle or page name on the platform.
    #[schema(max_length = 100)]
    pub account_name: String,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionPatch {
    #[schema(max_length = 100)]
    pub account_name: Option<String>,
    /// `active`, `expired` or `revoked`.
    #[schema(value_type = Option<String>)]
    pub status: Option<String>,
}

pub async fn create(db: &Db, ctx: &Ctx, ws: &WorkspaceId, input: CreateConnection) -> Result<Connection> {
    let mut f = Fields::new();
    let platform = f.check(Platform::parse_field("platform", &input.platform));
    let account = f.check(validate::name("account_name", &input.account_name));
    f.finish()?;
    let (Some(platform), Some(account_name)) = (platform, account) else { return Err(Error::internal()) };
    let mut tx = db.write(&ctx.org()?).await?;
    let w = ctx.workspace(&mut tx, ws, Permission::WorkspacesWrite).await?;
    rules::require_active_for_changes(w.workspace.status, w.workspace.status_reason.as_deref())?;
    let x = Connection {
        id: ConnectionId::new(),
        org_id: w.scope.org_id().clone(),
        workspace_id: w.scope.id().clone(),
        platform,
        account_name,
        status: ConnectionStatus::Active,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    connections::insert(&mut tx, &w.scope, &x).await?;
    let mut changes = Changes::new();
    changes.created("platform", &x.platform).created("account_name", &x.account_name);
    let e = ctx.ws_event(&w.scope, "connection.created", TARGET, &x.id).changes(changes.into_value());
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(x)
}

pub async fn update(
    db: &Db,
    ctx: &Ctx,
    ws: &WorkspaceId,
    id: &ConnectionId,
    patch: ConnectionPatch,
) -> Result<Connection> {
    let mut f = Fields::new();
    let account = patch.account_name.as_deref().and_then(|a| f.check(validate::name("account_name", a)));
    let status = patch.status.as_deref().and_then(|s| f.check(ConnectionStatus::parse_field("status", s)));
    f.finish()?;
    let mut tx = db.write(&ctx.org()?).await?;
    let w = ctx.workspace(&mut tx, ws, Permission::WorkspacesWrite).await?;
    rules::require_active_for_changes(w.workspace.status, w.workspace.status_reason.as_deref())?;
    let before = connections::get(&mut tx, &w.scope, id).await?.ok_or_else(|| Error::not_found("connection"))?;
    let mut after = before.clone();
    if let Some(a) = account {
        after.account_name = a;
    }
    if let Some(s) = status {
        after.status = s;
    }
    let mut changes = Changes::new();
    changes.field("account_name", &before.account_name, &after.account_name).field(
        "status",
        &before.status,
        &after.status,
    );
    if changes.is_empty() {
        return Ok(before);
    }
    after.updated_at = ctx.now;
    connections::update(&mut tx, &w.scope, &after).await?;
    let e = ctx.ws_event(&w.scope, "connection.updated", TARGET, &after.id).changes(changes.into_value());
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(after)
}

pub async fn delete(db: &Db, ctx: &Ctx, ws: &WorkspaceId, id: &ConnectionId) -> Result<()> {
    let mut tx = db.write(&ctx.org()?).await?;
    let w = ctx.workspace(&mut tx, ws, Permission::WorkspacesWrite).await?;
    rules::require_active_for_changes(w.workspace.status, w.workspace.status_reason.as_deref())?;
    let x = connections::get(&mut tx, &w.scope, id).await?.ok_or_else(|| Error::not_found("connection"))?;
    connections::delete(&mut tx, &w.scope, id).await?;
    let meta = serde_json::json!({ "platform": x.platform, "account_name": x.account_name });
    let e = ctx.ws_event(&w.scope, "connection.deleted", TARGET, &x.id).metadata(meta);
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(())
}
