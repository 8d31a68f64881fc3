//! `GET/PATCH /security`: the organization's password policy and session timeouts.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use steward_core::security::{Complexity, Settings, TwoFactorMode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, Problem};
use crate::extract::ApiJson;
use crate::services::Ctx;
use crate::services::security::{self, SecurityPatch};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_security, update_security))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SecurityView {
    pub password_min_length: i64,
    pub password_complexity: Complexity,
    pub session_idle_timeout_minutes: i64,
    pub session_absolute_timeout_hours: i64,
    pub two_factor: TwoFactorMode,
}

impl From<Settings> for SecurityView {
    fn from(s: Settings) -> Self {
        Self {
            password_min_length: s.password_min_length,
            password_complexity: s.password_complexity,
            session_idle_timeout_minutes: s.session_idle_timeout_minutes,
            session_absolute_timeout_hours: s.session_absolute_timeout_hours,
            two_factor: s.two_factor,
        }
    }
}

/// The organization's security settings (the safe defaults until changed).
#[utoipa::path(get, path = "/security", tag = "security", extensions(("x-permission" = json!("security:read"))), responses((status = 200, body = SecurityView), (status = 403, body = Problem)))]
async fn get_security(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<SecurityView>> {
    Ok(Json(security::get(&s.db, &ctx).await?.into()))
}

/// Change the password policy or session timeouts. Audited with before/after;
/// shorter timeouts apply to open sessions at once.
#[utoipa::path(patch, path = "/security", tag = "security", extensions(("x-permission" = json!("security:write"))), request_body = SecurityPatch,
    responses((status = 200, body = SecurityView), (status = 403, body = Problem), (status = 422, body = Problem, description = "a value out of bounds")))]
async fn update_security(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(patch): ApiJson<SecurityPatch>,
) -> ApiResult<Json<SecurityView>> {
    Ok(Json(security::update(&s.db, &ctx, patch).await?.into()))
}
