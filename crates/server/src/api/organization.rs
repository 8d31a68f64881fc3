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
    OpenApiRouter::new().routes(routes!(get_organization, update_organization))
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
