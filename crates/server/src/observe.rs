//! What every request passes on its way in and out: a request id (sent back as
//! `X-Request-Id`, put in every problem body and error page, and on every log
//! line written while the request runs), one log line when it is answered,
//! and the request metrics.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::metrics::UNMATCHED;
use crate::state::AppState;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    /// The id of the request this task is answering.
    static REQUEST_ID: Arc<str>;
}

/// The id of the request being answered, when called while answering one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.to_string()).ok()
}

/// The middleware (outermost, so it sees the final status, panics included).
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id: Arc<str> = request_id(&req, &state.config.trusted_proxies).into();
    let method = method_label(req.method());
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or(UNMATCHED, |r| r.as_str());
    let span = tracing::info_span!("request", request_id = %id);
    let mut res = REQUEST_ID.scope(id.clone(), next.run(req)).instrument(span).await;
    let took = started.elapsed();
    let status = res.status().as_u16();
    state.metrics.observe_request(method, route, status, took);
    let duration_ms = took.as_micros() as f64 / 1000.0;
    tracing::info!(request_id = %id, method, route, status, duration_ms, "request");
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    res
}

/// A new id (`req_` + a UUIDv7, so ids sort by time like every other id), or
/// the one a trusted proxy sent. A proxy that stamps ids (nginx
/// `$request_id`, a load balancer) has already logged it, so keeping it ties
/// both logs together; anyone else's is ignored, so a client can't make its
/// request share an id with someone else's or write odd text into our logs.
fn request_id(req: &Request, trusted_proxies: &[IpAddr]) -> String {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip());
    if peer.is_some_and(|p| trusted_proxies.contains(&p))
        && let Some(sent) = req.headers().get(&REQUEST_ID_HEADER).and_then(|v| v.to_str().ok())
        && is_sane(sent)
    {
        return sent.to_owned();
    }
    format!("req_{}", uuid::Uuid::now_v7().simple())
}

/// 1–128 characters that need no quoting anywhere: letters, digits, `-_.:`.
fn is_sane(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// The method as a metric label; a made-up method can't add series.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_are_kept() {
        assert!(is_sane("3f2a-9b:lb.1_x"));
        assert!(!is_sane(""));
        assert!(!is_sane(&"a".repeat(129)));
        assert!(!is_sane("a b") && !is_sane("a\"b") && !is_sane("é"));
    }
}
