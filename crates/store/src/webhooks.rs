//! Webhook endpoints, their deliveries and each delivery's attempts. Secrets
//! are stored sealed; this module moves them as opaque text.

use sqlx::Row;
use sqlx::any::AnyRow;
use steward_core::ids::{DeliveryId, MessageId, OrgId, WebhookId};
use steward_core::pagination::Page;
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::row::{Arg, all, int, one, opt_text, opt_time, text, time};
use crate::scope::OrgScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: WebhookId,
    pub org_id: OrgId,
    pub url: String,
    pub description: Option<String>,
    /// The event types it wants; empty: every type.
    pub event_types: Vec<String>,
    /// Sealed secret text.
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<Timestamp>,
    pub disabled_at: Option<Timestamp>,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Endpoint {
    pub fn wants(&self, event_type: &str) -> bool {
        self.disabled_at.is_none() && (self.event_types.is_empty() || self.event_types.iter().any(|t| t == event_type))
    }
}

const ENDPOINT_COLUMNS: &str = "id, org_id, url, description, event_types, secret, previous_secret, previous_until, \
    disabled_at, disabled_reason, failing_since, created_at, updated_at";

fn endpoint(r: &AnyRow) -> StoreResult<Endpoint> {
    Ok(Endpoint {
        id: WebhookId::from_trusted(text(r, "id")?),
        org_id: OrgId::from_trusted(text(r, "org_id")?),
        url: text(r, "url")?,
        description: opt_text(r, "description")?,
        event_types: text(r, "event_types")?.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        secret: text(r, "secret")?,
        previous_secret: opt_text(r, "previous_secret")?,
        previous_until: opt_time(r, "previous_until")?,
        disabled_at: opt_time(r, "disabled_at")?,
        disabled_reason: opt_text(r, "disabled_reason")?,
        failing_since: opt_time(r, "failing_since")?,
        created_at: time(r, "created_at")?,
        updated_at: time(r, "updated_at")?,
    })
}

fn opt_int(v: Option<Timestamp>) -> Arg {
    v.map_or(Arg::NullInt, |t| Arg::Int(t.millis()))
}

fn opt_str(v: &Option<String>) -> Arg {
    v.as_ref().map_or(Arg::NullText, |s| Arg::Text(s.clone()))
}

fn endpoint_args(e: &Endpoint) -> Vec<Arg> {
    vec![
        e.id.as_str().into(),
        e.org_id.as_str().into(),
        (&e.url).into(),
        opt_str(&e.description),
        e.event_types.join(" ").as_str().into(),
        (&e.secret).into(),
        opt_str(&e.previous_secret),
        opt_int(e.previous_until),
        opt_int(e.disabled_at),
        opt_str(&e.disabled_reason),
        opt_int(e.failing_since),
        e.created_at.millis().into(),
        e.updated_at.millis().into(),
    ]
}

pub async fn insert_endpoint(c: &mut WriteTx, e: &Endpoint) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    crate::row::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), endpoint_args(e)).execute(&mut **c).await?;
    Ok(())
}

/// Saves an edit (URL, events, secret, enabled). `failing_since` is the
/// attempts' to write: an edit leaves it, except that turning a disabled
/// endpoint back on clears it, so its next failure starts a new five days.
pub async fn update_endpoint(c: &mut WriteTx, e: &Endpoint) -> StoreResult<()> {
    let sql = "UPDATE webhook_endpoints SET url = $3, description = $4, event_types = $5, secret = $6, \
               previous_secret = $7, previous_until = $8, \
               failing_since = CASE WHEN $9 IS NULL AND disabled_at IS NOT NULL THEN NULL ELSE failing_since END, \
               disabled_at = $9, disabled_reason = $10, updated_at = $11 WHERE id = $1 AND org_id = $2";
    // The insert's arguments without `failing_since` and `created_at`.
    let mut args = endpoint_args(e);
    args.drain(10..12);
    crate::row::bind_all(sqlx::query(sql), args).execute(&mut **c).await?;
    Ok(())
}

/// After an attempt: a success clears `failing_since`; a failure sets it
/// unless it is set. Only that column is written, so concurrent attempts
/// never undo each other's changes.
pub async fn note_outcome(
    c: &mut WriteTx,
    org: &OrgScope,
    id: &WebhookId,
    ok: bool,
    now: Timestamp,
) -> StoreResult<()> {
    // A success clears `failing_since`, a failure sets it unless it is set:
    // the common case (it already says so) writes nothing, so concurrent
    // attempts to one endpoint don't queue on its row.
    let query = if ok {
        sqlx::query(
            "UPDATE webhook_endpoints SET failing_since = NULL WHERE org_id = $1 AND id = $2 AND failing_since IS NOT NULL",
        )
        .bind(org.as_str())
        .bind(id.as_str())
    } else {
        sqlx::query(
            "UPDATE webhook_endpoints SET failing_since = $3 WHERE org_id = $1 AND id = $2 AND failing_since IS NULL",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(now.millis())
    };
    query.execute(&mut **c).await?;
    Ok(())
}

/// Turns an endpoint off unless it is off already; `true` for the one caller
/// that did (so only one tells the Super Admins).
pub async fn disable(
    c: &mut WriteTx,
    org: &OrgScope,
    id: &WebhookId,
    reason: &str,
    now: Timestamp,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET disabled_at = $3, disabled_reason = $4, updated_at = $3 \
         WHERE org_id = $1 AND id = $2 AND disabled_at IS NULL",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .bind(now.millis())
    .bind(reason)
    .execute(&mut **c)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn get_endpoint(c: &mut Conn, org: &OrgScope, id: &WebhookId) -> StoreResult<Option<Endpoint>> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND id = $2");
    one(c, sql, vec![org.as_str().into(), id.as_str().into()], endpoint).await
}

pub async fn list_endpoints(c: &mut Conn, org: &OrgScope, page: &Page) -> StoreResult<Vec<Endpoint>> {
    let sql =
        format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3");
    let after = page.after.as_deref().unwrap_or("");
    all(c, sql, vec![org.as_str().into(), after.into(), page.fetch_limit().into()], endpoint).await
}

/// Every enabled endpoint of the organization (those that want an event are picked by the caller).
pub async fn enabled_endpoints(c: &mut Conn, org: &OrgScope) -> StoreResult<Vec<Endpoint>> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND disabled_at IS NULL ORDER BY id"
    );
    all(c, sql, vec![org.as_str().into()], endpoint).await
}

pub async fn delete_endpoint(c: &mut WriteTx, org: &OrgScope, id: &WebhookId) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2")
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(&mut **c)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DeliveryStatus::Pending),
            "succeeded" => Some(DeliveryStatus::Succeeded),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub org_id: OrgId,
    pub endpoint_id: WebhookId,
    pub message_id: MessageId,
    pub event_type: String,
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub last_status_code: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const DELIVERY_COLUMNS: &str = "id, org_id, endpoint_id, message_id, event_type, payload, status, attempts, \
    next_attempt_at, last_status_code, created_at, updated_at";

fn delivery(r: &AnyRow) -> StoreResult<Delivery> {
    Ok(Delivery {
        id: DeliveryId::from_trusted(text(r, "id")?),
        org_id: OrgId::from_trusted(text(r, "org_id")?),
        endpoint_id: WebhookId::from_trusted(text(r, "endpoint_id")?),
        message_id: MessageId::from_trusted(text(r, "message_id")?),
        event_type: text(r, "event_type")?,
        payload: text(r, "payload")?,
        status: crate::row::parsed(r, "status", DeliveryStatus::parse)?,
        attempts: int(r, "attempts")?,
        next_attempt_at: opt_time(r, "next_attempt_at")?,
        last_status_code: r.try_get::<Option<i64>, _>("last_status_code")?,
        created_at: time(r, "created_at")?,
        updated_at: time(r, "updated_at")?,
    })
}

/// Adds a delivery unless this endpoint already has one for the message;
/// returns whether it was added.
pub async fn insert_delivery(c: &mut WriteTx, d: &Delivery) -> StoreResult<bool> {
    let sql = format!(
        "INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (endpoint_id, message_id) DO NOTHING"
    );
    let args = vec![
        d.id.as_str().into(),
        d.org_id.as_str().into(),
        d.endpoint_id.as_str().into(),
        d.message_id.as_str().into(),
        (&d.event_type).into(),
        (&d.payload).into(),
        d.status.as_str().into(),
        d.attempts.into(),
        opt_int(d.next_attempt_at),
        d.last_status_code.map_or(Arg::NullInt, Arg::Int),
        d.created_at.millis().into(),
        d.updated_at.millis().into(),
    ];
    let done = crate::row::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), args).execute(&mut **c).await?;
    Ok(done.rows_affected() > 0)
}

/// The job kind that turns an audit event into deliveries (run by the server's
/// `webhook_fanout` job); its payload is `{"seq": N}`.
pub const FANOUT_KIND: &str = "webhook_fanout";

pub(crate) async fn enqueue_fanout(c: &mut WriteTx, org: &OrgId, seq: i64, now: Timestamp) -> StoreResult<()> {
    let job = crate::jobs::NewJob {
        kind: FANOUT_KIND,
        payload: format!("{{\"seq\":{seq}}}"),
        org_id: Some(org.clone()),
        run_at: now,
        max_attempts: 12,
        dedupe_key: None,
    };
    crate::jobs::enqueue(c, job, now).await?;
    Ok(())
}

/// Whether the organization has an endpoint that may want events (so an
/// audited change enqueues a fan-out only where there is somewhere to send it).
pub async fn any_enabled(c: &mut Conn, org: &OrgId) -> StoreResult<bool> {
    let found: Option<(i64,)> =
        sqlx::query_as("SELECT 1 FROM webhook_endpoints WHERE org_id = $1 AND disabled_at IS NULL LIMIT 1")
            .bind(org.as_str())
            .fetch_optional(c)
            .await?;
    Ok(found.is_some())
}

pub async fn get_delivery(c: &mut Conn, org: &OrgScope, id: &DeliveryId) -> StoreResult<Option<Delivery>> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = $1 AND id = $2");
    one(c, sql, vec![org.as_str().into(), id.as_str().into()], delivery).await
}

/// An endpoint's deliveries, newest first.
pub async fn list_deliveries(
    c: &mut Conn,
    org: &OrgScope,
    endpoint: &WebhookId,
    page: &Page,
) -> StoreResult<Vec<Delivery>> {
    let before = page.after.clone().unwrap_or_else(|| "~".into());
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = $1 AND endpoint_id = $2 AND id < $3 \
         ORDER BY id DESC LIMIT $4"
    );
    all(
        c,
        sql,
        vec![org.as_str().into(), endpoint.as_str().into(), before.as_str().into(), page.fetch_limit().into()],
        delivery,
    )
    .await
}

/// Failed deliveries of an endpoint made at or after `since` (to send again).
pub async fn failed_since(
    c: &mut Conn,
    org: &OrgScope,
    endpoint: &WebhookId,
    since: Timestamp,
) -> StoreResult<Vec<Delivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = $1 AND endpoint_id = $2 AND status = 'failed' \
         AND created_at >= $3 ORDER BY id LIMIT 10000"
    );
    all(c, sql, vec![org.as_str().into(), endpoint.as_str().into(), since.millis().into()], delivery).await
}

/// One try at sending a delivery, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub attempt: i64,
    pub attempted_at: Timestamp,
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub response: Option<String>,
    pub error: Option<String>,
}

/// Records an attempt and where the delivery now stands, in the caller's transaction.
pub async fn record_attempt(
    c: &mut WriteTx,
    d: &Delivery,
    a: &Attempt,
    status: DeliveryStatus,
    next_attempt_at: Option<Timestamp>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, attempt, org_id, attempted_at, status_code, duration_ms, response, error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(d.id.as_str())
    .bind(a.attempt)
    .bind(d.org_id.as_str())
    .bind(a.attempted_at.millis())
    .bind(a.status_code)
    .bind(a.duration_ms)
    .bind(&a.response)
    .bind(&a.error)
    .execute(&mut **c)
    .await?;
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $2, attempts = $3, next_attempt_at = $4, last_status_code = $5, \
         updated_at = $6 WHERE id = $1",
    )
    .bind(d.id.as_str())
    .bind(status.as_str())
    .bind(a.attempt)
    .bind(next_attempt_at.map(Timestamp::millis))
    .bind(a.status_code)
    .bind(a.attempted_at.millis())
    .execute(&mut **c)
    .await?;
    Ok(())
}

/// A failed delivery back to pending, to be tried again (retry, recover).
pub async fn reopen(c: &mut WriteTx, d: &Delivery, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $2, updated_at = $2 WHERE id = $1",
    )
    .bind(d.id.as_str())
    .bind(now.millis())
    .execute(&mut **c)
    .await?;
    Ok(())
}

/// The attempts of these deliveries, in one query: each delivery's, in order.
pub async fn attempts_of(
    c: &mut Conn,
    org: &OrgScope,
    deliveries: &[DeliveryId],
) -> StoreResult<Vec<(DeliveryId, Attempt)>> {
    if deliveries.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (0..deliveries.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT delivery_id, attempt, attempted_at, status_code, duration_ms, response, error FROM webhook_attempts \
         WHERE org_id = $1 AND delivery_id IN ({}) ORDER BY delivery_id, attempt",
        marks.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org.as_str());
    for d in deliveries {
        query = query.bind(d.as_str());
    }
    let rows = query.fetch_all(c).await?;
    rows.iter()
        .map(|r| {
            let attempt = Attempt {
                attempt: int(r, "attempt")?,
                attempted_at: time(r, "attempted_at")?,
                status_code: r.try_get::<Option<i64>, _>("status_code")?,
                duration_ms: int(r, "duration_ms")?,
                response: opt_text(r, "response")?,
                error: opt_text(r, "error")?,
            };
            Ok((DeliveryId::from_trusted(r.try_get::<String, _>("delivery_id")?), attempt))
        })
        .collect()
}
