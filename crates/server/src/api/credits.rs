//! `/credits`: the balance, debits from the platform's services (with
//! `Idempotency-Key`), refunds, grants (the operator's), the transaction
//! history, usage and alert thresholds.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use steward_core::credits::EntryKind;
use steward_core::ids::CreditEntryId;
use steward_core::messages::rule;
use steward_core::{Error, validate::Fields};
use steward_store::credits::EntryFilter;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::parse_id;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, ListQuery, OptionalJson};
use crate::services::Ctx;
use crate::services::credits::adjustments::{self, AdjustmentRequest};
use crate::services::credits::debits::{self, DebitRequest, RefundRequest};
use crate::services::credits::{
    self, AlertSettings, BudgetRequest, BudgetView, EntryView, GrantRequest, GroupBy, Summary,
};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_credits))
        .routes(routes!(create_debit))
        .routes(routes!(refund_debit))
        .routes(routes!(create_grant))
        .routes(routes!(create_adjustment))
        .routes(routes!(list_transactions))
        .routes(routes!(export_transactions))
        .routes(routes!(get_usage))
        .routes(routes!(get_alerts, put_alerts))
        .routes(routes!(list_budgets))
        .routes(routes!(put_budget))
}

/// The balance: by category, what expires in 30 days, the last 30 days' use and the days left at that rate.
#[utoipa::path(get, path = "/credits", tag = "credits", extensions(("x-permission" = json!("credits:read"))),
    responses((status = 200, body = Summary)))]
async fn get_credits(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Summary>> {
    Ok(Json(credits::summary(&s.db, &ctx).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntryList {
    pub data: Vec<EntryView>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Debit credits for a workspace's usage, once per `Idempotency-Key`: the same
/// key and body answer the first answer again (`Idempotent-Replayed: true`).
#[utoipa::path(post, path = "/credits/debits", tag = "credits", extensions(("x-permission" = json!("credits:debit"))),
    params(("Idempotency-Key" = String, Header, description = "A unique value per debit (a UUID): 1 to 255 visible ASCII characters; send it again when retrying.",
        min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    request_body = DebitRequest,
    responses((status = 201, body = EntryView, description = "The entry, with the balance after it."),
        (status = 400, body = Problem, description = "idempotency_key_required"),
        (status = 402, body = Problem, description = "insufficient_credits: `balance` and `shortfall` say by how much"),
        (status = 403, body = Problem, description = "workspace_suspended"),
        (status = 409, body = Problem, description = "idempotency_key_in_use, or workspace_archived"),
        (status = 422, body = Problem, description = "idempotency_key_reused, or a field is wrong")))]
async fn create_debit(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    ApiJson(body): ApiJson<DebitRequest>,
) -> ApiResult<Response> {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    let answer = debits::debit(&s.debits, &ctx, key, body).await?;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::CREATED);
    let content_type = if status.is_success() { "application/json" } else { "application/problem+json" };
    let mut res = (status, [(header::CONTENT_TYPE, content_type)], answer.body).into_response();
    if answer.replayed {
        res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(res)
}

/// Give back all or part of a debit; refunds of one debit never add up to more than it.
#[utoipa::path(post, path = "/credits/debits/{id}/refund", tag = "credits", extensions(("x-permission" = json!("credits:debit"))),
    params(("id" = String, Path, description = "cre_…")), request_body = RefundRequest,
    responses((status = 201, body = EntryView), (status = 409, body = Problem, description = "not_a_debit"),
        (status = 422, body = Problem, description = "over_refundable")))]
async fn refund_debit(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<RefundRequest>,
) -> ApiResult<(StatusCode, Json<EntryView>)> {
    let id: CreditEntryId = parse_id(&id, "credit entry")?;
    Ok((StatusCode::CREATED, Json(debits::refund(&s.db, &ctx, &id, body.unwrap_or_default()).await?)))
}

/// Grant credits (the platform operator's permission: Super Admins cannot mint credits).
#[utoipa::path(post, path = "/credits/grants", tag = "credits", extensions(("x-permission" = json!("operator:credits"))),
    request_body = GrantRequest, responses((status = 201, body = EntryView)))]
async fn create_grant(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<GrantRequest>,
) -> ApiResult<(StatusCode, Json<EntryView>)> {
    Ok((StatusCode::CREATED, Json(credits::grant(&s.db, &ctx, body).await?)))
}

/// Adjust the balance by hand, with a reason (the platform operator's): a
/// positive amount adds paid credits, a negative one takes credits away in
/// the order a debit would (`402 insufficient_credits` past the balance).
#[utoipa::path(post, path = "/credits/adjustments", tag = "credits", extensions(("x-permission" = json!("operator:credits"))),
    request_body = AdjustmentRequest, responses((status = 201, body = EntryView), (status = 402, body = Problem)))]
async fn create_adjustment(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<AdjustmentRequest>,
) -> ApiResult<(StatusCode, Json<EntryView>)> {
    Ok((StatusCode::CREATED, Json(adjustments::adjust(&s.db, &ctx, body).await?)))
}

/// The transaction history's filters (the list pages with `?limit=&cursor=` besides).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransactionFilter {
    /// `grant`, `debit`, `refund`, `expiry` or `adjustment`.
    pub kind: Option<String>,
    pub workspace_id: Option<String>,
    pub user_id: Option<String>,
    pub campaign_id: Option<String>,
    /// Entries at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Entries before this time (RFC 3339).
    pub to: Option<String>,
}

impl TransactionFilter {
    /// The filters, checked.
    fn checked(&self) -> Result<EntryFilter, Error> {
        let mut f = Fields::new();
        let kind = self.kind.as_deref().filter(|k| !k.is_empty()).and_then(|k| {
            let parsed = EntryKind::parse(k);
            if parsed.is_none() {
                f.push("kind", &rule::NOT_ONE_OF, &[("allowed", &"grant, debit, refund, expiry, adjustment")]);
            }
            parsed
        });
        let (from, to) = (f.time("from", self.from.as_deref()), f.time("to", self.to.as_deref()));
        f.finish()?;
        let given = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        Ok(EntryFilter {
            kind,
            workspace_id: given(&self.workspace_id),
            user_id: given(&self.user_id),
            campaign_id: given(&self.campaign_id),
            from,
            to,
        })
    }
}

/// The transaction history, newest first: every grant, debit, refund, expiry and adjustment.
#[utoipa::path(get, path = "/credits/transactions", tag = "credits", extensions(("x-permission" = json!("credits:read"))),
    params(TransactionFilter, ListQuery), responses((status = 200, body = EntryList)))]
async fn list_transactions(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<TransactionFilter>,
    ApiQuery(list): ApiQuery<ListQuery>,
) -> ApiResult<Json<EntryList>> {
    let filter = q.checked()?;
    let page = list.page()?;
    let (rows, next_cursor) = credits::transactions(&s.db, &ctx, &filter, &page).await?;
    Ok(Json(EntryList { data: rows.iter().map(EntryView::from).collect(), next_cursor }))
}

const CSV_HEADER: &str = "id,occurred_at,kind,amount,balance_after,workspace_id,user_id,campaign_id,grant_id,refunds_id,refunded,reason,actor_type,actor_id,metadata\r\n";
const EXPORT_BATCH: u32 = 200;

fn push_csv_row(out: &mut String, e: &steward_store::credits::Entry) {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    // Numbers are ours and written as they are (a debit's minus is no formula);
    // text may come from a caller and is defused.
    let (number, text) = (false, true);
    let cells = [
        (e.id.to_string(), number),
        (e.occurred_at.to_rfc3339(), number),
        (e.kind.as_str().to_owned(), number),
        (e.amount.to_string(), number),
        (e.balance_after.to_string(), number),
        (opt(&e.workspace_id), text),
        (opt(&e.user_id), text),
        (opt(&e.campaign_id), text),
        (opt(&e.grant_id), text),
        (opt(&e.refunds_id), text),
        (e.refunded.to_string(), number),
        (e.reason.clone(), text),
        (e.actor_type.clone(), text),
        (opt(&e.actor_id), text),
        (e.metadata.to_string(), text),
    ];
    for (i, (cell, is_text)) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if *is_text {
            steward_core::csv::push_cell(out, cell);
        } else {
            out.push_str(cell);
        }
    }
    out.push_str("\r\n");
}

/// The filtered history as CSV (RFC 4180, formula cells defused), newest
/// first, streamed a page at a time.
#[utoipa::path(get, path = "/credits/transactions/export", tag = "credits", extensions(("x-permission" = json!("credits:read"))),
    params(TransactionFilter), responses((status = 200, description = "text/csv")))]
async fn export_transactions(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<TransactionFilter>,
) -> ApiResult<Response> {
    let filter = q.checked()?;
    // Refused now, not halfway through the stream: permission and range.
    credits::transactions(&s.db, &ctx, &filter, &steward_core::pagination::Page { limit: 1, after: None }).await?;
    // State: (the page's cursor, finished?, header written?).
    let stream = futures_util::stream::unfold((None::<String>, false, false), move |(after, done, header)| {
        let (s, ctx, filter) = (s.clone(), ctx.clone(), filter.clone());
        async move {
            if done {
                return None;
            }
            if !header {
                return Some((Ok::<_, std::io::Error>(CSV_HEADER.to_owned()), (after, false, true)));
            }
            let page = steward_core::pagination::Page { limit: EXPORT_BATCH, after };
            match credits::transactions(&s.db, &ctx, &filter, &page).await {
                Ok((rows, next)) if !rows.is_empty() => {
                    let mut out = String::with_capacity(rows.len() * 200);
                    rows.iter().for_each(|e| push_csv_row(&mut out, e));
                    let finished = next.is_none();
                    let after = next.and_then(|c| steward_core::pagination::decode_cursor(&c).ok());
                    Some((Ok(out), (after, finished, true)))
                }
                Ok(_) => None,
                Err(e) => Some((Err(std::io::Error::other(e.detail)), (None, true, true))),
            }
        }
    });
    let mut res = axum::body::Body::from_stream(stream).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"credit-transactions.csv\""),
    );
    Ok(res)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    #[param(inline)]
    pub group_by: GroupBy,
    /// The range's start (RFC 3339).
    pub from: String,
    /// The range's end (RFC 3339), at most two years after `from`.
    pub to: String,
    /// Lines per page, 1–200 (default 50), by workspace, user or campaign;
    /// by day, week or month every period comes at once.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UsageRow {
    /// The workspace, user or campaign id, or the first day of the day, week or month.
    pub key: String,
    pub used: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UsageList {
    pub data: Vec<UsageRow>,
    /// Credits used in the range, every line together (not only this page's).
    pub total: i64,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Credits used in a range, by workspace, user or campaign (most first, a page at a time) or by day, week or month.
#[utoipa::path(get, path = "/credits/usage", tag = "credits", extensions(("x-permission" = json!("credits:read"))),
    params(UsageQuery), responses((status = 200, body = UsageList)))]
async fn get_usage(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<UsageQuery>,
) -> ApiResult<Json<UsageList>> {
    let mut f = Fields::new();
    for (field, v) in [("from", &q.from), ("to", &q.to)] {
        if v.is_empty() {
            f.push(field, &rule::REQUIRED, &[]);
        }
    }
    let (from, to) = (f.time("from", Some(&q.from)), f.time("to", Some(&q.to)));
    f.finish()?;
    let (Some(from), Some(to)) = (from, to) else { return Err(Error::internal().into()) };
    let page = steward_core::pagination::Page::parse(q.limit, q.cursor.as_deref())?;
    let (rows, next_cursor, total) = credits::usage_page(&s.db, &ctx, q.group_by, (from, to), &page).await?;
    let data = rows.into_iter().map(|(key, used)| UsageRow { key, used }).collect();
    Ok(Json(UsageList { data, total, next_cursor }))
}

/// The alert thresholds, and whether each has fired since the balance was last above it.
#[utoipa::path(get, path = "/credits/alerts", tag = "credits", extensions(("x-permission" = json!("credits:read"))),
    responses((status = 200, body = AlertSettings)))]
async fn get_alerts(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<AlertSettings>> {
    Ok(Json(credits::get_alerts(&s.db, &ctx).await?))
}

/// Replace the alert thresholds. Each fires once when the balance falls to it
/// (console banner, a letter to the Super Admins, webhook `credits.low` or
/// `credits.depleted`) and re-arms when the balance rises above it.
#[utoipa::path(put, path = "/credits/alerts", tag = "credits", extensions(("x-permission" = json!("credits:alerts"))),
    request_body = AlertSettings, responses((status = 200, body = AlertSettings)))]
async fn put_alerts(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<AlertSettings>,
) -> ApiResult<Json<AlertSettings>> {
    Ok(Json(credits::put_alerts(&s.db, &ctx, body).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BudgetList {
    pub data: Vec<BudgetView>,
}

/// Workspaces' monthly budgets, with what each used this month.
#[utoipa::path(get, path = "/credits/budgets", tag = "credits", extensions(("x-permission" = json!("credits:read"))),
    responses((status = 200, body = BudgetList)))]
async fn list_budgets(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<BudgetList>> {
    Ok(Json(BudgetList { data: credits::budgets(&s.db, &ctx).await? }))
}

/// Set (`{"monthly": N}`) or remove (`{"monthly": null}`) a workspace's monthly budget;
/// past it, the workspace's debits are `403 workspace_budget_exceeded` until the month ends.
#[utoipa::path(put, path = "/credits/budgets/{workspace_id}", tag = "credits", extensions(("x-permission" = json!("credits:budgets"))),
    params(("workspace_id" = String, Path, description = "ws_…")), request_body = BudgetRequest,
    responses((status = 200, body = BudgetView), (status = 204, description = "The budget was removed.")))]
async fn put_budget(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BudgetRequest>,
) -> ApiResult<Response> {
    let id: steward_core::ids::WorkspaceId = parse_id(&id, "workspace")?;
    Ok(match credits::set_budget(&s.db, &ctx, &id, body).await? {
        Some(view) => Json(view).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}
