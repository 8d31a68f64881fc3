//! `/reports`: usage reports (BILL-4). Asking for one answers at once with
//! the queued report; a job writes it, and `GET /reports/{id}` shows its
//! progress until it is ready to download.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use steward_core::ids::ReportId;
use steward_core::reports::{ReportFormat, ReportStatus, ReportType};
use steward_core::time::Timestamp;
use steward_store::reports::Report;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::parse_id;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, ListQuery};
use crate::services::Ctx;
use crate::services::reports::{self, ReportRequest};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_reports, create_report))
        .routes(routes!(get_report))
        .routes(routes!(download_report))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    pub id: ReportId,
    #[serde(rename = "type")]
    pub report_type: ReportType,
    pub format: ReportFormat,
    pub from: Timestamp,
    pub to: Timestamp,
    pub status: ReportStatus,
    /// 0 to 100.
    pub progress: i64,
    /// Lines in the report, once ready.
    pub lines: Option<i64>,
    /// Credits the report's lines add up to, once ready.
    pub total_used: Option<i64>,
    /// The file's size, once ready.
    pub bytes: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// Until when the file can be downloaded.
    pub expires_at: Option<Timestamp>,
    /// Where to download the file while it is ready (the same credentials).
    pub download_url: Option<String>,
}

impl ReportView {
    pub fn new(r: &Report, now: Timestamp) -> Self {
        let downloadable = r.downloadable(now);
        ReportView {
            id: r.id.clone(),
            report_type: r.report_type,
            format: r.format,
            from: r.from,
            to: r.to,
            status: if r.status == ReportStatus::Ready && !downloadable { ReportStatus::Expired } else { r.status },
            progress: r.progress,
            lines: r.lines,
            total_used: r.total_used,
            bytes: r.bytes,
            error: r.error.clone(),
            created_at: r.created_at,
            finished_at: r.finished_at,
            expires_at: r.expires_at,
            download_url: downloadable.then(|| format!("/api/v1/reports/{}/download", r.id)),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportList {
    pub data: Vec<ReportView>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Ask for a usage report (credit usage by workspace or by user, or campaign
/// costs) over a range, as CSV or PDF. Written in the background: poll
/// `GET /reports/{id}` until its status is `ready`.
#[utoipa::path(post, path = "/reports", tag = "reports", extensions(("x-permission" = json!("reports:create"))),
    request_body = ReportRequest,
    responses((status = 202, body = ReportView, headers(("Location" = String, description = "the report"))),
        (status = 409, body = Problem, description = "too_many_reports")))]
async fn create_report(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<ReportRequest>,
) -> ApiResult<Response> {
    let r = reports::request(&s.db, &ctx, body).await?;
    let mut res = (StatusCode::ACCEPTED, Json(ReportView::new(&r, ctx.now))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/reports/{}", r.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// The organization's reports, newest first.
#[utoipa::path(get, path = "/reports", tag = "reports", extensions(("x-permission" = json!("billing:read"))),
    params(ListQuery), responses((status = 200, body = ReportList)))]
async fn list_reports(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ReportList>> {
    let (rows, next_cursor) = reports::list(&s.db, &ctx, &q.page()?).await?;
    Ok(Json(ReportList { data: rows.iter().map(|r| ReportView::new(r, ctx.now)).collect(), next_cursor }))
}

/// One report: its status and progress, and its download link once ready.
#[utoipa::path(get, path = "/reports/{id}", tag = "reports", extensions(("x-permission" = json!("billing:read"))),
    params(("id" = String, Path)), responses((status = 200, body = ReportView)))]
async fn get_report(State(s): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Json<ReportView>> {
    let id: ReportId = parse_id(&id, "report")?;
    Ok(Json(ReportView::new(&reports::get(&s.db, &ctx, &id).await?, ctx.now)))
}

/// The report's file (CSV or PDF), as a download, while it is kept.
#[utoipa::path(get, path = "/reports/{id}/download", tag = "reports", extensions(("x-permission" = json!("billing:read"))),
    params(("id" = String, Path)),
    responses((status = 200, description = "the file: text/csv or application/pdf"),
        (status = 409, body = Problem, description = "report_not_ready or report_failed"),
        (status = 410, body = Problem, description = "report_expired")))]
async fn download_report(State(s): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Response> {
    let id: ReportId = parse_id(&id, "report")?;
    let (r, bytes) = reports::download(&s.db, &ctx, &s.files, &id).await?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(r.format.content_type()));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", reports::filename(&r))) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    Ok(res)
}
