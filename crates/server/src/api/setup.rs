//! `POST /setup`: the first organization and Super Admin of a new deployment.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::{OrganizationView, UserView};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Meta};
use crate::services::setup::{self, SetupRequest};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(run_setup))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SetupView {
    pub organization: OrganizationView,
    pub admin: UserView,
}

/// Creates the first organization and its Super Admin with the token the server
/// printed at start. Works once; afterwards it answers `409 setup_already_completed`.
#[utoipa::path(post, path = "/setup", tag = "setup", extensions(("x-permission" = json!("none"))), request_body = SetupRequest, security(()),
    responses((status = 201, body = SetupView), (status = 403, body = Problem, description = "invalid_setup_token"),
        (status = 409, body = Problem, description = "setup_already_completed"), (status = 422, body = Problem)))]
async fn run_setup(
    State(s): State<AppState>,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<SetupRequest>,
) -> ApiResult<(StatusCode, Json<SetupView>)> {
    let created = setup::complete(&s.db, &meta, s.now(), body).await?;
    Ok((
        StatusCode::CREATED,
        Json(SetupView {
            organization: OrganizationView::from(&created.organization),
            admin: UserView::from(&created.admin),
        }),
    ))
}
