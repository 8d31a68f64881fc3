//! `POST /sessions` (sign in) and `DELETE /sessions/current` (sign out).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use steward_core::ids::{OrgId, SessionId};
use steward_core::time::Timestamp;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::UserView;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Meta};
use crate::services::Ctx;
use crate::services::sessions::{self, Login, NewSession};
use crate::state::{AppState, ServerConfig};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session))
        .routes(routes!(delete_current_session))
        .routes(routes!(reauthenticate))
        .routes(routes!(list_my_sessions))
        .routes(routes!(end_my_session))
        .routes(routes!(end_my_other_sessions))
        .routes(routes!(end_user_sessions))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganizationSummary {
    pub id: OrgId,
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: SessionId,
    /// For non-browser clients: send as `Authorization: Bearer <token>`. Browsers
    /// get the same session as an HttpOnly cookie.
    pub token: String,
    /// Required in `X-CSRF-Token` on state-changing requests made with the cookie.
    pub csrf_token: String,
    /// When the session ends if unused (slides forward with use).
    pub idle_expires_at: Timestamp,
    /// When the session ends regardless.
    pub expires_at: Timestamp,
    pub user: UserView,
    pub organization: OrganizationSummary,
}

/// The `Set-Cookie` value for a new session.
pub fn session_cookie(config: &ServerConfig, token: &str, max_age_secs: i64) -> String {
    let secure = if config.secure_cookies() { "; Secure" } else { "" };
    format!("{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}", config.session_cookie_name())
}

pub fn clear_cookie(config: &ServerConfig) -> String {
    session_cookie(config, "", 0)
}

fn session_response(s: &AppState, new: NewSession) -> Response {
    let view = SessionView {
        id: new.session.id.clone(),
        token: new.token.clone(),
        csrf_token: new.session.csrf_token.clone(),
        idle_expires_at: new.session.idle_expires_at,
        expires_at: new.session.absolute_expires_at,
        user: UserView::from(&new.user),
        organization: OrganizationSummary {
            id: new.organization.id.clone(),
            name: new.organization.name.clone(),
            slug: new.organization.slug.clone(),
        },
    };
    let cookie = session_cookie(&s.config, &new.token, sessions::cookie_max_age(&new));
    let mut res = (StatusCode::CREATED, Json(view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// Sign in with email and password. Sets the session cookie and returns the token.
#[utoipa::path(post, path = "/sessions", tag = "sessions", extensions(("x-permission" = json!("none"))), request_body = Login, security(()),
    responses((status = 201, body = SessionView), (status = 401, body = Problem, description = "invalid_credentials or account_inactive"),
        (status = 409, body = Problem, description = "organization_required"),
        (status = 429, body = Problem, description = "too_many_attempts or account_locked: wait `Retry-After` seconds")))]
async fn create_session(
    State(s): State<AppState>,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<Login>,
) -> ApiResult<Response> {
    let new = sessions::login(&s.db, &s.sealer, &s.postbox(), &meta, s.now(), body).await?;
    Ok(session_response(&s, new))
}

/// Sign out: ends the session the request is made with.
#[utoipa::path(delete, path = "/sessions/current", tag = "sessions", extensions(("x-permission" = json!("none"))),
    responses((status = 204), (status = 401, body = Problem), (status = 409, body = Problem, description = "not_a_session: the caller is an API key, not a person signed in")))]
async fn delete_current_session(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Response> {
    sessions::logout(&s.db, &ctx).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&clear_cookie(&s.config)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// Confirm it's you (password, or a 2FA code): sensitive actions need this within 10 minutes.
#[utoipa::path(post, path = "/sessions/current/reauthenticate", tag = "sessions", extensions(("x-permission" = json!("none"))), request_body = sessions::Reauthenticate,
    responses((status = 204), (status = 422, body = Problem, description = "wrong password or code"), (status = 409, body = Problem, description = "not_a_session: the caller is an API key, not a person signed in")))]
async fn reauthenticate(
    State(s): State<AppState>,
    ctx: Ctx,
    crate::extract::ApiJson(body): crate::extract::ApiJson<sessions::Reauthenticate>,
) -> ApiResult<StatusCode> {
    sessions::reauthenticate(&s.db, &s.sealer, &ctx, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionSummary {
    pub id: SessionId,
    pub ip: Option<String>,
    /// The browser or client it was started from.
    pub user_agent: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    /// The session this request is made with.
    pub current: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionList {
    pub data: Vec<SessionSummary>,
}

/// Your sessions: where and when each was used.
#[utoipa::path(get, path = "/me/sessions", tag = "sessions", extensions(("x-permission" = json!("none"))), responses((status = 200, body = SessionList), (status = 409, body = Problem, description = "not_a_session: the caller is an API key, not a person signed in")))]
async fn list_my_sessions(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<SessionList>> {
    let (rows, current) = sessions::mine(&s.db, &ctx).await?;
    let data = rows
        .into_iter()
        .map(|r| SessionSummary {
            current: current.as_ref() == Some(&r.id),
            id: r.id,
            ip: r.ip,
            user_agent: r.user_agent,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.absolute_expires_at,
        })
        .collect();
    Ok(Json(SessionList { data }))
}

/// End one of your sessions (sign out that device).
#[utoipa::path(delete, path = "/me/sessions/{id}", tag = "sessions", extensions(("x-permission" = json!("none"))), params(("id" = String, Path, description = "ses_…")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem, description = "not_a_session: the caller is an API key, not a person signed in")))]
async fn end_my_session(
    State(s): State<AppState>,
    ctx: Ctx,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<StatusCode> {
    let id: SessionId = super::parse_id(&id, "session")?;
    sessions::end_mine(&s.db, &ctx, Some(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EndedView {
    pub sessions_ended: u64,
}

/// End all your other sessions (everywhere but here).
#[utoipa::path(post, path = "/me/sessions/end-others", tag = "sessions", extensions(("x-permission" = json!("none"))), responses((status = 200, body = EndedView), (status = 409, body = Problem, description = "not_a_session: the caller is an API key, not a person signed in")))]
async fn end_my_other_sessions(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<EndedView>> {
    Ok(Json(EndedView { sessions_ended: sessions::end_mine(&s.db, &ctx, None).await? }))
}

/// A Super Admin signs someone out everywhere; they are told by email.
#[utoipa::path(post, path = "/users/{id}/sessions/end", tag = "people", extensions(("x-permission" = json!("people:write"))), params(("id" = String, Path)),
    responses((status = 200, body = EndedView), (status = 404, body = Problem)))]
async fn end_user_sessions(
    State(s): State<AppState>,
    ctx: Ctx,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Json<EndedView>> {
    let id: steward_core::ids::UserId = super::parse_id(&id, "user")?;
    Ok(Json(EndedView { sessions_ended: sessions::end_all_of(&s.db, &ctx, &s.postbox(), &id).await? }))
}
