//! Billing → Reports (BILL-4): ask for a usage report over a range as CSV or
//! PDF, watch it being written, download it while it is kept. The same as
//! `POST/GET /api/v1/reports`; the page polls a pending report's progress.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use steward_core::messages::rule;
use steward_core::pagination::Page;
use steward_core::permissions::Permission;
use steward_core::reports::{ReportFormat, ReportStatus, ReportType};
use steward_core::time::Timestamp;
use steward_core::validate::Fields;

use super::organization::{ask_admin, layout};
use super::session::{ConsoleSession, notice_text, see_other};
use super::{error_page, field_errors, format};
use crate::services::reports::{self, ReportRequest};
use crate::state::AppState;

const BASE: &str = "/settings/billing/reports";
const DAY_MS: i64 = 86_400_000;

pub fn router() -> Router<AppState> {
    Router::new().route(BASE, get(show).post(create))
}

struct ReportRow {
    id: String,
    created: String,
    title: &'static str,
    range: String,
    format: String,
    status: &'static str,
    pending: bool,
    progress: i64,
    download: Option<String>,
    detail: String,
}

/// What the form shows: the choices made (or the defaults).
struct FormValues {
    report_type: String,
    format: String,
    from: String,
    to: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "reports.html")]
struct ReportsPage {
    layout: super::session::Layout,
    types: Vec<(&'static str, &'static str)>,
    form: FormValues,
    reports: Vec<ReportRow>,
    can_create: bool,
    errors: HashMap<String, String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PageQuery {
    notice: Option<String>,
}

fn defaults(now: Timestamp) -> FormValues {
    FormValues {
        report_type: ReportType::UsageByWorkspace.as_str().into(),
        format: ReportFormat::Pdf.as_str().into(),
        from: Timestamp::from_millis(now.millis() - 29 * DAY_MS).utc_date(),
        to: now.utc_date(),
    }
}

async fn show(State(s): State<AppState>, session: ConsoleSession, Query(q): Query<PageQuery>) -> Response {
    if !session.can(Permission::BillingRead) {
        return ask_admin(&s, &session).await;
    }
    let form = defaults(session.ctx().now);
    render(&s, &session, form, None, notice_text(q.notice.as_deref())).await
}

async fn render(
    s: &AppState,
    session: &ConsoleSession,
    form: FormValues,
    error: Option<&steward_core::Error>,
    notice: Option<String>,
) -> Response {
    let ctx = session.ctx();
    let rows = match reports::list(&s.db, &ctx, &Page { limit: 50, after: None }).await {
        Ok((rows, _)) => rows,
        Err(e) => return error_page(&e),
    };
    let tz = session.org.timezone.clone();
    let reports = rows
        .iter()
        .map(|r| {
            let view = crate::api::reports::ReportView::new(r, ctx.now);
            let detail = match view.status {
                ReportStatus::Ready => format!(
                    "{} lines · {} · until {}",
                    format::int(r.lines.unwrap_or(0)),
                    format::bytes(r.bytes.unwrap_or(0)),
                    r.expires_at.map(|t| format::date(t, &tz).0).unwrap_or_default()
                ),
                ReportStatus::Failed => r.error.clone().unwrap_or_default(),
                ReportStatus::Expired => "Ask for it again to download it.".into(),
                _ => String::new(),
            };
            ReportRow {
                id: r.id.to_string(),
                created: format::date(r.created_at, &tz).0,
                title: r.report_type.title(),
                range: format!("{} – {}", r.from.utc_date(), Timestamp::from_millis(r.to.millis() - 1).utc_date()),
                format: r.format.as_str().to_uppercase(),
                status: view.status.as_str(),
                pending: view.status.is_pending(),
                progress: r.progress,
                download: view.download_url,
                detail,
            }
        })
        .collect();
    let page = ReportsPage {
        layout: layout(s, session, "Reports", "reports").await.with_notice(notice),
        types: ReportType::ALL.iter().map(|t| (t.as_str(), t.title())).collect(),
        form,
        reports,
        can_create: session.can(Permission::ReportsCreate),
        errors: error.map(field_errors).unwrap_or_default(),
        error: error.map(super::refusals::banner),
    };
    (super::refusals::status(error), page).into_response()
}

/// The form: a type, a format, and the first and last day (UTC, both included).
async fn create(State(s): State<AppState>, session: ConsoleSession, body: Bytes) -> Response {
    let pairs = super::FormPairs::parse(&body);
    if let Err(r) = session.check_csrf(&pairs.get("csrf_token")) {
        return r;
    }
    let form = FormValues {
        report_type: pairs.get("type"),
        format: pairs.get("format"),
        from: pairs.get("from"),
        to: pairs.get("to"),
    };
    let mut f = Fields::new();
    let report_type = ReportType::parse(&form.report_type);
    if report_type.is_none() {
        f.push("type", &rule::NOT_ONE_OF, &[("allowed", &"usage by workspace, usage by user, campaign costs")]);
    }
    let format = ReportFormat::parse(&form.format);
    if format.is_none() {
        f.push("format", &rule::NOT_ONE_OF, &[("allowed", &"CSV, PDF")]);
    }
    let mut day_of = |field: &str, value: &str, plus: i64| {
        let t = format::day_start(value, "UTC", plus);
        if t.is_none() {
            f.push(field, &rule::REQUIRED, &[]);
        }
        t
    };
    // The last day is included: the range ends when the day after begins.
    let (from, to) = (day_of("from", &form.from, 0), day_of("to", &form.to, 1));
    let asked = match (f.finish(), report_type, format, from, to) {
        (Ok(()), Some(report_type), Some(format), Some(from), Some(to)) => {
            reports::request(&s.db, &session.ctx(), ReportRequest { report_type, format, from, to }).await
        }
        (Err(e), ..) => Err(e),
        _ => Err(steward_core::Error::internal()),
    };
    match asked {
        Ok(_) => see_other(BASE, "report_requested"),
        Err(e) if e.status < 500 => render(&s, &session, form, Some(&e), None).await,
        Err(e) => error_page(&e),
    }
}
