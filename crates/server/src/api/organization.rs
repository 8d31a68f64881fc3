//! `GET/PATCH /organization`: the caller's organization.

use axum::Json;
use axum::extract::State;
use steward_core::messages::{problem, rule};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::OrganizationView;
use crate::error::{ApiResult, Problem};
use crate::extract::ApiJson;
use crate::services::Ctx;
use crate::services::organizations::{self, OrganizationPatch};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_organization, update_organization)).routes(routes!(get_dashboard)).merge(
        OpenApiRouter::new()
            .routes(routes!(get_logo, put_logo, delete_logo))
            .layer(axum::extract::DefaultBodyLimit::max(LOGO_BODY_LIMIT)),
    )
}

/// The caller's organization (Super Admins and API keys).
#[utoipa::path(get, path = "/organization", tag = "organization", extensions(("x-permission" = json!("organization:read"))),
    responses((status = 200, body = OrganizationView), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn get_organization(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<OrganizationView>> {
    let org = organizations::get(&s.db, &ctx).await?;
    Ok(Json(OrganizationView::from(&org)))
}

/// Edit name, slug, description or website; effective immediately, audited.
#[utoipa::path(patch, path = "/organization", tag = "organization", extensions(("x-permission" = json!("organization:write"))), request_body = OrganizationPatch,
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
    /// The organization's credit balance (ORG-2's Credit Balance).
    pub credit_balance: i64,
    /// The time zone the periods are counted in.
    pub timezone: String,
}

#[utoipa::path(get, path = "/organization/dashboard", tag = "organization", extensions(("x-permission" = json!("organization:read"))),
    responses((status = 200, body = DashboardView), (status = 403, body = Problem)))]
async fn get_dashboard(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<DashboardView>> {
    let (f, timezone) = crate::services::dashboard::figures(&s.db, &ctx).await?;
    let credit_balance = crate::services::credits::balance(&s.db, &ctx).await?;
    Ok(Json(DashboardView {
        total_workspaces: f.total_workspaces,
        total_users: f.total_users,
        active_campaigns: f.active_campaigns,
        campaigns_created_this_month: f.campaigns_created_this_month,
        content_published_this_week: f.content_published_this_week,
        active_platform_connections: f.active_platform_connections,
        storage_bytes_used: f.storage_bytes_used,
        credit_balance,
        timezone,
    }))
}

/// Bodies up to 4 MiB reach the logo check, which explains the 2 MB limit itself.
const LOGO_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Where to crop, in the image's pixels (SVG: viewBox units). All three or none.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CropParams {
    pub crop_x: Option<f64>,
    pub crop_y: Option<f64>,
    pub crop_size: Option<f64>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct LogoView {
    /// `image/png` (PNG and JPG uploads) or `image/svg+xml` (sanitized SVG).
    pub content_type: String,
    pub bytes: usize,
    pub width: u32,
    pub height: u32,
}

/// The organization's logo (200×200 PNG, or sanitized SVG).
#[utoipa::path(get, path = "/organization/logo", tag = "organization", extensions(("x-permission" = json!("organization:read"))),
    responses((status = 200, description = "the logo"), (status = 404, body = Problem)))]
async fn get_logo(State(s): State<AppState>, ctx: Ctx) -> ApiResult<axum::response::Response> {
    match crate::services::logo::get(&ctx, &s.files).await? {
        Some((ct, bytes)) => Ok(crate::responses::logo(ct, bytes)),
        None => Err(steward_core::Error::not_found("logo").into()),
    }
}

/// Upload a logo: the raw PNG, JPG or SVG file as the body (at most 2 MB), checked
/// by its content; cropped to a square (centered unless `crop_*` say otherwise)
/// and stored at 200×200.
#[utoipa::path(put, path = "/organization/logo", tag = "organization", extensions(("x-permission" = json!("organization:write"))), params(CropParams),
    request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 200, body = LogoView), (status = 413, body = Problem, description = "logo_too_large"),
        (status = 415, body = Problem, description = "unsupported_logo_type"),
        (status = 422, body = Problem, description = "logo_unreadable, unsafe_svg or a bad crop")))]
async fn put_logo(
    State(s): State<AppState>,
    ctx: Ctx,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<CropParams>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<LogoView>> {
    let body = body.map_err(|_| steward_core::Error::new(413, &problem::LOGO_TOO_LARGE, &[]))?;
    let crop = match (q.crop_x, q.crop_y, q.crop_size) {
        (Some(x), Some(y), Some(size)) => Some(steward_core::images::Crop { x, y, size }),
        (None, None, None) => None,
        _ => {
            return Err(steward_core::Error::field("crop", &rule::INCOMPLETE_CROP, &[]).into());
        }
    };
    let logo = crate::services::logo::set(&s.db, &ctx, &s.files, &body, crop).await?;
    let size = steward_core::images::LOGO_SIZE;
    Ok(Json(LogoView {
        content_type: logo.content_type.to_owned(),
        bytes: logo.bytes.len(),
        width: size,
        height: size,
    }))
}

#[utoipa::path(delete, path = "/organization/logo", tag = "organization", extensions(("x-permission" = json!("organization:write"))),
    responses((status = 204), (status = 404, body = Problem)))]
async fn delete_logo(State(s): State<AppState>, ctx: Ctx) -> ApiResult<axum::http::StatusCode> {
    crate::services::logo::remove(&s.db, &ctx, &s.files).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
