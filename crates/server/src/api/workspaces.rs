//! `/workspaces`: list, create, read, edit, lifecycle, delete, members.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_core::ids::{UserId, WorkspaceId};
use steward_core::workspaces::Lifecycle;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::parse_id;
use super::views::{MemberList, MemberView, WorkspaceList, WorkspaceView};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, ListQuery, OptionalJson};
use crate::services::Ctx;
use crate::services::workspaces::{self, CreateWorkspace, ListParams, SetMember, WorkspacePatch};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workspaces, create_workspace))
        .routes(routes!(get_workspace, update_workspace, delete_workspace))
        .routes(routes!(suspend_workspace))
        .routes(routes!(reactivate_workspace))
        .routes(routes!(archive_workspace))
        .routes(routes!(restore_workspace))
        .routes(routes!(list_members))
        .routes(routes!(set_member, remove_member))
}

/// Members see only their workspaces (never archived ones); Super Admins and keys see all.
#[utoipa::path(get, path = "/workspaces", tag = "workspaces", extensions(("x-permission" = json!("workspaces:read"))), params(ListParams),
    responses((status = 200, body = WorkspaceList), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn list_workspaces(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<WorkspaceList>> {
    let (rows, next) = workspaces::list(&s.db, &ctx, &p).await?;
    Ok(Json(WorkspaceList::new(&rows, next)))
}

/// Create a workspace (Super Admins). Refused with `workspace_limit_reached` at the plan's limit.
#[utoipa::path(post, path = "/workspaces", tag = "workspaces", extensions(("x-permission" = json!("workspaces:write"))), request_body = CreateWorkspace,
    responses((status = 201, body = WorkspaceView), (status = 403, body = Problem, description = "workspace_limit_reached"),
        (status = 409, body = Problem, description = "slug_taken"), (status = 422, body = Problem)))]
async fn create_workspace(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CreateWorkspace>,
) -> ApiResult<(StatusCode, Json<WorkspaceView>)> {
    let ws = workspaces::create(&s.db, &ctx, body).await?;
    Ok((StatusCode::CREATED, Json(WorkspaceView::from(&ws))))
}

#[utoipa::path(get, path = "/workspaces/{id}", tag = "workspaces", extensions(("x-permission" = json!("workspaces:read"))), params(("id" = String, Path, description = "ws_…")),
    responses((status = 200, body = WorkspaceView), (status = 403, body = Problem, description = "workspace_suspended"), (status = 404, body = Problem)))]
async fn get_workspace(State(s): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Json<WorkspaceView>> {
    let id: WorkspaceId = parse_id(&id, "workspace")?;
    Ok(Json(WorkspaceView::from(&workspaces::get(&s.db, &ctx, &id).await?)))
}

/// Edit details and settings (Super Admins and the workspace's admins).
#[utoipa::path(patch, path = "/workspaces/{id}", tag = "workspaces", extensions(("x-permission" = json!("workspaces:write"))), request_body = WorkspacePatch, params(("id" = String, Path)),
    responses((status = 200, body = WorkspaceView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_workspace(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<WorkspacePatch>,
) -> ApiResult<Json<WorkspaceView>> {
    let id: WorkspaceId = parse_id(&id, "workspace")?;
    Ok(Json(WorkspaceView::from(&workspaces::update(&s.db, &ctx, &id, patch).await?)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// The workspace's slug, typed to confirm.
    pub confirm: Option<String>,
}

/// Delete permanently with everything it holds, only with `?confirm=<slug>`. The audit trail remains.
#[utoipa::path(delete, path = "/workspaces/{id}", tag = "workspaces", extensions(("x-permission" = json!("workspaces:lifecycle"))), params(("id" = String, Path), DeleteParams),
    responses((status = 204), (status = 422, body = Problem, description = "confirmation_required: `confirm` is not the slug"), (status = 404, body = Problem)))]
async fn delete_workspace(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DeleteParams>,
) -> ApiResult<StatusCode> {
    let id: WorkspaceId = parse_id(&id, "workspace")?;
    workspaces::delete(&s.db, &ctx, &id, q.confirm.as_deref(), &s.files).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Optional, at most 500 characters; shown to members who are locked out.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TransitionView {
    pub workspace: WorkspaceView,
    /// Active campaigns this step paused.
    pub campaigns_paused: u64,
    /// Campaigns this step resumed (exactly those its counterpart paused).
    pub campaigns_resumed: u64,
}

async fn step(
    s: &AppState,
    ctx: &Ctx,
    id: &str,
    step: Lifecycle,
    body: Option<Reason>,
) -> ApiResult<Json<TransitionView>> {
    let id: WorkspaceId = parse_id(id, "workspace")?;
    let t = workspaces::transition(&s.db, ctx, &id, step, body.and_then(|b| b.reason)).await?;
    Ok(Json(TransitionView {
        workspace: WorkspaceView::from(&t.workspace),
        campaigns_paused: t.campaigns_paused,
        campaigns_resumed: t.campaigns_resumed,
    }))
}

/// Suspend: members lose access (403 `workspace_suspended` with the reason), active campaigns pause, nothing is deleted.
#[utoipa::path(post, path = "/workspaces/{id}/suspend", tag = "workspaces", extensions(("x-permission" = json!("workspaces:lifecycle"))), params(("id" = String, Path)), request_body(content = Option<Reason>),
    responses((status = 200, body = TransitionView), (status = 409, body = Problem, description = "invalid_status_transition")))]
async fn suspend_workspace(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<Reason>,
) -> ApiResult<Json<TransitionView>> {
    step(&s, &ctx, &id, Lifecycle::Suspend, body).await
}

/// Reactivate a suspended workspace: access returns and exactly the campaigns the suspension paused resume.
#[utoipa::path(post, path = "/workspaces/{id}/reactivate", tag = "workspaces", extensions(("x-permission" = json!("workspaces:lifecycle"))), params(("id" = String, Path)),
    responses((status = 200, body = TransitionView), (status = 409, body = Problem, description = "invalid_status_transition")))]
async fn reactivate_workspace(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<TransitionView>> {
    step(&s, &ctx, &id, Lifecycle::Reactivate, None).await
}

/// Archive (soft delete): hidden from everyone but Super Admins, data kept, frees a plan slot.
#[utoipa::path(post, path = "/workspaces/{id}/archive", tag = "workspaces", extensions(("x-permission" = json!("workspaces:lifecycle"))), params(("id" = String, Path)), request_body(content = Option<Reason>),
    responses((status = 200, body = TransitionView), (status = 409, body = Problem, description = "invalid_status_transition")))]
async fn archive_workspace(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<Reason>,
) -> ApiResult<Json<TransitionView>> {
    step(&s, &ctx, &id, Lifecycle::Archive, body).await
}

/// Restore an archived workspace to the status it had before (counts toward the plan again).
#[utoipa::path(post, path = "/workspaces/{id}/restore", tag = "workspaces", extensions(("x-permission" = json!("workspaces:lifecycle"))), params(("id" = String, Path)),
    responses((status = 200, body = TransitionView), (status = 403, body = Problem, description = "workspace_limit_reached"),
        (status = 409, body = Problem, description = "invalid_status_transition")))]
async fn restore_workspace(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<TransitionView>> {
    step(&s, &ctx, &id, Lifecycle::Restore, None).await
}

#[utoipa::path(get, path = "/workspaces/{id}/members", tag = "workspaces", extensions(("x-permission" = json!("workspaces:read"))), params(("id" = String, Path), ListQuery),
    responses((status = 200, body = MemberList), (status = 404, body = Problem)))]
async fn list_members(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<MemberList>> {
    let id: WorkspaceId = parse_id(&id, "workspace")?;
    let (rows, next) = workspaces::members(&s.db, &ctx, &id, &q.page()?).await?;
    Ok(Json(MemberList::new(&rows, next)))
}

/// Add a person of the organization with a role, or change their role.
#[utoipa::path(put, path = "/workspaces/{id}/members/{user_id}", tag = "workspaces", extensions(("x-permission" = json!("workspaces:write"))), request_body = SetMember,
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = MemberView, description = "role changed"), (status = 201, body = MemberView, description = "added"),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_member(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((id, user)): Path<(String, String)>,
    ApiJson(body): ApiJson<SetMember>,
) -> ApiResult<(StatusCode, Json<MemberView>)> {
    let id: WorkspaceId = parse_id(&id, "workspace")?;
    let user: UserId = parse_id(&user, "user")?;
    let (m, added) = workspaces::set_member(&s.db, &ctx, &id, &user, body).await?;
    Ok((if added { StatusCode::CREATED } else { StatusCode::OK }, Json(MemberView::from(&m))))
}

#[utoipa::path(delete, path = "/workspaces/{id}/members/{user_id}", tag = "workspaces", extensions(("x-permission" = json!("workspaces:write"))), params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn remove_member(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id: WorkspaceId = parse_id(&id, "workspace")?;
    let user: UserId = parse_id(&user, "member")?;
    workspaces::remove_member(&s.db, &ctx, &id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
