//! `GET /audit-events` (filtered, newest first) and `GET /audit-events/export`
//! (CSV or JSON Lines, streamed a batch at a time).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use steward_store::audit::AuditEvent;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::{AuditEventList, AuditEventView};
use crate::error::{ApiResult, Problem};
use crate::extract::ApiQuery;
use crate::services::Ctx;
use crate::services::audit::{self, AuditQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_events)).routes(routes!(export_audit_events))
}

/// The organization's audit trail, newest first, filtered by date range, actor,
/// action (or `group.*`), workspace and target.
#[utoipa::path(get, path = "/audit-events", tag = "audit", extensions(("x-permission" = json!("audit:read"))), params(AuditQuery),
    responses((status = 200, body = AuditEventList), (status = 422, body = Problem, description = "invalid_cursor or a filter out of range"),
        (status = 403, body = Problem), (status = 422, body = Problem, description = "a bad filter")))]
async fn list_audit_events(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditEventList>> {
    let (rows, next) = audit::list(&s.db, &ctx, &q).await?;
    Ok(Json(AuditEventList::new(&rows, next)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (RFC 4180) or `json` (JSON Lines).
    pub format: Option<String>,
    /// Events at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Events before this time (RFC 3339).
    pub to: Option<String>,
    /// A user (`usr_…`) or API key (`key_…`) id.
    pub actor: Option<String>,
    /// An action (`workspace.suspended`) or a group (`workspace.*`).
    pub action: Option<String>,
    /// A workspace id (`ws_…`).
    pub workspace: Option<String>,
    /// The id of the object acted on.
    pub target: Option<String>,
}

impl ExportQuery {
    fn filters(&self) -> AuditQuery {
        AuditQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            actor: self.actor.clone(),
            action: self.action.clone(),
            workspace: self.workspace.clone(),
            target: self.target.clone(),
            limit: None,
            cursor: None,
        }
    }
}

const BATCH: i64 = 1000;
const CSV_HEADER: &str = "seq,occurred_at,action,actor_type,actor_id,actor_name,target_type,target_id,workspace_id,ip,user_agent,changes,metadata\r\n";

/// Appends one event as a CSV line (written in place: exports run to millions of rows).
fn push_csv_row(out: &mut String, e: &AuditEvent) {
    fn opt(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or_default()
    }
    let json = |v: &serde_json::Value| if v.is_null() { String::new() } else { v.to_string() };
    let cells: [&str; 13] = [
        &e.seq.to_string(),
        &e.occurred_at.to_rfc3339(),
        &e.action,
        e.actor.kind.as_str(),
        opt(&e.actor.id),
        opt(&e.actor.name),
        opt(&e.target_type),
        opt(&e.target_id),
        opt(&e.workspace_id),
        opt(&e.ip),
        opt(&e.user_agent),
        &json(&e.changes),
        &json(&e.metadata),
    ];
    steward_core::csv::push_row(out, &cells);
}

/// Export the filtered trail, newest first. Streamed in batches, so memory stays
/// flat however many events match. The export itself is audited.
#[utoipa::path(get, path = "/audit-events/export", tag = "audit", extensions(("x-permission" = json!("audit:export"))), params(ExportQuery),
    responses((status = 200, description = "text/csv or application/jsonl"), (status = 422, body = Problem)))]
async fn export_audit_events(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let format = q.format.clone().unwrap_or_else(|| "csv".into());
    let (org, filter) = audit::start_export(&s.db, &ctx, &q.filters(), &format).await?;
    let csv = format == "csv";
    // State: (next batch starts before this seq, finished?, header written?).
    let stream = futures_util::stream::unfold((None::<i64>, false, false), move |(before, done, header)| {
        let (s, org, filter) = (s.clone(), org.clone(), filter.clone());
        async move {
            if done {
                return None;
            }
            if csv && !header {
                return Some((Ok::<_, std::io::Error>(CSV_HEADER.to_owned()), (before, false, true)));
            }
            match audit::export_batch(&s.db, &org, &filter, before, BATCH).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let last = rows.last().map(|e| e.seq);
                    let finished = (rows.len() as i64) < BATCH;
                    let chunk: String = if csv {
                        let mut out = String::with_capacity(rows.len() * 300);
                        rows.iter().for_each(|e| push_csv_row(&mut out, e));
                        out
                    } else {
                        rows.iter()
                            .map(|e| {
                                format!("{}\n", serde_json::to_string(&AuditEventView::from(e)).unwrap_or_default())
                            })
                            .collect()
                    };
                    Some((Ok(chunk), (last, finished, true)))
                }
                Err(e) => Some((Err(std::io::Error::other(e.detail)), (before, true, true))),
            }
        }
    });
    let mut res = Body::from_stream(stream).into_response();
    let (ct, ext) =
        if csv { ("text/csv; charset=utf-8", "csv") } else { ("application/jsonl; charset=utf-8", "jsonl") };
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"audit-events.{ext}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
