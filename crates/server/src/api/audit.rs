//! `GET /audit-events`: the organization's trail, newest first.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::AuditEventList;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiQuery, ListQuery};
use crate::services::{Ctx, audit};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_events))
}

/// Every change in the organization, newest first.
#[utoipa::path(get, path = "/audit-events", tag = "audit", params(ListQuery),
    responses((status = 200, body = AuditEventList), (status = 400, body = Problem, description = "invalid_cursor"), (status = 403, body = Problem)))]
async fn list_audit_events(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<AuditEventList>> {
    let (rows, next) = audit::list(&s.db, &ctx, &q.page()?).await?;
    Ok(Json(AuditEventList::new(&rows, next)))
}
