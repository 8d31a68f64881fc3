//! Per-key request limits (API-1): a fixed one-minute window per API key,
//! counted after authentication. One instance counts in memory; several share
//! their counts through Redis when `redis_url` is set. If Redis can't be
//! reached, each instance counts on its own (logged, and the
//! `steward_rate_limit_shared` gauge drops to 0) rather than refuse traffic,
//! and Redis is tried again a few seconds later.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use steward_core::time::Timestamp;

use crate::metrics::Metrics;

/// The window every limit counts in, as `RateLimit-Policy` states it (`w=60`).
pub const WINDOW_SECS: i64 = 60;
/// How long one Redis call may take before the instance counts alone.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// After a Redis failure, how long the instance counts alone before trying again.
const REDIS_RETRY_MS: i64 = 5_000;
/// Memory bound: past this many keys, windows that ended are dropped.
const MAX_KEYS: usize = 100_000;

/// One request's place in its key's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Requests a window allows (`q`).
    pub limit: u32,
    /// Requests left in this window after this one (`r`).
    pub remaining: u32,
    /// Seconds until the window ends (`t`).
    pub reset_secs: u32,
    pub allowed: bool,
}

impl Decision {
    fn of(limit: u32, count: u64, now_ms: i64) -> Self {
        let window_end = (now_ms.div_euclid(1000) / WINDOW_SECS + 1) * WINDOW_SECS;
        let reset = (window_end - now_ms.div_euclid(1000)).clamp(1, WINDOW_SECS);
        Decision {
            limit,
            remaining: u64::from(limit).saturating_sub(count).min(u64::from(u32::MAX)) as u32,
            reset_secs: reset as u32,
            allowed: count <= u64::from(limit),
        }
    }

    /// The IETF draft headers: `RateLimit-Policy` and `RateLimit`.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let policy = format!("\"key\";q={};w={WINDOW_SECS}", self.limit);
        let state = format!("\"key\";r={};t={}", self.remaining, self.reset_secs);
        for (name, value) in [("ratelimit-policy", policy), ("ratelimit", state)] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        }
    }
}

/// Where authentication leaves an API key's decision for the response: the
/// [`headers`] layer puts an empty slot in each request and writes the
/// `RateLimit` headers from it; a request counts once however often its
/// caller is authenticated.
#[derive(Debug, Clone, Default)]
pub struct RateSlot(Arc<Mutex<Option<Decision>>>);

impl RateSlot {
    pub fn get(&self) -> Option<Decision> {
        self.0.lock().ok().and_then(|d| *d)
    }

    pub fn set(&self, d: Decision) -> Decision {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(d);
        }
        d
    }
}

/// Every answer to an API key carries its `RateLimit-Policy` and `RateLimit`.
pub async fn headers(mut req: Request, next: Next) -> Response {
    let slot = RateSlot::default();
    req.extensions_mut().insert(slot.clone());
    let mut res = next.run(req).await;
    if let Some(d) = slot.get() {
        d.write_headers(res.headers_mut());
    }
    res
}

/// The counter of every key's window, in memory or in Redis.
pub struct RateLimiter {
    local: Mutex<HashMap<String, (i64, u64)>>,
    redis: Option<Shared>,
    metrics: Metrics,
}

struct Shared {
    client: redis::Client,
    /// Whether the last call reached Redis, so the gauge is written only when that changes.
    up: AtomicBool,
    connection: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
    /// Unix ms before which Redis is not tried (after a failure).
    down_until: AtomicI64,
}

impl RateLimiter {
    /// Counts in this process only.
    pub fn local(metrics: Metrics) -> Self {
        metrics.set("steward_rate_limit_shared", "1 while API key limits are counted in Redis", &[], 0.0);
        Self { local: Mutex::default(), redis: None, metrics }
    }

    /// Counts in Redis at `url`, or locally while it can't be reached. An
    /// unparsable URL is a configuration error, reported at startup.
    pub fn shared(url: &str, metrics: Metrics) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("redis_url: {e}"))?;
        // 0 until the first call reaches Redis.
        metrics.set("steward_rate_limit_shared", "1 while API key limits are counted in Redis", &[], 0.0);
        let shared = Shared {
            client,
            up: AtomicBool::new(false),
            connection: tokio::sync::Mutex::new(None),
            down_until: AtomicI64::new(0),
        };
        Ok(Self { local: Mutex::default(), redis: Some(shared), metrics })
    }

    /// Counts one request of `key` against `limit` a minute.
    pub async fn hit(&self, key: &str, limit: u32, now: Timestamp) -> Decision {
        let now_ms = now.millis();
        let window = now_ms.div_euclid(1000) / WINDOW_SECS;
        if let Some(shared) = &self.redis
            && now_ms >= shared.down_until.load(Ordering::Acquire)
        {
            match shared.incr(key, window).await {
                Ok(count) => {
                    self.set_shared(shared, true);
                    return Decision::of(limit, count, now_ms);
                }
                Err(e) => {
                    shared.down_until.store(now_ms + REDIS_RETRY_MS, Ordering::Release);
                    self.set_shared(shared, false);
                    self.metrics.add(
                        "steward_rate_limit_redis_errors_total",
                        "Redis calls for API key limits that failed; each instance then counts alone",
                        &[],
                        1,
                    );
                    tracing::warn!(error = %e, "Redis is unreachable: API key limits are counted per instance until it is back");
                }
            }
        }
        Decision::of(limit, self.incr_local(key, window), now_ms)
    }

    fn set_shared(&self, shared: &Shared, up: bool) {
        if shared.up.swap(up, Ordering::AcqRel) == up {
            return;
        }
        self.metrics.set(
            "steward_rate_limit_shared",
            "1 while API key limits are counted in Redis",
            &[],
            if up { 1.0 } else { 0.0 },
        );
    }

    fn incr_local(&self, key: &str, window: i64) -> u64 {
        let Ok(mut counts) = self.local.lock() else { return 0 };
        if counts.len() >= MAX_KEYS {
            counts.retain(|_, (w, _)| *w == window);
        }
        // Most hits are for a key already counted: no new String for those.
        let entry = match counts.get_mut(key) {
            Some(entry) => entry,
            None => counts.entry(key.to_owned()).or_insert((window, 0)),
        };
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 += 1;
        entry.1
    }
}

impl Shared {
    async fn incr(&self, key: &str, window: i64) -> redis::RedisResult<u64> {
        let mut conn = self.connection().await?;
        let name = format!("steward:rate:{key}:{window}");
        let mut pipe = redis::pipe();
        pipe.atomic().incr(&name, 1u64).expire(&name, WINDOW_SECS * 2).ignore();
        let call = pipe.query_async::<(u64,)>(&mut conn);
        match tokio::time::timeout(REDIS_TIMEOUT, call).await {
            Ok(Ok((count,))) => Ok(count),
            Ok(Err(e)) => {
                self.connection.lock().await.take();
                Err(e)
            }
            Err(_) => {
                self.connection.lock().await.take();
                Err(redis::RedisError::from((redis::ErrorKind::Io, "timed out")))
            }
        }
    }

    async fn connection(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        let mut slot = self.connection.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT));
        let c = self.client.get_multiplexed_async_connection_with_config(&config).await?;
        *slot = Some(c.clone());
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_window_allows_the_limit_then_refuses_until_it_ends() {
        let limiter = RateLimiter::local(Metrics::default());
        // 10 s into a minute (1_800_000_000_000 is a whole minute).
        let start = Timestamp::from_millis(1_800_000_010_000);
        for i in 1..=3 {
            let d = limiter.hit("key_a", 3, start).await;
            assert_eq!((d.allowed, d.remaining, d.reset_secs), (true, 3 - i, 50));
        }
        let over = limiter.hit("key_a", 3, start).await;
        assert!(!over.allowed && over.remaining == 0);
        assert!(limiter.hit("key_b", 3, start).await.allowed, "each key has its own window");
        let next = limiter.hit("key_a", 3, Timestamp::from_millis(start.millis() + 50_000)).await;
        assert_eq!((next.allowed, next.remaining, next.reset_secs), (true, 2, 60), "a new window starts over");
    }

    #[test]
    fn headers_follow_the_ietf_draft() {
        let mut h = HeaderMap::new();
        Decision { limit: 600, remaining: 42, reset_secs: 17, allowed: true }.write_headers(&mut h);
        assert_eq!(h["ratelimit-policy"], "\"key\";q=600;w=60");
        assert_eq!(h["ratelimit"], "\"key\";r=42;t=17");
    }
}
