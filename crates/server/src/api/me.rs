//! `/me`: who the caller is, and a person's own name and password.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_core::authz::Credential;
use steward_core::ids::ApiKeyId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::sessions::OrganizationSummary;
use super::views::UserView;
use crate::error::{ApiResult, Problem};
use crate::extract::ApiJson;
use crate::services::{Ctx, people};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_me, update_me)).routes(routes!(change_my_password))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    /// Your name as others in the organization see it.
    #[schema(max_length = 100)]
    pub name: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// Must meet the organization's password policy (`GET /security`).
    pub new_password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeySummary {
    pub id: ApiKeyId,
    pub name: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeView {
    /// `user` for a signed-in person, `api_key` for a key.
    #[serde(rename = "type")]
    pub kind: String,
    pub user: Option<UserView>,
    pub api_key: Option<KeySummary>,
    pub organization: OrganizationSummary,
}

/// The signed-in user (or API key) and its organization. Any member may call it.
#[utoipa::path(get, path = "/me", tag = "sessions", extensions(("x-permission" = json!("none"))), responses((status = 200, body = MeView), (status = 401, body = Problem)))]
async fn get_me(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<MeView>> {
    let me = people::me(&s.db, &ctx).await?;
    let o = me.organization;
    let organization = OrganizationSummary { id: o.id, name: o.name, slug: o.slug };
    let api_key = match &ctx.principal.credential {
        Credential::ApiKey { key_id, name, scopes, .. } => {
            Some(KeySummary { id: key_id.clone(), name: name.clone(), scopes: scopes.clone() })
        }
        _ => None,
    };
    let kind = if me.user.is_some() { "user" } else { "api_key" };
    Ok(Json(MeView { kind: kind.into(), user: me.user.as_ref().map(UserView::from), api_key, organization }))
}

/// Change your own name (a person signed in; a key is refused with `user_required`).
#[utoipa::path(patch, path = "/me", tag = "sessions", extensions(("x-permission" = json!("none"))), request_body = MePatch,
    responses((status = 200, body = UserView)))]
async fn update_me(State(s): State<AppState>, ctx: Ctx, ApiJson(body): ApiJson<MePatch>) -> ApiResult<Json<UserView>> {
    Ok(Json(UserView::from(&people::rename_self(&s.db, &ctx, &body.name).await?)))
}

/// Change your own password; your other sessions end. Only with a session.
#[utoipa::path(post, path = "/me/password", tag = "sessions", extensions(("x-permission" = json!("none"))), request_body = PasswordChange,
    responses((status = 204), (status = 422, body = Problem, description = "`current_password` is wrong, or `new_password` breaks the policy")))]
async fn change_my_password(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    people::change_own_password(&s.db, &ctx, &body.current_password, &body.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}
