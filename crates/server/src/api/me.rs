//! `GET /me`: who the caller is.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use steward_core::Error;
use steward_core::authz::Credential;
use steward_core::ids::ApiKeyId;
use steward_core::people::ApiScope;
use steward_store::{organizations, users};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::sessions::OrganizationSummary;
use super::views::UserView;
use crate::error::{ApiResult, Problem};
use crate::services::Ctx;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_me))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeySummary {
    pub id: ApiKeyId,
    pub name: String,
    pub scopes: Vec<ApiScope>,
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
#[utoipa::path(get, path = "/me", tag = "sessions", responses((status = 200, body = MeView), (status = 401, body = Problem)))]
async fn get_me(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<MeView>> {
    let mut c = s.db.conn().await?;
    let org = organizations::get(&mut c, ctx.org_id()).await?.ok_or_else(Error::internal)?;
    let organization = OrganizationSummary { id: org.id, name: org.name, slug: org.slug };
    let view = match &ctx.principal.credential {
        Credential::Session { user_id, .. } => {
            let user = users::get(&mut c, ctx.org_id(), user_id).await?.ok_or_else(Error::internal)?;
            MeView { kind: "user".into(), user: Some(UserView::from(&user)), api_key: None, organization }
        }
        Credential::ApiKey { key_id, name, scopes } => MeView {
            kind: "api_key".into(),
            user: None,
            api_key: Some(KeySummary { id: key_id.clone(), name: name.clone(), scopes: scopes.clone() }),
            organization,
        },
    };
    Ok(Json(view))
}
