//! API-1: each key has its own limit a minute, counted after authentication;
//! past it `429 rate_limited` with `Retry-After`, and every answer to a key
//! carries the IETF `RateLimit` headers. Several instances share the counts
//! through Redis; when Redis stops, each counts alone and nothing is refused.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::Router;
use common::{Auth, Resp, TestApp};
use serde_json::json;
use steward_server::app::build_app;

/// Creates a key with `limit` requests a minute; returns (id, secret).
async fn key_with_limit(app: &TestApp, admin_key: &str, limit: i64) -> (String, String) {
    let r = app
        .post(
            "/api/v1/api-keys",
            Auth::Bearer(admin_key),
            json!({ "name": "limited", "scopes": ["read"], "rate_limit_per_minute": limit }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["api_key"]["rate_limit_per_minute"], limit);
    (r.json["api_key"]["id"].as_str().unwrap().to_owned(), r.json["secret"].as_str().unwrap().to_owned())
}

fn header(r: &Resp, name: &str) -> String {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// `t=` of a `RateLimit` header: seconds until the window ends.
fn reset_of(r: &Resp) -> u64 {
    header(r, "ratelimit").rsplit("t=").next().and_then(|t| t.parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn a_key_is_refused_past_its_limit_with_the_ietf_headers_until_the_minute_ends() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let (id, secret) = key_with_limit(&app, &org.admin_key, 3).await;
        for left in [2, 1, 0] {
            let r = app.get("/api/v1/organization", Auth::Bearer(&secret)).await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(header(&r, "ratelimit-policy"), "\"key\";q=3;w=60");
            assert!(header(&r, "ratelimit").starts_with(&format!("\"key\";r={left};t=")), "{:?}", r.headers);
        }
        let over = app.get("/api/v1/organization", Auth::Bearer(&secret)).await;
        assert_eq!((over.status, over.code()), (429, "rate_limited"), "{}", over.text);
        let wait = reset_of(&over);
        assert!((1..=60).contains(&wait), "{:?}", over.headers);
        assert_eq!(header(&over, "retry-after"), wait.to_string());
        assert!(over.json["detail"].as_str().unwrap().contains("its 3 requests this minute"), "{}", over.text);
        assert_eq!(over.headers["content-type"], "application/problem+json");

        // Limits are per key: the admin key is not affected, and is told its own limit.
        let other = app.get("/api/v1/organization", Auth::Bearer(&org.admin_key)).await;
        assert_eq!(other.status, 200);
        assert_eq!(header(&other, "ratelimit-policy"), "\"key\";q=100000;w=60");
        // A session is not an API key: no key limit applies to it.
        let session = app.get("/api/v1/organization", Auth::Bearer(&org.admin_token)).await;
        assert!(session.status == 200 && session.headers.get("ratelimit").is_none());

        // Raising the limit holds at once (every cached copy of the key is dropped).
        let r = app
            .patch(
                &format!("/api/v1/api-keys/{id}"),
                Auth::Bearer(&org.admin_key),
                json!({ "rate_limit_per_minute": 10 }),
            )
            .await;
        assert_eq!((r.status, r.json["rate_limit_per_minute"].as_i64()), (200, Some(10)), "{}", r.text);
        let r = app.get("/api/v1/organization", Auth::Bearer(&secret)).await;
        assert_eq!((r.status, header(&r, "ratelimit-policy")), (200, "\"key\";q=10;w=60".to_owned()));

        // A new minute starts over.
        let (_, slow) = key_with_limit(&app, &org.admin_key, 1).await;
        assert_eq!(app.get("/api/v1/organization", Auth::Bearer(&slow)).await.status, 200);
        let refused = app.get("/api/v1/organization", Auth::Bearer(&slow)).await;
        assert_eq!(refused.status, 429);
        app.clock.advance_seconds(reset_of(&refused) as i64);
        assert_eq!(app.get("/api/v1/organization", Auth::Bearer(&slow)).await.status, 200);

        // The change is in the audit trail.
        let trail = app.get("/api/v1/audit-events?action=api_key.updated", Auth::Bearer(&org.admin_key)).await;
        assert_eq!(trail.json["data"][0]["changes"]["rate_limit_per_minute"], json!({ "before": 3, "after": 10 }));
    }
}

#[tokio::test]
async fn bad_limits_and_expiries_are_refused_naming_the_field_and_nothing_is_saved() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_key);
        let before = app.get("/api/v1/api-keys", admin).await.json["data"].as_array().unwrap().len();
        for (body, field) in [
            (json!({ "name": "k", "scopes": ["read"], "rate_limit_per_minute": 0 }), "rate_limit_per_minute"),
            (
                json!({ "name": "k", "scopes": ["read"], "rate_limit_per_minute": 1_000_000_000 }),
                "rate_limit_per_minute",
            ),
            (json!({ "name": "k", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z" }), "expires_at"),
        ] {
            let r = app.post("/api/v1/api-keys", admin, body).await;
            assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some(field)), "{}", r.text);
            assert!(r.json["errors"][0]["message"].as_str().unwrap().starts_with(&format!("`{field}`")));
        }
        assert_eq!(app.get("/api/v1/api-keys", admin).await.json["data"].as_array().unwrap().len(), before);

        let (id, _) = key_with_limit(&app, &org.admin_key, 50).await;
        let r = app
            .patch(&format!("/api/v1/api-keys/{id}"), admin, json!({ "name": "renamed", "rate_limit_per_minute": 0 }))
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        let kept = app.get(&format!("/api/v1/api-keys/{id}"), admin).await;
        assert_eq!(
            (kept.json["name"].as_str(), kept.json["rate_limit_per_minute"].as_i64()),
            (Some("limited"), Some(50))
        );

        // Another organization's key does not exist for this one.
        let other = app.org("globex").await;
        let theirs = app.get(&format!("/api/v1/api-keys/{id}"), Auth::Bearer(&other.admin_key)).await;
        assert_eq!(theirs.status, 404);
        let r =
            app.patch(&format!("/api/v1/api-keys/{id}"), Auth::Bearer(&other.admin_key), json!({ "name": "x" })).await;
        assert_eq!(r.status, 404);
    }
}

/// A Redis server of this test's own, on a free port, so it can be stopped.
struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    fn start(port: Option<u16>) -> Option<OwnRedis> {
        let port = port.unwrap_or_else(|| TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(OwnRedis { child, port });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn redis_or_skip() -> Option<OwnRedis> {
    let redis = OwnRedis::start(None);
    if redis.is_none() {
        assert!(std::env::var("CI").is_err(), "CI=true: redis-server is needed (Debian's redis-server)");
        eprintln!("skipped: redis-server could not be started");
    }
    redis
}

/// A second "instance": its own limiter, the same database and Redis.
fn instance(app: &TestApp, redis_url: &str) -> Router {
    build_app(app.state.clone().with_redis(redis_url).unwrap())
}

async fn get(router: &Router, secret: &str) -> u16 {
    use tower::ServiceExt;
    let req = axum::http::Request::get("/api/v1/organization")
        .header("authorization", format!("Bearer {secret}"))
        .body(axum::body::Body::empty())
        .unwrap();
    router.clone().oneshot(req).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn instances_share_a_key_s_count_through_redis_and_count_alone_when_it_stops() {
    let Some(redis) = redis_or_skip() else { return };
    // The deployment's Redis when CI names it (`.ci/run` starts it), else our own.
    let shared = std::env::var("STEWARD_TEST_REDIS_URL").unwrap_or_else(|_| redis.url());
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let (_, secret) = key_with_limit(&app, &org.admin_key, 4).await;
        let (a, b) = (instance(&app, &shared), instance(&app, &shared));
        for router in [&a, &b, &a, &b] {
            assert_eq!(get(router, &secret).await, 200);
        }
        assert_eq!(get(&a, &secret).await, 429, "the fifth request is over the limit on either instance");
        assert_eq!(get(&b, &secret).await, 429);
    }

    // Redis stops: each instance counts alone, nothing is refused for it.
    let app = TestApp::all().await.remove(0);
    let org = app.org("acme").await;
    let (_, secret) = key_with_limit(&app, &org.admin_key, 2).await;
    let state = app.state.clone().with_redis(&redis.url()).unwrap();
    let a = build_app(state.clone());
    assert_eq!(get(&a, &secret).await, 200);
    let port = redis.port;
    drop(redis);
    assert_eq!(get(&a, &secret).await, 200, "Redis gone: the request is served, counted here");
    assert_eq!(get(&a, &secret).await, 200);
    assert_eq!(get(&a, &secret).await, 429, "the local count still limits the key");
    let scrape = state.metrics.render(&state.db).await;
    assert!(scrape.contains("steward_rate_limit_shared 0"), "{scrape}");
    assert!(scrape.contains("steward_rate_limit_redis_errors_total 1"), "{scrape}");

    // Redis is back: after the retry pause, counting is shared again.
    let _back = OwnRedis::start(Some(port)).expect("redis-server restarts on its port");
    app.clock.advance_seconds(6);
    get(&a, &secret).await;
    assert!(state.metrics.render(&state.db).await.contains("steward_rate_limit_shared 1"));
}

#[tokio::test]
async fn a_key_made_without_a_limit_gets_600_a_minute() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let r = app
            .post("/api/v1/api-keys", Auth::Bearer(&org.admin_key), json!({ "name": "d", "scopes": ["read"] }))
            .await;
        assert_eq!(r.json["api_key"]["rate_limit_per_minute"], 600, "{}", r.text);
        let secret = r.json["secret"].as_str().unwrap();
        let used = app.get("/api/v1/organization", Auth::Bearer(secret)).await;
        assert_eq!(header(&used, "ratelimit-policy"), "\"key\";q=600;w=60");
    }
}
