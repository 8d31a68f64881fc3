//! `GET /me`: who the caller is.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use steward_core::authz::Credential;
use steward_core::ids::ApiKeyId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::sessions::OrganizationSummary;
use super::views::UserView;
use crate::error::{ApiResult, Problem};
use crate::services::{Ctx, people};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_me))
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
