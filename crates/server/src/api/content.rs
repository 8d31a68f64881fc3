//! `/workspaces/{id}/content`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use steward_core::ids::{ContentId, WorkspaceId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::parse_id;
use super::views::{ContentList, ContentView};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, ListQuery};
use crate::services::Ctx;
use crate::services::content::{self, ContentPatch, CreateContent};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_content, create_content)).routes(routes!(
        get_content,
        update_content,
        delete_content
    ))
}

#[utoipa::path(get, path = "/workspaces/{id}/content", tag = "content", extensions(("x-permission" = json!("workspaces:read"))), params(("id" = String, Path), ListQuery),
    responses((status = 200, body = ContentList), (status = 404, body = Problem)))]
async fn list_content(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ContentList>> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    let (rows, next) = content::list(&s.db, &ctx, &ws, &q.page()?).await?;
    Ok(Json(ContentList::new(&rows, next)))
}

#[utoipa::path(post, path = "/workspaces/{id}/content", tag = "content", extensions(("x-permission" = json!("content:write"))), request_body = CreateContent, params(("id" = String, Path)),
    responses((status = 201, body = ContentView), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_content(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CreateContent>,
) -> ApiResult<(StatusCode, Json<ContentView>)> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    Ok((StatusCode::CREATED, Json(ContentView::from(&content::create(&s.db, &ctx, &ws, body).await?))))
}

#[utoipa::path(get, path = "/workspaces/{id}/content/{content_id}", tag = "content", extensions(("x-permission" = json!("workspaces:read"))), params(("id" = String, Path), ("content_id" = String, Path)),
    responses((status = 200, body = ContentView), (status = 404, body = Problem)))]
async fn get_content(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((id, cid)): Path<(String, String)>,
) -> ApiResult<Json<ContentView>> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    let cid: ContentId = parse_id(&cid, "content item")?;
    Ok(Json(ContentView::from(&content::get(&s.db, &ctx, &ws, &cid).await?)))
}

/// Edit, schedule (`scheduled_at` in the future) or publish.
#[utoipa::path(patch, path = "/workspaces/{id}/content/{content_id}", tag = "content", extensions(("x-permission" = json!("content:write"))), request_body = ContentPatch,
    params(("id" = String, Path), ("content_id" = String, Path)),
    responses((status = 200, body = ContentView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_content(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((id, cid)): Path<(String, String)>,
    ApiJson(body): ApiJson<ContentPatch>,
) -> ApiResult<Json<ContentView>> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    let cid: ContentId = parse_id(&cid, "content item")?;
    Ok(Json(ContentView::from(&content::update(&s.db, &ctx, &ws, &cid, body).await?)))
}

/// Delete (kept 30 days before purge).
#[utoipa::path(delete, path = "/workspaces/{id}/content/{content_id}", tag = "content", extensions(("x-permission" = json!("content:write"))), params(("id" = String, Path), ("content_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn delete_content(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((id, cid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    let cid: ContentId = parse_id(&cid, "content item")?;
    content::delete(&s.db, &ctx, &ws, &cid).await?;
    Ok(StatusCode::NO_CONTENT)
}
