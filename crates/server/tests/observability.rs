//! Operability: request ids in headers, problem bodies and error pages;
//! `/metrics` in the Prometheus text format, with counters that move with
//! requests; and a database that is gone answering `503` to retry.

mod common;
#[path = "common/prometheus.rs"]
mod prometheus;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use common::{Auth, TestApp};
use http_body_util::BodyExt;
use steward_server::{ServerConfig, build_app};
use tower::ServiceExt;

fn is_generated_id(id: &str) -> bool {
    id.strip_prefix("req_").is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A GET with an `X-Request-Id` from 203.0.113.7; the status and the id answered.
async fn get_with_id(router: &Router, path: &str, sent: &str) -> (u16, String) {
    let mut req = Request::get(path).header("x-request-id", sent).body(Body::empty()).expect("a request");
    req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([203, 0, 113, 7], 4000))));
    let res = router.clone().oneshot(req).await.expect("an answer");
    let id = res.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    (res.status().as_u16(), id)
}

async fn scrape(app: &TestApp) -> Vec<prometheus::Sample> {
    let router = steward_server::metrics::router(app.state.clone());
    let res = router.oneshot(Request::get("/metrics").body(Body::empty()).expect("a request")).await.expect("scraped");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], steward_server::metrics::CONTENT_TYPE);
    let text = String::from_utf8(res.into_body().collect().await.expect("body").to_bytes().to_vec()).expect("utf-8");
    prometheus::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[tokio::test]
async fn every_answer_carries_a_request_id_that_problems_and_error_pages_repeat() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let ok = app.get("/api/v1/organization", Auth::Bearer(&org.admin_token)).await;
        let id = ok.headers["x-request-id"].to_str().unwrap().to_owned();
        assert!(is_generated_id(&id), "{id}");
        assert!(ok.json.get("request_id").is_none(), "only problems carry it in the body");

        for (path, auth, status) in [
            ("/api/v1/organization", Auth::None, 401),
            ("/api/v1/nope", Auth::Bearer(&org.admin_token), 404),
            ("/api/v1/users?limit=abc", Auth::Bearer(&org.admin_token), 400),
        ] {
            let r = app.get(path, auth).await;
            assert_eq!(r.status, status, "{path}: {}", r.text);
            let header = r.headers["x-request-id"].to_str().unwrap();
            assert_eq!(r.json["request_id"], header, "{path}: the body quotes the header");
            assert_ne!(header, id, "{path}: one id per request");
        }
        // A person sees the id on an error page, to quote it.
        let page = app.get("/invitations/not-a-token", Auth::None).await;
        let header = page.headers["x-request-id"].to_str().unwrap();
        assert!(page.status >= 400 && page.text.contains(&format!("<code>{header}</code>")), "{}", page.text);

        // An id sent by an untrusted peer is replaced; a trusted proxy's is
        // kept when it is plain, replaced when it isn't.
        let (_, kept) = get_with_id(&app.router, "/healthz", "lb-1234").await;
        assert!(is_generated_id(&kept), "{kept}");
        let mut config: ServerConfig = (*app.state.config).clone();
        config.trusted_proxies = vec!["203.0.113.7".parse().unwrap()];
        let mut state = app.state.clone();
        state.config = Arc::new(config);
        let behind_proxy = build_app(state);
        assert_eq!(get_with_id(&behind_proxy, "/healthz", "lb-1234").await, (200, "lb-1234".to_owned()));
        let (_, replaced) = get_with_id(&behind_proxy, "/healthz", "a b\"c").await;
        assert!(is_generated_id(&replaced), "{replaced}");
    }
}

#[tokio::test]
async fn metrics_parse_and_move_with_requests() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);
        let ok = [("method", "GET"), ("route", "/api/v1/organization"), ("status", "200")];
        let latency = [("method", "GET"), ("route", "/api/v1/organization")];
        let requests = |s: &[prometheus::Sample]| prometheus::value(s, "steward_http_requests_total", &ok);
        let timed = |s: &[prometheus::Sample]| {
            prometheus::value(s, "steward_http_request_duration_seconds_count", &latency).unwrap_or(0.0)
        };

        app.get("/api/v1/organization", admin).await;
        let before = scrape(&app).await;
        let n = requests(&before).expect("counted");
        for _ in 0..3 {
            assert_eq!(app.get("/api/v1/organization", admin).await.status, 200);
        }
        app.get("/api/v1/workspaces/ws_00000000000000000000000000000000", admin).await;
        app.get("/no/such/page/9f8e7d", Auth::None).await;
        let after = scrape(&app).await;
        assert_eq!(requests(&after), Some(n + 3.0), "{}", app.engine.name());
        assert_eq!(timed(&after), timed(&before) + 3.0);
        // Route templates and a fixed label for no route, never raw paths.
        let routes: Vec<&str> = after.iter().filter_map(|s| s.labels.get("route").map(String::as_str)).collect();
        assert!(routes.contains(&"/api/v1/workspaces/{id}"), "{routes:?}");
        assert!(routes.contains(&"unmatched") && !routes.iter().any(|r| r.contains("9f8e7d") || r.contains("ws_0")));
        let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
        assert_eq!(prometheus::value(&after, "steward_http_requests_total", &unmatched), Some(1.0));
        // The pool, sampled at the scrape.
        let idle = prometheus::value(&after, "steward_db_pool_connections", &[("state", "idle")]);
        let in_use = prometheus::value(&after, "steward_db_pool_connections", &[("state", "in_use")]);
        assert!(idle.is_some_and(|v| v >= 0.0) && in_use.is_some_and(|v| v >= 0.0), "{idle:?} {in_use:?}");
        assert!(prometheus::value(&after, "steward_db_pool_max_connections", &[]).is_some_and(|v| v >= 1.0));

        // The hook other parts use: counters, and gauges sampled per scrape.
        let metrics = app.state.metrics.clone();
        metrics.add("steward_mail_sent_total", "Mail accepted by the SMTP server.", &[("template", "invite")], 2);
        metrics.on_scrape(|m| async move {
            m.clear("steward_jobs");
            m.set("steward_jobs", "Jobs by kind and state.", &[("kind", "mail"), ("state", "pending")], 4.0);
        });
        let s = scrape(&app).await;
        assert_eq!(prometheus::value(&s, "steward_mail_sent_total", &[("template", "invite")]), Some(2.0));
        assert_eq!(prometheus::value(&s, "steward_jobs", &[("kind", "mail"), ("state", "pending")]), Some(4.0));

        // Not on the public router.
        assert_eq!(app.get("/metrics", Auth::None).await.status, 404);
    }
}

#[tokio::test]
async fn a_database_that_is_gone_answers_503_to_retry_and_readiness_fails_fast() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        assert_eq!(app.get("/readyz", Auth::None).await.status, 200);
        // A closed pool is what every engine can do in-process; the proxy test
        // in crates/steward/tests cuts a real PostgreSQL connection.
        app.db().close().await;
        for (path, auth) in [("/api/v1/organization", Auth::Bearer(&org.admin_token)), ("/readyz", Auth::None)] {
            let started = Instant::now();
            let r = app.get(path, auth).await;
            assert!(started.elapsed() < Duration::from_secs(2), "{path}: answered in {:?}", started.elapsed());
            assert_eq!((r.status, r.code()), (503, "database_unavailable"), "{path}: {}", r.text);
            assert_eq!(r.headers["retry-after"], "2", "{path}");
            assert_eq!(r.json["request_id"], r.headers["x-request-id"].to_str().unwrap());
        }
        assert_eq!(app.get("/healthz", Auth::None).await.status, 200, "liveness doesn't depend on the database");
    }
}

#[tokio::test]
async fn the_jobs_gauges_show_what_waits_and_for_how_long() {
    for app in TestApp::all().await {
        let now = app.clock_now();
        let job = |kind: &'static str, run_at| steward_store::jobs::NewJob {
            kind,
            payload: "{}".into(),
            org_id: None,
            run_at,
            max_attempts: 3,
            dedupe_key: None,
        };
        let mut tx = app.db().write_deployment().await.unwrap();
        for _ in 0..2 {
            steward_store::jobs::enqueue(&mut tx, job("probe", now.plus_seconds(-30)), now).await.unwrap();
        }
        steward_store::jobs::enqueue(&mut tx, job("later", now.plus_seconds(3600)), now).await.unwrap();
        tx.commit_unaudited().await.unwrap();
        let s = scrape(&app).await;
        let jobs = |kind: &str| prometheus::value(&s, "steward_jobs", &[("kind", kind), ("state", "pending")]);
        assert_eq!((jobs("probe"), jobs("later")), (Some(2.0), Some(1.0)), "{}", app.engine.name());
        let waited = prometheus::value(&s, "steward_jobs_oldest_due_seconds", &[]).unwrap_or(-1.0);
        assert!((30.0..31.0).contains(&waited), "the oldest due job waited 30 s, not {waited}");
    }
}
