//! `/workspaces/{id}/campaigns`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use steward_core::ids::{CampaignId, WorkspaceId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::parse_id;
use super::views::{CampaignList, CampaignView};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, ListQuery};
use crate::services::Ctx;
use crate::services::campaigns::{self, CampaignPatch, CreateCampaign};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_campaigns, create_campaign)).routes(routes!(get_campaign, update_campaign))
}

#[utoipa::path(get, path = "/workspaces/{id}/campaigns", tag = "campaigns", extensions(("x-permission" = json!("workspaces:read"))), params(("id" = String, Path), ListQuery),
    responses((status = 200, body = CampaignList), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_campaigns(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<CampaignList>> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    let (rows, next) = campaigns::list(&s.db, &ctx, &ws, &q.page()?).await?;
    Ok(Json(CampaignList::new(&rows, next)))
}

/// Create a campaign (editors and above).
#[utoipa::path(post, path = "/workspaces/{id}/campaigns", tag = "campaigns", extensions(("x-permission" = json!("content:write"))), request_body = CreateCampaign, params(("id" = String, Path)),
    responses((status = 201, body = CampaignView), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_campaign(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CreateCampaign>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    Ok((StatusCode::CREATED, Json(CampaignView::from(&campaigns::create(&s.db, &ctx, &ws, body).await?))))
}

#[utoipa::path(get, path = "/workspaces/{id}/campaigns/{campaign_id}", tag = "campaigns", extensions(("x-permission" = json!("workspaces:read"))), params(("id" = String, Path), ("campaign_id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 404, body = Problem)))]
async fn get_campaign(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((id, cid)): Path<(String, String)>,
) -> ApiResult<Json<CampaignView>> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    let cid: CampaignId = parse_id(&cid, "campaign")?;
    Ok(Json(CampaignView::from(&campaigns::get(&s.db, &ctx, &ws, &cid).await?)))
}

/// Rename, change the cost, or move along draft → active ⇄ paused → completed.
#[utoipa::path(patch, path = "/workspaces/{id}/campaigns/{campaign_id}", tag = "campaigns", extensions(("x-permission" = json!("content:write"))), request_body = CampaignPatch,
    params(("id" = String, Path), ("campaign_id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 404, body = Problem), (status = 409, body = Problem, description = "invalid_status_transition")))]
async fn update_campaign(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((id, cid)): Path<(String, String)>,
    ApiJson(body): ApiJson<CampaignPatch>,
) -> ApiResult<Json<CampaignView>> {
    let ws: WorkspaceId = parse_id(&id, "workspace")?;
    let cid: CampaignId = parse_id(&cid, "campaign")?;
    Ok(Json(CampaignView::from(&campaigns::update(&s.db, &ctx, &ws, &cid, body).await?)))
}
