//! `/api-keys`: keys of the organization.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use steward_core::ids::ApiKeyId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::parse_id;
use super::views::{ApiKeyList, ApiKeyView};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, ListQuery};
use crate::services::Ctx;
use crate::services::api_keys::{self, ApiKeyPatch, CreateApiKey};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_api_keys, create_api_key)).routes(routes!(
        get_api_key,
        update_api_key,
        revoke_api_key
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedApiKeyView {
    pub api_key: ApiKeyView,
    /// The key itself. Shown only in this response; store it now.
    pub secret: String,
}

/// Keys that are not revoked, oldest first. Never shows a secret.
#[utoipa::path(get, path = "/api-keys", tag = "api_keys", extensions(("x-permission" = json!("api_keys:read"))), params(ListQuery), responses((status = 200, body = ApiKeyList), (status = 403, body = Problem)))]
async fn list_api_keys(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ApiKeyList>> {
    let (rows, next) = api_keys::list(&s.db, &ctx, &q.page()?).await?;
    Ok(Json(ApiKeyList::new(&rows, next)))
}

/// Create a key with the permissions it needs (names or the `admin`/`read`
/// bundles) and a limit a minute. The secret is in this response only.
#[utoipa::path(post, path = "/api-keys", tag = "api_keys", extensions(("x-permission" = json!("api_keys:write"))), request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKeyView), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_api_key(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> ApiResult<(StatusCode, Json<CreatedApiKeyView>)> {
    let created = api_keys::create(&s.db, &ctx, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKeyView { api_key: ApiKeyView::from(&created.key), secret: created.secret }),
    ))
}

/// One key. Never shows its secret.
#[utoipa::path(get, path = "/api-keys/{id}", tag = "api_keys", extensions(("x-permission" = json!("api_keys:read"))), params(("id" = String, Path, description = "key_…")),
    responses((status = 200, body = ApiKeyView), (status = 404, body = Problem)))]
async fn get_api_key(State(s): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Json<ApiKeyView>> {
    let id: ApiKeyId = parse_id(&id, "API key")?;
    Ok(Json(ApiKeyView::from(&api_keys::get(&s.db, &ctx, &id).await?)))
}

/// Rename a key or change its permissions, limit or expiry; it holds at once on every instance.
#[utoipa::path(patch, path = "/api-keys/{id}", tag = "api_keys", extensions(("x-permission" = json!("api_keys:write"))), params(("id" = String, Path, description = "key_…")),
    request_body = ApiKeyPatch,
    responses((status = 200, body = ApiKeyView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_api_key(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ApiKeyPatch>,
) -> ApiResult<Json<ApiKeyView>> {
    let id: ApiKeyId = parse_id(&id, "API key")?;
    Ok(Json(ApiKeyView::from(&api_keys::update(&s.db, &ctx, &id, body).await?)))
}

/// Revoke a key; it stops working at once.
#[utoipa::path(delete, path = "/api-keys/{id}", tag = "api_keys", extensions(("x-permission" = json!("api_keys:write"))), params(("id" = String, Path, description = "key_…")),
    responses((status = 204), (status = 404, body = Problem)))]
async fn revoke_api_key(State(s): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id: ApiKeyId = parse_id(&id, "API key")?;
    api_keys::revoke(&s.db, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
