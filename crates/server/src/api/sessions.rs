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
    OpenApiRouter::new().routes(routes!(create_session)).routes(routes!(delete_current_session))
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
#[utoipa::path(post, path = "/sessions", tag = "sessions", request_body = Login, security(()),
    responses((status = 201, body = SessionView), (status = 401, body = Problem, description = "invalid_credentials or account_inactive"),
        (status = 409, body = Problem, description = "organization_required")))]
async fn create_session(
    State(s): State<AppState>,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<Login>,
) -> ApiResult<Response> {
    let new = sessions::login(&s.db, &meta, s.now(), body).await?;
    Ok(session_response(&s, new))
}

/// Sign out: ends the session the request is made with.
#[utoipa::path(delete, path = "/sessions/current", tag = "sessions",
    responses((status = 204), (status = 401, body = Problem)))]
async fn delete_current_session(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Response> {
    sessions::logout(&s.db, &ctx).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&clear_cookie(&s.config)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}
