//! `/workspaces/{id}/connections`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use steward_core::ids::{ConnectionId, WorkspaceId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::parse_id;
use super::views::{ConnectionList, ConnectionView};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, ListQuery};
use crate::services::Ctx;
use crate::services::connections::{self, ConnectionPatch, CreateConnection};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_connections, create_connection))
        .routes(routes!(update_connection, delete_connection))
}

#[utoipa::path(get, path = "/workspaces/{id}/connections", tag = "connections", extensions(("x-permission" = json!("workspaces:read"))), params(("id" = String, Path), ListQuery),
    responses((status = 200, body = ConnectionList), (status = 404, body = Problem)))]
async fn list_connections(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ConnectionList>> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    let (rows, next) = connections::list(&s.db, &ctx, &ws, &q.page()?).await?;
    Ok(Json(ConnectionList::new(&rows, next)))
}

/// Connect a platform account (workspace admins).
#[utoipa::path(post, path = "/workspaces/{id}/connections", tag = "connections", extensions(("x-permission" = json!("workspaces:write"))), request_body = CreateConnection, params(("id" = String, Path)),
    responses((status = 201, body = ConnectionView), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_connection(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CreateConnection>,
) -> ApiResult<(StatusCode, Json<ConnectionView>)> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    Ok((StatusCode::CREATED, Json(ConnectionView::from(&connections::create(&s.db, &ctx, &ws, body).await?))))
}

#[utoipa::path(patch, path = "/workspaces/{id}/connections/{connection_id}", tag = "connections", extensions(("x-permission" = json!("workspaces:write"))), request_body = ConnectionPatch,
    params(("id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 200, body = ConnectionView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_connection(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((id, cid)): Path<(String, String)>,
    ApiJson(body): ApiJson<ConnectionPatch>,
) -> ApiResult<Json<ConnectionView>> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    let cid: ConnectionId = parse_id(&cid, "connection")?;
    Ok(Json(ConnectionView::from(&connections::update(&s.db, &ctx, &ws, &cid, body).await?)))
}

#[utoipa::path(delete, path = "/workspaces/{id}/connections/{connection_id}", tag = "connections", extensions(("x-permission" = json!("workspaces:write"))), params(("id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn delete_connection(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((id, cid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    let cid: ConnectionId = parse_id(&cid, "connection")?;
    connections::delete(&s.db, &ctx, &ws, &cid).await?;
    Ok(StatusCode::NO_CONTENT)
}
