//! `/users`: people of the organization.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use steward_core::ids::UserId;
use steward_core::time::Timestamp;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::parse_id;
use super::views::{UserList, UserView};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, ListQuery};
use crate::services::Ctx;
use crate::services::people::{self, InviteUser, Invited, UserPatch};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, invite_user))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(resend_invitation))
}

/// A new invitation: the user, and the link to send them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvitationView {
    pub user: UserView,
    /// Where the invitee sets a password. Shown once; valid until `invitation_expires_at`.
    pub invite_url: String,
    pub invitation_expires_at: Timestamp,
}

fn invitation_view(s: &AppState, inv: &Invited) -> InvitationView {
    InvitationView {
        user: UserView::from(&inv.user),
        invite_url: s.config.link(&people::invitation_path(&inv.token)),
        invitation_expires_at: inv.expires_at,
    }
}

/// People of the organization, oldest first.
#[utoipa::path(get, path = "/users", tag = "people", extensions(("x-permission" = json!("people:read"))), params(ListQuery),
    responses((status = 200, body = UserList), (status = 403, body = Problem)))]
async fn list_users(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<UserList>> {
    let (rows, next) = people::list(&s.db, &ctx, &q.page()?).await?;
    Ok(Json(UserList::new(&rows, next)))
}

/// Invite someone by email: the invitation is mailed to them, and the accept
/// link is also answered as `invite_url` (to pass on another way).
#[utoipa::path(post, path = "/users", tag = "people", extensions(("x-permission" = json!("people:write"))), request_body = InviteUser,
    responses((status = 201, body = InvitationView), (status = 409, body = Problem, description = "email_taken"), (status = 422, body = Problem)))]
async fn invite_user(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<InviteUser>,
) -> ApiResult<(StatusCode, Json<InvitationView>)> {
    let invited = people::invite(&s.db, &ctx, &s.postbox(), body, s.config.invitation_ttl_hours).await?;
    Ok((StatusCode::CREATED, Json(invitation_view(&s, &invited))))
}

#[utoipa::path(get, path = "/users/{id}", tag = "people", extensions(("x-permission" = json!("people:read"))), params(("id" = String, Path, description = "usr_…")),
    responses((status = 200, body = UserView), (status = 404, body = Problem)))]
async fn get_user(State(s): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Json<UserView>> {
    let id: UserId = parse_id(&id, "user")?;
    Ok(Json(UserView::from(&people::get(&s.db, &ctx, &id).await?)))
}

/// Change name, org role (`super_admin`/`member`) or status (`active`/`deactivated`).
/// The last active Super Admin can't be demoted or deactivated.
#[utoipa::path(patch, path = "/users/{id}", tag = "people", extensions(("x-permission" = json!("people:write"))), request_body = UserPatch, params(("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = Problem), (status = 409, body = Problem, description = "last_super_admin")))]
async fn update_user(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Json<UserView>> {
    let id: UserId = parse_id(&id, "user")?;
    Ok(Json(UserView::from(&people::update(&s.db, &ctx, &id, patch).await?)))
}

/// Remove someone from the organization. Their audit history remains.
#[utoipa::path(delete, path = "/users/{id}", tag = "people", extensions(("x-permission" = json!("people:write"))), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem, description = "last_super_admin")))]
async fn delete_user(State(s): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id: UserId = parse_id(&id, "user")?;
    people::delete(&s.db, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mails a new invitation link to someone who hasn't accepted (the old link
/// stops working); the link is answered as `invite_url` too.
#[utoipa::path(post, path = "/users/{id}/invitation", tag = "people", extensions(("x-permission" = json!("people:write"))), params(("id" = String, Path)),
    responses((status = 201, body = InvitationView), (status = 409, body = Problem, description = "not_invited")))]
async fn resend_invitation(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<InvitationView>)> {
    let id: UserId = parse_id(&id, "user")?;
    let invited = people::resend_invitation(&s.db, &ctx, &s.postbox(), &id, s.config.invitation_ttl_hours).await?;
    Ok((StatusCode::CREATED, Json(invitation_view(&s, &invited))))
}
