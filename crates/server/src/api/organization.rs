//! `GET/PATCH /organization`: the caller's organization.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::OrganizationView;
use crate::error::{ApiResult, Problem};
use crate::extract::ApiJson;
use crate::services::Ctx;
use crate::services::organizations::{self, OrganizationPatch};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_organization, update_organization)).routes(routes!(get_dashboard))
}

/// The caller's organization (Super Admins and API keys).
#[utoipa::path(get, path = "/organization", tag = "organization",
    responses((status = 200, body = OrganizationView), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn get_organization(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<OrganizationView>> {
    let org = organizations::get(&s.db, &ctx).await?;
    Ok(Json(OrganizationView::from(&org)))
}

/// Edit name, slug, description or website; effective immediately, audited.
#[utoipa::path(patch, path = "/organization", tag = "organization", request_body = OrganizationPatch,
    responses((status = 200, body = OrganizationView), (status = 409, body = Problem, description = "slug_taken"),
        (status = 422, body = Problem, description = "validation_failed")))]
async fn update_organization(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(patch): ApiJson<OrganizationPatch>,
) -> ApiResult<Json<OrganizationView>> {
    let org = organizations::update(&s.db, &ctx, patch).await?;
    Ok(Json(OrganizationView::from(&org)))
}

/// ORG-2 and ORG-3: the dashboard's metrics and quick stats. "This week" starts on
/// Monday and "this month" on the 1st, in the organization's time zone.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DashboardView {
    /// Active workspaces.
    pub total_workspaces: i64,
    /// Distinct active people of the organization.
    pub total_users: i64,
    pub active_campaigns: i64,
    pub campaigns_created_this_month: i64,
    pub content_published_this_week: i64,
    pub active_platform_connections: i64,
    pub storage_bytes_used: i64,
    /// The time zone the periods are counted in.
    pub timezone: String,
}

#[utoipa::path(get, path = "/organization/dashboard", tag = "organization",
    responses((status = 200, body = DashboardView), (status = 403, body = Problem)))]
async fn get_dashboard(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<DashboardView>> {
    let (f, timezone) = crate::services::dashboard::figures(&s.db, &ctx).await?;
    Ok(Json(DashboardView {
        total_workspaces: f.total_workspaces,
        total_users: f.total_users,
        active_campaigns: f.active_campaigns,
        campaigns_created_this_month: f.campaigns_created_this_month,
        content_published_this_week: f.content_published_this_week,
        active_platform_connections: f.active_platform_connections,
        storage_bytes_used: f.storage_bytes_used,
        timezone,
    }))
}
