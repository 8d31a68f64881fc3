//! Webhook endpoints of the organization (API-2, WS-7): where events go, which
//! ones, signed with whose secret; their deliveries and sending them again.

use serde::Deserialize;
use serde_json::json;
use steward_core::audit::Changes;
use steward_core::ids::{DeliveryId, MessageId, WebhookId};
use steward_core::messages::rule;
use steward_core::pagination::{self, Page};
use steward_core::permissions::Permission;
use steward_core::sealing::Sealer;
use steward_core::time::Timestamp;
use steward_core::validate::{self, Fields};
use steward_core::webhooks::{self as rules, is_event_type};
use steward_core::{Error, Result};
use steward_store::webhooks::{self as store, Delivery, DeliveryStatus, Endpoint};
use steward_store::{Db, WriteTx, audit};

use super::{Ctx, EventExt};
use crate::jobs::{self, Enqueue};

/// The audit target of an endpoint.
pub const TARGET: &str = "webhook";
/// How long a rotated-out secret still signs, so receivers can switch over.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3600 * 1000;

/// The context a secret is sealed under: only this endpoint's row opens it.
pub fn seal_context(id: &WebhookId) -> String {
    format!("webhook-secret:{id}")
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where events are POSTed: `https://…` (http only to loopback when the
    /// deployment sets `webhooks_allow_private`).
    pub url: String,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// Event types to send (see `GET /api/v1/webhook-event-types`); empty or absent: every type.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    pub url: Option<String>,
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(max_length = 1000, value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// The URL's rules, and a literal address must be one a delivery may reach
/// (names are checked when connecting, on the address actually used).
fn check_url(fields: &mut Fields, url: &str, allow_private: bool) -> Option<String> {
    let url = fields.check(rules::endpoint_url("url", url, allow_private))?;
    match crate::jobs::webhooks::literal_address(&url, allow_private) {
        Some(address) => {
            fields.push("url", &rule::PRIVATE_ADDRESS, &[("address", &address)]);
            None
        }
        None => Some(url),
    }
}

fn check_types(fields: &mut Fields, types: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, t) in types.iter().enumerate() {
        if !is_event_type(t) {
            fields.push(&format!("event_types[{i}]"), &rule::UNKNOWN_EVENT_TYPE, &[("value", t)]);
        } else if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

/// A new endpoint and its secret, shown this once.
pub async fn create(
    db: &Db,
    ctx: &Ctx,
    sealer: &Sealer,
    allow_private: bool,
    input: CreateWebhook,
) -> Result<(Endpoint, String)> {
    let org = ctx.authorize(Permission::WebhooksWrite)?;
    let mut fields = Fields::new();
    let url = check_url(&mut fields, &input.url, allow_private);
    let description = fields.check(validate::description("description", input.description.as_deref()));
    let event_types = check_types(&mut fields, &input.event_types);
    fields.finish()?;
    let id = WebhookId::new();
    let secret = rules::new_secret();
    let endpoint = Endpoint {
        org_id: org.id().clone(),
        url: url.unwrap_or_default(),
        description: description.flatten(),
        event_types,
        secret: sealer.seal(&secret, &seal_context(&id)),
        previous_secret: None,
        previous_until: None,
        disabled_at: (input.enabled == Some(false)).then_some(ctx.now),
        disabled_reason: (input.enabled == Some(false)).then(|| "Disabled when it was added.".to_owned()),
        failing_since: None,
        created_at: ctx.now,
        updated_at: ctx.now,
        id,
    };
    let mut tx = db.write(&org).await?;
    store::insert_endpoint(&mut tx, &endpoint).await?;
    let mut changes = Changes::new();
    changes.created("url", &endpoint.url).created("event_types", &endpoint.event_types);
    let e = ctx.event(&org, "webhook.created", TARGET, &endpoint.id).changes(changes.into_value());
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok((endpoint, secret))
}

pub async fn list(db: &Db, ctx: &Ctx, page: &Page) -> Result<(Vec<Endpoint>, Option<String>)> {
    let org = ctx.authorize(Permission::WebhooksRead)?;
    let mut c = db.conn().await?;
    let rows = store::list_endpoints(&mut c, &org, page).await?;
    Ok(pagination::finish(rows, page, |e| e.id.to_string()))
}

pub async fn get(db: &Db, ctx: &Ctx, id: &WebhookId) -> Result<Endpoint> {
    let org = ctx.authorize(Permission::WebhooksRead)?;
    let mut c = db.conn().await?;
    store::get_endpoint(&mut c, &org, id).await?.ok_or_else(|| Error::not_found("webhook endpoint"))
}

pub async fn update(db: &Db, ctx: &Ctx, allow_private: bool, id: &WebhookId, patch: WebhookPatch) -> Result<Endpoint> {
    let org = ctx.authorize(Permission::WebhooksWrite)?;
    let mut fields = Fields::new();
    let url = patch.url.as_deref().and_then(|u| check_url(&mut fields, u, allow_private));
    let description = match &patch.description {
        Some(d) => fields.check(validate::description("description", d.as_deref())),
        None => None,
    };
    let types = patch.event_types.as_deref().map(|t| check_types(&mut fields, t));
    fields.finish()?;
    let mut tx = db.write(&org).await?;
    let before = store::get_endpoint(&mut tx, &org, id).await?.ok_or_else(|| Error::not_found("webhook endpoint"))?;
    let mut after = before.clone();
    after.url = url.unwrap_or(after.url);
    after.description = description.unwrap_or(after.description);
    after.event_types = types.unwrap_or(after.event_types);
    match patch.enabled {
        Some(true) => (after.disabled_at, after.disabled_reason, after.failing_since) = (None, None, None),
        Some(false) if after.disabled_at.is_none() => {
            after.disabled_at = Some(ctx.now);
            after.disabled_reason = Some("Disabled by hand.".into());
        }
        _ => {}
    }
    let mut changes = Changes::new();
    changes
        .field("url", &before.url, &after.url)
        .field("description", &before.description, &after.description)
        .field("event_types", &before.event_types, &after.event_types)
        .field("enabled", &before.disabled_at.is_none(), &after.disabled_at.is_none());
    if changes.is_empty() {
        return Ok(before);
    }
    after.updated_at = ctx.now;
    store::update_endpoint(&mut tx, &after).await?;
    let done =
        audit::append(&mut tx, ctx.event(&org, "webhook.updated", TARGET, id).changes(changes.into_value())).await?;
    tx.commit(done).await?;
    Ok(after)
}

pub async fn delete(db: &Db, ctx: &Ctx, id: &WebhookId) -> Result<()> {
    let org = ctx.authorize(Permission::WebhooksWrite)?;
    let mut tx = db.write(&org).await?;
    let e = store::get_endpoint(&mut tx, &org, id).await?.ok_or_else(|| Error::not_found("webhook endpoint"))?;
    store::delete_endpoint(&mut tx, &org, id).await?;
    let event = ctx.event(&org, "webhook.deleted", TARGET, id).metadata(json!({ "url": e.url }));
    let done = audit::append(&mut tx, event).await?;
    tx.commit(done).await?;
    Ok(())
}

/// A new secret; the old one keeps signing (beside the new) for 24 hours.
pub async fn rotate_secret(db: &Db, ctx: &Ctx, sealer: &Sealer, id: &WebhookId) -> Result<(Endpoint, String)> {
    let org = ctx.authorize(Permission::WebhooksWrite)?;
    let mut tx = db.write(&org).await?;
    let mut e = store::get_endpoint(&mut tx, &org, id).await?.ok_or_else(|| Error::not_found("webhook endpoint"))?;
    let secret = rules::new_secret();
    e.previous_secret = Some(std::mem::replace(&mut e.secret, sealer.seal(&secret, &seal_context(id))));
    e.previous_until = Some(Timestamp::from_millis(ctx.now.millis() + ROTATION_OVERLAP_MS));
    e.updated_at = ctx.now;
    store::update_endpoint(&mut tx, &e).await?;
    let event = ctx
        .event(&org, "webhook.secret_rotated", TARGET, id)
        .metadata(json!({ "previous_valid_until": e.previous_until }));
    let done = audit::append(&mut tx, event).await?;
    tx.commit(done).await?;
    Ok((e, secret))
}

/// A delivery of `event_type` with `data` to `endpoint`, and the job that sends
/// it, in the caller's transaction. `None` when the endpoint has it already.
pub async fn deliver(
    tx: &mut WriteTx,
    endpoint: &Endpoint,
    message_id: MessageId,
    event_type: &str,
    occurred_at: Timestamp,
    data: serde_json::Value,
    now: Timestamp,
) -> Result<Option<Delivery>> {
    let payload = json!({ "type": event_type, "timestamp": occurred_at, "data": data }).to_string();
    let d = Delivery {
        id: DeliveryId::new(),
        org_id: endpoint.org_id.clone(),
        endpoint_id: endpoint.id.clone(),
        message_id,
        event_type: event_type.to_owned(),
        payload,
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(now),
        last_status_code: None,
        created_at: now,
        updated_at: now,
    };
    if !store::insert_delivery(tx, &d).await? {
        return Ok(None);
    }
    schedule_attempt(tx, &d, now).await?;
    Ok(Some(d))
}

/// The job that makes a delivery's next attempt at `at`.
pub async fn schedule_attempt(tx: &mut WriteTx, d: &Delivery, at: Timestamp) -> Result<()> {
    let job = crate::jobs::webhooks::Attempt { delivery_id: d.id.clone() };
    let opts = Enqueue { org: Some(d.org_id.clone()), run_at: Some(at), dedupe_key: None };
    jobs::enqueue(tx, &job, opts, at).await?;
    Ok(())
}

/// Sends a `webhook.test` event to the endpoint now, enabled or not.
pub async fn send_test(db: &Db, ctx: &Ctx, id: &WebhookId) -> Result<Delivery> {
    let org = ctx.authorize(Permission::WebhooksWrite)?;
    let mut tx = db.write(&org).await?;
    let e = store::get_endpoint(&mut tx, &org, id).await?.ok_or_else(|| Error::not_found("webhook endpoint"))?;
    let data = json!({ "message": "A test event from Steward.", "endpoint_id": e.id });
    // A fresh message id is never a duplicate, so a delivery is always made.
    let made = deliver(&mut tx, &e, MessageId::new(), rules::TEST_EVENT, ctx.now, data, ctx.now).await?;
    let delivery = made.ok_or_else(Error::internal)?;
    let done = audit::append(&mut tx, ctx.event(&org, "webhook.tested", TARGET, id)).await?;
    tx.commit(done).await?;
    Ok(delivery)
}

pub async fn deliveries(
    db: &Db,
    ctx: &Ctx,
    id: &WebhookId,
    page: &Page,
) -> Result<(Vec<(Delivery, Vec<store::Attempt>)>, Option<String>)> {
    let org = ctx.authorize(Permission::WebhooksRead)?;
    let mut c = db.conn().await?;
    store::get_endpoint(&mut c, &org, id).await?.ok_or_else(|| Error::not_found("webhook endpoint"))?;
    let rows = store::list_deliveries(&mut c, &org, id, page).await?;
    let (rows, next) = pagination::finish(rows, page, |d| d.id.to_string());
    let ids: Vec<DeliveryId> = rows.iter().map(|d| d.id.clone()).collect();
    let mut by_delivery: std::collections::HashMap<DeliveryId, Vec<store::Attempt>> = Default::default();
    for (id, attempt) in store::attempts_of(&mut c, &org, &ids).await? {
        by_delivery.entry(id).or_default().push(attempt);
    }
    let out = rows
        .into_iter()
        .map(|d| {
            let attempts = by_delivery.remove(&d.id).unwrap_or_default();
            (d, attempts)
        })
        .collect();
    Ok((out, next))
}

/// Sends failed deliveries again: one (`retry`), or all since a time (`recover`).
pub async fn resend(db: &Db, ctx: &Ctx, id: &WebhookId, which: Resend) -> Result<usize> {
    let org = ctx.authorize(Permission::WebhooksWrite)?;
    let mut tx = db.write(&org).await?;
    store::get_endpoint(&mut tx, &org, id).await?.ok_or_else(|| Error::not_found("webhook endpoint"))?;
    let chosen = match which {
        Resend::One(d) => {
            let d = store::get_delivery(&mut tx, &org, &d)
                .await?
                .filter(|d| &d.endpoint_id == id)
                .ok_or_else(|| Error::not_found("delivery"))?;
            vec![d]
        }
        Resend::FailedSince(t) => store::failed_since(&mut tx, &org, id, t).await?,
    };
    for d in &chosen {
        store::reopen(&mut tx, d, ctx.now).await?;
        schedule_attempt(&mut tx, d, ctx.now).await?;
    }
    let done = audit::append(
        &mut tx,
        ctx.event(&org, "webhook.resent", TARGET, id).metadata(json!({ "deliveries": chosen.len() })),
    )
    .await?;
    tx.commit(done).await?;
    Ok(chosen.len())
}

pub enum Resend {
    One(DeliveryId),
    FailedSince(Timestamp),
}
