//! Webhook jobs: the fan-out of an audit event to the endpoints that want it,
//! and one attempt at one delivery (signed per Standard Webhooks, no
//! redirects, 15 s, only to public addresses unless `webhooks_allow_private`).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;
use steward_core::ids::{DeliveryId, MessageId};
use steward_core::time::Timestamp;
use steward_core::webhooks::{self as rules, event_for};
use steward_store::OrgScope;
use steward_store::audit::{self, Filter};
use steward_store::webhooks::{self as store, Attempt as Logged, DeliveryStatus, Endpoint};

use super::{Job, JobCtx, JobError};
use crate::mail::Letter;
use crate::services::webhooks::{self as service, seal_context};

/// How long one attempt may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// How much of a receiver's answer the log keeps.
const RESPONSE_KEPT: usize = 4096;
/// Failing this long (since the last success) disables an endpoint.
const FAILING_DISABLES_MS: i64 = 5 * 24 * 3600 * 1000;

fn scope(ctx: &JobCtx) -> Result<OrgScope, JobError> {
    let org = ctx.org_id.clone().ok_or_else(|| JobError::permanent("a webhook job needs its organization"))?;
    Ok(OrgScope::of(&steward_core::authz::Principal::system("webhooks").in_org(org))?)
}

/// Turns audit event `seq` into one delivery per endpoint that wants it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Fanout {
    pub seq: i64,
}

impl Job for Fanout {
    const KIND: &'static str = store::FANOUT_KIND;
    const MAX_ATTEMPTS: i64 = 12;

    async fn run(self, ctx: JobCtx) -> Result<(), JobError> {
        let org = scope(&ctx)?;
        let mut c = ctx.db().conn().await?;
        let filter = Filter { before_seq: Some(self.seq + 1), ..Filter::default() };
        let Some(event) = audit::search(&mut c, &org, &filter, 1).await?.into_iter().find(|e| e.seq == self.seq) else {
            return Ok(()); // purged since: nothing to send
        };
        let Some(kind) = event_for(&event.action) else { return Ok(()) };
        let endpoints: Vec<Endpoint> =
            store::enabled_endpoints(&mut c, &org).await?.into_iter().filter(|e| e.wants(kind.name)).collect();
        drop(c);
        if endpoints.is_empty() {
            return Ok(());
        }
        // The message id comes from the event, so a second run of this job adds nothing.
        let message = MessageId::from_trusted(format!("msg_{}", event.id.as_str().trim_start_matches("evt_")));
        let data = json!({
            "event_id": event.id,
            "action": event.action,
            "occurred_at": event.occurred_at,
            "actor": { "type": event.actor.kind.as_str(), "id": event.actor.id, "name": event.actor.name },
            "target": { "type": event.target_type, "id": event.target_id },
            "workspace_id": event.workspace_id,
            "changes": event.changes,
            "metadata": event.metadata,
        });
        let mut tx = ctx.db().write(&org).await?;
        let now = ctx.now();
        for e in &endpoints {
            service::deliver(&mut tx, e, message.clone(), kind.name, event.occurred_at, data.clone(), now).await?;
        }
        tx.commit_unaudited().await?;
        Ok(())
    }
}

/// One attempt at a delivery; the next one, if any, is enqueued as it is recorded.
#[derive(Debug, Serialize, Deserialize)]
pub struct Attempt {
    pub delivery_id: DeliveryId,
}

impl Job for Attempt {
    const KIND: &'static str = "webhook_attempt";
    /// Retries of the job itself are for our side failing (the database);
    /// the receiver's failures follow the delivery's own schedule.
    const MAX_ATTEMPTS: i64 = 12;

    async fn run(self, ctx: JobCtx) -> Result<(), JobError> {
        let org = scope(&ctx)?;
        let mut c = ctx.db().conn().await?;
        let Some(d) = store::get_delivery(&mut c, &org, &self.delivery_id).await? else { return Ok(()) };
        let Some(endpoint) = store::get_endpoint(&mut c, &org, &d.endpoint_id).await? else { return Ok(()) };
        drop(c);
        let test = d.event_type == rules::TEST_EVENT;
        if d.status != DeliveryStatus::Pending || (endpoint.disabled_at.is_some() && !test) {
            return Ok(());
        }
        let now = ctx.now();
        let keys = signing_keys(&ctx, &endpoint, now);
        let attempt = d.attempts + 1;
        let sent = send(&ctx, &endpoint, &d.message_id, &d.payload, &keys, now).await;
        let logged = Logged {
            attempt,
            attempted_at: now,
            status_code: sent.status.map(i64::from),
            duration_ms: sent.took.as_millis() as i64,
            response: sent.body.clone(),
            error: sent.error.clone(),
        };
        let ok = sent.status.is_some_and(|s| (200..300).contains(&s));
        let failing_for = endpoint.failing_since.map_or(0, |t| now.millis() - t.millis());
        let (status, next, disable) = if ok {
            (DeliveryStatus::Succeeded, None, None)
        } else if sent.status == Some(410) {
            (DeliveryStatus::Failed, None, Some("The receiver answered 410 Gone."))
        } else if failing_for >= FAILING_DISABLES_MS {
            (DeliveryStatus::Failed, None, Some("Every delivery failed for five days."))
        } else {
            match next_attempt(attempt, sent.retry_after, now) {
                Some(at) => (DeliveryStatus::Pending, Some(at), None),
                None => (DeliveryStatus::Failed, None, None),
            }
        };
        // No audit event here, so not the organization's lock either: attempts
        // to its endpoints record side by side instead of one at a time.
        let mut tx = ctx.db().write_deployment().await?;
        store::record_attempt(&mut tx, &d, &logged, status, next).await?;
        store::note_outcome(&mut tx, &org, &endpoint.id, ok, now).await?;
        if let Some(at) = next {
            service::schedule_attempt(&mut tx, &d, at).await?;
        }
        if let Some(reason) = disable
            && store::disable(&mut tx, &org, &endpoint.id, reason, now).await?
        {
            tell_super_admins(&ctx, &mut tx, &org, &endpoint, reason, now).await?;
        }
        tx.commit_unaudited().await?;
        Ok(())
    }
}

/// Steward turned the endpoint off: every active Super Admin is told, by mail
/// posted in the same transaction.
async fn tell_super_admins(
    ctx: &JobCtx,
    tx: &mut steward_store::WriteTx,
    org: &OrgScope,
    e: &Endpoint,
    reason: &str,
    now: Timestamp,
) -> Result<(), JobError> {
    let postbox = ctx.app.postbox();
    for admin in steward_store::users::active_super_admins(tx, org).await? {
        let letter = Letter::WebhookDisabled { url: e.url.clone(), reason: reason.to_owned() };
        postbox.post(tx, org, &admin, letter, "/settings/integrations/webhooks", now).await?;
    }
    Ok(())
}

/// When to try again after attempt `attempt` failed: the schedule, with
/// jitter, or the receiver's `Retry-After` when it asks for longer.
fn next_attempt(attempt: i64, retry_after: Option<Duration>, now: Timestamp) -> Option<Timestamp> {
    let planned = rules::retry_delay(u32::try_from(attempt).ok()?)?;
    let delay = rules::with_jitter(planned).max(retry_after.unwrap_or_default());
    Some(Timestamp::from_millis(now.millis() + delay.as_millis() as i64))
}

/// The secret, and the rotated-out one while it is still honoured.
fn signing_keys(ctx: &JobCtx, e: &Endpoint, now: Timestamp) -> Vec<Vec<u8>> {
    let context = seal_context(&e.id);
    let open = |sealed: &str| ctx.app.sealer.open(sealed, &context).and_then(|s| rules::secret_key(&s));
    let mut keys: Vec<Vec<u8>> = open(&e.secret).into_iter().collect();
    if e.previous_until.is_some_and(|t| t > now)
        && let Some(previous) = e.previous_secret.as_deref().and_then(open)
    {
        keys.push(previous);
    }
    keys
}

struct Sent {
    status: Option<u16>,
    body: Option<String>,
    error: Option<String>,
    retry_after: Option<Duration>,
    took: Duration,
}

async fn send(ctx: &JobCtx, e: &Endpoint, msg: &MessageId, payload: &str, keys: &[Vec<u8>], now: Timestamp) -> Sent {
    let started = Instant::now();
    let failed = |error: String| Sent {
        status: None,
        body: None,
        error: Some(error),
        retry_after: None,
        took: started.elapsed(),
    };
    let allow_private = ctx.app.config.webhooks_allow_private;
    let url = match checked_url(&e.url, allow_private) {
        Ok(u) => u,
        Err(why) => return failed(why),
    };
    let client = match client(allow_private) {
        Ok(c) => c,
        Err(why) => return failed(why),
    };
    let timestamp = now.millis() / 1000;
    let signature = rules::signature_header(keys, msg.as_str(), timestamp, payload.as_bytes());
    let request = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "Steward-Webhooks/1")
        .header("webhook-id", msg.as_str())
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(payload.to_owned());
    let mut response = match request.send().await {
        Ok(r) => r,
        Err(err) => return failed(describe(&err)),
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|_| status == 429 || status == 503)
        .map(Duration::from_secs);
    let mut kept: Vec<u8> = Vec::new();
    while kept.len() < RESPONSE_KEPT {
        match response.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk[..chunk.len().min(RESPONSE_KEPT - kept.len())]),
            _ => break,
        }
    }
    let body = (!kept.is_empty()).then(|| String::from_utf8_lossy(&kept).into_owned());
    Sent { status: Some(status), body, error: None, retry_after, took: started.elapsed() }
}

fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if err.is_timeout() { format!("no answer within {} s ({text})", TIMEOUT.as_secs()) } else { text }
}

/// The endpoint's URL, refused if its host is a literal address a delivery
/// may not reach (names are checked by [`Resolver`] when connecting).
pub fn checked_url(url: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("the URL does not parse: {e}"))?;
    match refused_literal(&parsed, allow_private) {
        Some(ip) => Err(refused(&ip)),
        None => Ok(parsed),
    }
}

/// The literal address in `url`'s host, in whatever spelling, when a delivery
/// may not reach it.
pub fn literal_address(url: &str, allow_private: bool) -> Option<String> {
    refused_literal(&reqwest::Url::parse(url).ok()?, allow_private)
}

fn refused_literal(url: &reqwest::Url, allow_private: bool) -> Option<String> {
    let ip = match url.host()? {
        url::Host::Ipv4(ip) => IpAddr::V4(ip),
        url::Host::Ipv6(ip) => IpAddr::V6(ip),
        url::Host::Domain(d) => rules::literal_ip(d)?,
    };
    (!allowed(ip, allow_private)).then(|| ip.to_string())
}

fn allowed(ip: IpAddr, allow_private: bool) -> bool {
    rules::is_public(ip) || (allow_private && rules::is_loopback(ip))
}

fn refused(ip: &dyn std::fmt::Display) -> String {
    format!(
        "refused to connect to {ip}: a private, loopback or reserved address (webhooks go to public addresses only)"
    )
}

/// Resolves a host and keeps only the addresses a delivery may connect to:
/// the connection is made to these very addresses, so a name that resolves
/// differently a moment later (DNS rebinding) can't reach inside.
struct Resolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found.iter().copied().filter(|a| allowed(a.ip(), allow_private)).collect();
            if kept.is_empty() {
                let why = match found.first() {
                    Some(a) => refused(&a.ip()),
                    None => format!("{host} has no address"),
                };
                return Err(why.into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// One client per process (and per `allow_private`), so connections to a
/// receiver are kept and reused between deliveries.
fn client(allow_private: bool) -> Result<reqwest::Client, String> {
    static PUBLIC: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    static PRIVATE: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    let cell = if allow_private { &PRIVATE } else { &PUBLIC };
    cell.get_or_init(|| build_client(allow_private)).clone()
}

fn build_client(allow_private: bool) -> Result<reqwest::Client, String> {
    // rustls needs a process-wide crypto provider; ring is the one the mail client uses too.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .dns_resolver(Arc::new(Resolver { allow_private }))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .no_proxy()
        .build()
        .map_err(|e| format!("the HTTP client could not start: {e}"))
}
