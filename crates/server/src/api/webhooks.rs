//! `/webhooks`: where the organization's events are sent (API-2), and
//! `/webhook-event-types`: which events there are.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use steward_core::ids::{DeliveryId, WebhookId};
use steward_core::time::Timestamp;
use steward_core::webhooks::EVENT_TYPES;
use steward_store::webhooks::{Attempt, Delivery, Endpoint};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::parse_id;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, ListQuery};
use crate::services::Ctx;
use crate::services::webhooks::{self, CreateWebhook, Resend, WebhookPatch};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(test_webhook))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_delivery))
        .routes(routes!(recover_webhook))
        .routes(routes!(event_types))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: WebhookId,
    pub url: String,
    pub description: Option<String>,
    /// The event types sent; empty: every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why it is disabled (by hand, `410 Gone`, or five days of failures).
    pub disabled_reason: Option<String>,
    /// Since when every delivery has failed; null while deliveries succeed.
    pub failing_since: Option<Timestamp>,
    /// Until when the previous secret still signs, after a rotation.
    pub previous_secret_valid_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Endpoint> for WebhookView {
    fn from(e: &Endpoint) -> Self {
        Self {
            id: e.id.clone(),
            url: e.url.clone(),
            description: e.description.clone(),
            event_types: e.event_types.clone(),
            enabled: e.disabled_at.is_none(),
            disabled_reason: e.disabled_reason.clone(),
            failing_since: e.failing_since,
            previous_secret_valid_until: e.previous_until,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    pub data: Vec<WebhookView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookWithSecret {
    pub webhook: WebhookView,
    /// `whsec_…`: verify the `webhook-signature` header with it. Shown only here.
    pub secret: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub attempt: i64,
    pub attempted_at: Timestamp,
    /// The receiver's HTTP status; null when there was no answer.
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    /// The first 4 KB of the answer.
    pub response: Option<String>,
    /// Why there was no answer (refused address, timeout, connection error).
    pub error: Option<String>,
}

impl From<&Attempt> for AttemptView {
    fn from(a: &Attempt) -> Self {
        Self {
            attempt: a.attempt,
            attempted_at: a.attempted_at,
            status_code: a.status_code,
            duration_ms: a.duration_ms,
            response: a.response.clone(),
            error: a.error.clone(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: DeliveryId,
    /// The `webhook-id` header: the same on every attempt.
    pub message_id: String,
    pub event_type: String,
    /// `pending` (an attempt is coming), `succeeded` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    /// The payload as sent.
    #[schema(value_type = Object)]
    pub payload: Value,
    pub attempt_log: Vec<AttemptView>,
    pub created_at: Timestamp,
}

fn delivery_view(d: &Delivery, attempts: &[Attempt]) -> DeliveryView {
    DeliveryView {
        id: d.id.clone(),
        message_id: d.message_id.to_string(),
        event_type: d.event_type.clone(),
        status: d.status.as_str().to_owned(),
        attempts: d.attempts,
        next_attempt_at: d.next_attempt_at,
        payload: serde_json::from_str(&d.payload).unwrap_or(Value::Null),
        attempt_log: attempts.iter().map(AttemptView::from).collect(),
        created_at: d.created_at,
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    pub data: Vec<DeliveryView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Resent {
    /// How many deliveries will be attempted again.
    pub resent: usize,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recover {
    /// Every failed delivery made at or after this time is sent again.
    pub since: Timestamp,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventTypeView {
    pub name: &'static str,
    pub description: &'static str,
    /// What a delivery of this type carries.
    #[schema(value_type = Object)]
    pub example: Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventTypeList {
    pub data: Vec<EventTypeView>,
}

const ID: &str = "wh_…";

/// Endpoints, oldest first. Never shows a secret.
#[utoipa::path(get, path = "/webhooks", tag = "webhooks", extensions(("x-permission" = json!("webhooks:read"))), params(ListQuery),
    responses((status = 200, body = WebhookList), (status = 403, body = Problem)))]
async fn list_webhooks(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<WebhookList>> {
    let (rows, next_cursor) = webhooks::list(&s.db, &ctx, &q.page()?).await?;
    Ok(Json(WebhookList { data: rows.iter().map(WebhookView::from).collect(), next_cursor }))
}

/// Add an endpoint. Its secret is in this response only.
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", extensions(("x-permission" = json!("webhooks:write"))), request_body = CreateWebhook,
    responses((status = 201, body = WebhookWithSecret), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_webhook(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookWithSecret>)> {
    let (e, secret) = webhooks::create(&s.db, &ctx, &s.sealer, s.config.webhooks_allow_private, body).await?;
    Ok((StatusCode::CREATED, Json(WebhookWithSecret { webhook: WebhookView::from(&e), secret })))
}

#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", extensions(("x-permission" = json!("webhooks:read"))), params(("id" = String, Path, description = ID)),
    responses((status = 200, body = WebhookView), (status = 404, body = Problem)))]
async fn get_webhook(State(s): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Json<WebhookView>> {
    let id: WebhookId = parse_id(&id, "webhook endpoint")?;
    Ok(Json(WebhookView::from(&webhooks::get(&s.db, &ctx, &id).await?)))
}

/// Change the URL, description or event types; `enabled` turns it off or on.
#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", extensions(("x-permission" = json!("webhooks:write"))), params(("id" = String, Path, description = ID)),
    request_body = WebhookPatch, responses((status = 200, body = WebhookView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_webhook(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WebhookPatch>,
) -> ApiResult<Json<WebhookView>> {
    let id: WebhookId = parse_id(&id, "webhook endpoint")?;
    Ok(Json(WebhookView::from(&webhooks::update(&s.db, &ctx, s.config.webhooks_allow_private, &id, body).await?)))
}

/// Remove an endpoint with its delivery log.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", extensions(("x-permission" = json!("webhooks:write"))), params(("id" = String, Path, description = ID)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn delete_webhook(State(s): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id: WebhookId = parse_id(&id, "webhook endpoint")?;
    webhooks::delete(&s.db, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a `webhook.test` event now (enabled or not); the delivery shows in its log.
#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "webhooks", extensions(("x-permission" = json!("webhooks:write"))), params(("id" = String, Path, description = ID)),
    responses((status = 202, body = DeliveryView), (status = 404, body = Problem)))]
async fn test_webhook(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    let id: WebhookId = parse_id(&id, "webhook endpoint")?;
    let d = webhooks::send_test(&s.db, &ctx, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery_view(&d, &[]))))
}

/// A new secret, shown once; the previous one keeps signing beside it for 24 hours.
#[utoipa::path(post, path = "/webhooks/{id}/rotate-secret", tag = "webhooks", extensions(("x-permission" = json!("webhooks:write"))), params(("id" = String, Path, description = ID)),
    responses((status = 200, body = WebhookWithSecret), (status = 404, body = Problem)))]
async fn rotate_webhook_secret(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookWithSecret>> {
    let id: WebhookId = parse_id(&id, "webhook endpoint")?;
    let (e, secret) = webhooks::rotate_secret(&s.db, &ctx, &s.sealer, &id).await?;
    Ok(Json(WebhookWithSecret { webhook: WebhookView::from(&e), secret }))
}

/// Deliveries to this endpoint, newest first, each with its attempts.
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks", extensions(("x-permission" = json!("webhooks:read"))), params(("id" = String, Path, description = ID), ListQuery),
    responses((status = 200, body = DeliveryList), (status = 404, body = Problem)))]
async fn list_deliveries(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<DeliveryList>> {
    let id: WebhookId = parse_id(&id, "webhook endpoint")?;
    let (rows, next_cursor) = webhooks::deliveries(&s.db, &ctx, &id, &q.page()?).await?;
    Ok(Json(DeliveryList { data: rows.iter().map(|(d, a)| delivery_view(d, a)).collect(), next_cursor }))
}

/// Send one delivery again now.
#[utoipa::path(post, path = "/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks", extensions(("x-permission" = json!("webhooks:write"))),
    params(("id" = String, Path, description = ID), ("delivery_id" = String, Path, description = "dlv_…")),
    responses((status = 202, body = Resent), (status = 404, body = Problem)))]
async fn retry_delivery(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Resent>)> {
    let id: WebhookId = parse_id(&id, "webhook endpoint")?;
    let delivery: DeliveryId = parse_id(&delivery_id, "delivery")?;
    let resent = webhooks::resend(&s.db, &ctx, &id, Resend::One(delivery)).await?;
    Ok((StatusCode::ACCEPTED, Json(Resent { resent })))
}

/// Send again every failed delivery made since a time (after an outage).
#[utoipa::path(post, path = "/webhooks/{id}/recover", tag = "webhooks", extensions(("x-permission" = json!("webhooks:write"))), params(("id" = String, Path, description = ID)),
    request_body = Recover, responses((status = 202, body = Resent), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn recover_webhook(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Recover>,
) -> ApiResult<(StatusCode, Json<Resent>)> {
    let id: WebhookId = parse_id(&id, "webhook endpoint")?;
    let resent = webhooks::resend(&s.db, &ctx, &id, Resend::FailedSince(body.since)).await?;
    Ok((StatusCode::ACCEPTED, Json(Resent { resent })))
}

/// Every event type an endpoint can ask for, with an example payload.
#[utoipa::path(get, path = "/webhook-event-types", tag = "webhooks", extensions(("x-permission" = json!("webhooks:read"))),
    responses((status = 200, body = EventTypeList), (status = 403, body = Problem)))]
async fn event_types(ctx: Ctx) -> ApiResult<Json<EventTypeList>> {
    ctx.authorize(steward_core::permissions::Permission::WebhooksRead)?;
    let data = EVENT_TYPES
        .iter()
        .map(|t| EventTypeView {
            name: t.name,
            description: t.description,
            example: json!({
                "type": t.name,
                "timestamp": "2026-01-31T12:00:00Z",
                "data": {
                    "event_id": "evt_0193a0c4a1b27d3e9f8e6b5a4c3d2e1f",
                    "action": if t.action.is_empty() { t.name } else { t.action },
                    "occurred_at": "2026-01-31T12:00:00Z",
                    "actor": { "type": "user", "id": "usr_0193a0c4a1b27d3e9f8e6b5a4c3d2e1f", "name": "ada@acme.example" },
                    "target": { "type": t.name.split('.').next().unwrap_or(""), "id": "…" },
                    "workspace_id": null, "changes": null, "metadata": null
                }
            }),
        })
        .collect();
    Ok(Json(EventTypeList { data }))
}
