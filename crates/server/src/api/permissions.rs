//! `GET /permissions`: every permission, so key forms and clients need no list of their own.

use axum::Json;
use serde::Serialize;
use steward_core::permissions::{Holder, Permission};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, Problem};
use crate::services::Ctx;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_permissions))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PermissionView {
    /// `people:write`: what API keys' `scopes` and problems' `permission` name.
    pub name: &'static str,
    pub description: &'static str,
    /// Whether an API key may hold it (the operator's may not).
    pub api_key_assignable: bool,
    /// The roles that hold it: `super_admin`, `workspace_admin`, `workspace_editor`,
    /// `workspace_viewer` (in their workspaces), `operator`, `system`.
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<&'static str>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PermissionList {
    pub data: Vec<PermissionView>,
    /// Names that stand for several permissions in an API key's `scopes`.
    #[schema(value_type = Object, example = json!({"admin": "every permission an API key may hold", "read": "every `…:read` permission"}))]
    pub bundles: serde_json::Value,
}

/// Every permission of Steward: its name, what it allows, whether an API key
/// may hold it and which roles hold it. Any signed-in caller may read it.
#[utoipa::path(get, path = "/permissions", tag = "permissions", extensions(("x-permission" = json!("none"))),
    responses((status = 200, body = PermissionList), (status = 401, body = Problem)))]
async fn list_permissions(ctx: Ctx) -> ApiResult<Json<PermissionList>> {
    let _ = ctx;
    let data = Permission::ALL
        .iter()
        .map(|p| PermissionView {
            name: p.name(),
            description: p.description(),
            api_key_assignable: p.key_assignable(),
            roles: p.holders().iter().map(|h: &Holder| h.as_str()).collect(),
        })
        .collect();
    let bundles = serde_json::json!({
        "admin": "every permission an API key may hold",
        "read": "every `…:read` permission",
    });
    Ok(Json(PermissionList { data, bundles }))
}
