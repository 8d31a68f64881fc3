//! API-2 / WS-7: endpoints get the organization's events, signed per Standard
//! Webhooks. A real HTTP receiver (axum on 127.0.0.1) answers as each test
//! scripts it; every signature it got is verified by the `standardwebhooks`
//! PyPI library. Retries follow the schedule on the app's clock.

mod common;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::{Auth, TestApp};
use serde_json::{Value, json};

/// What the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

#[derive(Clone, Default)]
struct Script {
    /// Statuses to answer, in order; 200 once they run out.
    answers: Arc<Mutex<VecDeque<u16>>>,
    got: Arc<Mutex<Vec<Received>>>,
}

async fn receive(State(s): State<Script>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    s.got.lock().unwrap().push(Received { headers, body: String::from_utf8_lossy(&body).into_owned() });
    let status = s.answers.lock().unwrap().pop_front().unwrap_or(200);
    (StatusCode::from_u16(status).unwrap(), format!("receiver says {status}"))
}

/// A receiver on a free port; returns its URL and script.
async fn receiver() -> (String, Script) {
    let script = Script::default();
    let app = Router::new().route("/hook", post(receive)).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, script)
}

fn python() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-peers/venv/bin/python");
    let found = [std::env::var_os("STEWARD_TEST_PYTHON").map(PathBuf::from), Some(venv), Some("python3".into())]
        .into_iter()
        .flatten()
        .find(|p| {
            Command::new(p)
                .args(["-c", "import standardwebhooks"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true: the standardwebhooks PyPI package is needed (.ci/run installs it)"
        );
        eprintln!("skipped: standardwebhooks is not installed (pip install standardwebhooks==1.1.0)");
    }
    found
}

/// Whether `standardwebhooks` accepts what the receiver got, with `secret`.
fn verifies(python: &Path, secret: &str, r: &Received) -> bool {
    let headers: serde_json::Map<String, Value> = ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .iter()
        .map(|h| (h.to_string(), Value::from(r.headers[*h].to_str().unwrap())))
        .collect();
    let script = "import json,sys\nfrom standardwebhooks import Webhook\nd=json.load(sys.stdin)\n\
                  try:\n    Webhook(d['secret']).verify(d['body'], d['headers']); print('ok')\n\
                  except Exception as e:\n    print('refused', e)";
    let mut child =
        Command::new(python).args(["-c", script]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let input = json!({ "secret": secret, "body": r.body, "headers": headers }).to_string();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "ok"
}

async fn add_endpoint(app: &TestApp, key: &str, url: &str, types: Value) -> (String, String) {
    let r = app.post("/api/v1/webhooks", Auth::Bearer(key), json!({ "url": url, "event_types": types })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let secret = r.json["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    (r.json["webhook"]["id"].as_str().unwrap().to_owned(), secret)
}

async fn log(app: &TestApp, key: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/webhooks/{id}/deliveries"), Auth::Bearer(key)).await.json["data"].clone()
}

#[tokio::test]
async fn a_suspension_reaches_the_receiver_signed_with_its_reason() {
    let Some(python) = python() else { return };
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let key = org.admin_key.as_str();
        let (url, script) = receiver().await;
        let (id, secret) = add_endpoint(&app, key, &url, json!(["workspace.suspended"])).await;
        let ws = app.post("/api/v1/workspaces", Auth::Bearer(key), json!({ "name": "Client" })).await.json["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = app
            .post(
                &format!("/api/v1/workspaces/{ws}/suspend"),
                Auth::Bearer(key),
                json!({ "reason": "Invoice overdue" }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        app.run_jobs().await;

        let got = script.got.lock().unwrap().clone();
        assert_eq!(got.len(), 1, "only the suspension was asked for, not the creation: {got:?}");
        let body: Value = serde_json::from_str(&got[0].body).unwrap();
        assert_eq!(body["type"], "workspace.suspended");
        assert_eq!(body["data"]["metadata"]["reason"], "Invoice overdue", "WS-7: the event carries the reason");
        assert_eq!(body["data"]["target"]["id"], ws.as_str());
        assert!(verifies(&python, &secret, &got[0]), "standardwebhooks verifies the signature");
        assert!(!verifies(&python, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &got[0]), "and refuses another secret");

        let deliveries = log(&app, key, &id).await;
        assert_eq!(deliveries[0]["status"], "succeeded");
        assert_eq!(deliveries[0]["message_id"], got[0].headers["webhook-id"].to_str().unwrap());
        assert_eq!(deliveries[0]["attempt_log"][0]["status_code"], 200);
        assert_eq!(deliveries[0]["attempt_log"][0]["response"], "receiver says 200");

        // Another organization sees none of it.
        let other = app.org("globex").await;
        assert_eq!(app.get(&format!("/api/v1/webhooks/{id}"), Auth::Bearer(&other.admin_key)).await.status, 404);
        assert_eq!(
            app.get(&format!("/api/v1/webhooks/{id}/deliveries"), Auth::Bearer(&other.admin_key)).await.status,
            404
        );
    }
}

#[tokio::test]
async fn failures_are_retried_on_the_schedule_and_410_disables_the_endpoint() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let key = org.admin_key.as_str();
        let (url, script) = receiver().await;
        // Tests are sent whatever an endpoint wants; it wants creations (for the 410 check).
        let (id, _) = add_endpoint(&app, key, &url, json!(["workspace.created"])).await;
        script.answers.lock().unwrap().extend([500, 503]);
        let test = app.post(&format!("/api/v1/webhooks/{id}/test"), Auth::Bearer(key), json!({})).await;
        assert_eq!(test.status, 202, "{}", test.text);
        app.run_jobs().await;
        assert_eq!(log(&app, key, &id).await[0]["status"], "pending", "the 500 is retried");
        app.clock.advance_seconds(4);
        app.run_jobs().await;
        assert_eq!(script.got.lock().unwrap().len(), 1, "not before the first pause (5 s, less 20 % at most)");
        app.clock.advance_seconds(3);
        app.run_jobs().await;
        app.clock.advance_seconds(6 * 60 + 1);
        app.run_jobs().await;
        let d = log(&app, key, &id).await[0].clone();
        let statuses: Vec<i64> =
            d["attempt_log"].as_array().unwrap().iter().map(|a| a["status_code"].as_i64().unwrap()).collect();
        assert_eq!((d["status"].as_str(), statuses), (Some("succeeded"), vec![500, 503, 200]), "{d}");
        let ids: Vec<String> =
            script.got.lock().unwrap().iter().map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned()).collect();
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "the webhook-id is the same on every attempt");

        // 410 Gone: the endpoint is disabled, and changes stop going there.
        script.answers.lock().unwrap().push_back(410);
        app.post(&format!("/api/v1/webhooks/{id}/test"), Auth::Bearer(key), json!({})).await;
        app.run_jobs().await;
        let e = app.get(&format!("/api/v1/webhooks/{id}"), Auth::Bearer(key)).await;
        assert_eq!(
            (e.json["enabled"].as_bool(), e.json["disabled_reason"].as_str()),
            (Some(false), Some("The receiver answered 410 Gone."))
        );
        // The Super Admins are told by mail.
        let told: Vec<String> = app.outbox_messages().iter().map(|m| String::from_utf8_lossy(m).into_owned()).collect();
        let letter = told.iter().find(|m| m.contains("webhook endpoint of Org acme was turned off")).expect("a letter");
        assert!(letter.contains(&org.admin_email) && letter.contains("410 Gone"), "{letter}");
        let before = script.got.lock().unwrap().len();
        app.post("/api/v1/workspaces", Auth::Bearer(key), json!({ "name": "After" })).await;
        app.run_jobs().await;
        assert_eq!(script.got.lock().unwrap().len(), before);

        // Enabled again, a failed delivery can be sent again.
        let r = app.patch(&format!("/api/v1/webhooks/{id}"), Auth::Bearer(key), json!({ "enabled": true })).await;
        assert_eq!(r.json["enabled"], true);
        let failed = log(&app, key, &id).await[0]["id"].as_str().unwrap().to_owned();
        let r =
            app.post(&format!("/api/v1/webhooks/{id}/deliveries/{failed}/retry"), Auth::Bearer(key), json!({})).await;
        assert_eq!((r.status, r.json["resent"].as_i64()), (202, Some(1)), "{}", r.text);
        app.run_jobs().await;
        assert_eq!(log(&app, key, &id).await[0]["status"], "succeeded");
    }
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_new_one_for_a_day() {
    let Some(python) = python() else { return };
    let app = TestApp::all().await.remove(0);
    let org = app.org("acme").await;
    let key = org.admin_key.as_str();
    let (url, script) = receiver().await;
    let (id, old) = add_endpoint(&app, key, &url, json!(["workspace.deleted"])).await;
    let r = app.post(&format!("/api/v1/webhooks/{id}/rotate-secret"), Auth::Bearer(key), json!({})).await;
    let new = r.json["secret"].as_str().unwrap().to_owned();
    assert!(new != old && r.json["webhook"]["previous_secret_valid_until"].is_string(), "{}", r.text);
    app.post(&format!("/api/v1/webhooks/{id}/test"), Auth::Bearer(key), json!({})).await;
    app.run_jobs().await;
    let first = script.got.lock().unwrap()[0].clone();
    assert_eq!(first.headers["webhook-signature"].to_str().unwrap().split(' ').count(), 2);
    assert!(verifies(&python, &old, &first) && verifies(&python, &new, &first));
    // A day later only the new secret signs. (The receiver's ±5 min window is
    // checked against its own clock, so only the signature count is read here.)
    app.clock.advance_seconds(24 * 3600 + 1);
    app.post(&format!("/api/v1/webhooks/{id}/test"), Auth::Bearer(key), json!({})).await;
    app.run_jobs().await;
    let later = script.got.lock().unwrap()[1].clone();
    assert_eq!(later.headers["webhook-signature"].to_str().unwrap().split(' ').count(), 1);
}

#[tokio::test]
async fn bad_endpoints_are_refused_naming_the_field_and_nothing_is_saved() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let key = Auth::Bearer(&org.admin_key);
        for (body, field, code) in [
            (json!({ "url": "ftp://hooks.example.com/" }), "url", "invalid_webhook_url"),
            (json!({ "url": "https://user:pw@hooks.example.com/" }), "url", "credentials_in_url"),
            (json!({ "url": format!("https://hooks.example.com/{}", "a".repeat(2000)) }), "url", "too_long"),
            (
                json!({ "url": "https://hooks.example.com/", "event_types": ["workspace.exploded"] }),
                "event_types[0]",
                "unknown_event_type",
            ),
        ] {
            let r = app.post("/api/v1/webhooks", key, body).await;
            assert_eq!(r.status, 422, "{}", r.text);
            assert_eq!(
                (r.json["errors"][0]["field"].as_str(), r.json["errors"][0]["code"].as_str()),
                (Some(field), Some(code))
            );
        }
        assert_eq!(app.get("/api/v1/webhooks", key).await.json["data"], json!([]));
        let types = app.get("/api/v1/webhook-event-types", key).await;
        assert!(types.json["data"].as_array().unwrap().iter().any(|t| t["name"] == "workspace.suspended"));
    }
}

/// The app as a deployment without `webhooks_allow_private`: public https only.
fn strict(app: &TestApp) -> axum::Router {
    let mut state = app.state.clone();
    let mut config = (*state.config).clone();
    config.webhooks_allow_private = false;
    state.config = Arc::new(config);
    steward_server::app::build_app(state)
}

async fn post_to(router: &axum::Router, key: &str, path: &str, body: Value) -> (u16, Value) {
    use tower::ServiceExt;
    let req = axum::http::Request::post(path)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn private_addresses_are_refused_in_every_spelling_and_redirects_are_not_followed() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let key = org.admin_key.as_str();
        let router = strict(&app);
        for url in [
            "https://127.0.0.1/hook",
            "https://[::1]/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.8/hook",
            "https://100.64.0.1/hook",
            "https://[::ffff:127.0.0.1]/hook",
            "https://2130706433/hook",
            "https://0177.0.0.1/hook",
            "https://0x7f.1/hook",
        ] {
            let (status, body) = post_to(&router, key, "/api/v1/webhooks", json!({ "url": url })).await;
            assert_eq!((status, body["errors"][0]["code"].as_str()), (422, Some("private_address")), "{url}: {body}");
            assert!(body["detail"].as_str().unwrap().contains("never reach"), "{body}");
        }
        let (status, body) =
            post_to(&router, key, "/api/v1/webhooks", json!({ "url": "http://hooks.example.com/" })).await;
        assert_eq!(
            (status, body["errors"][0]["code"].as_str()),
            (422, Some("invalid_webhook_url")),
            "http is for development only"
        );

        // A name that resolves to this machine is refused when connecting, on the address it resolved to.
        let (url, script) = receiver().await;
        let port = url.split(':').nth(2).unwrap().split('/').next().unwrap().to_owned();
        let (status, body) = post_to(
            &router,
            key,
            "/api/v1/webhooks",
            json!({ "url": format!("https://localhost:{port}/hook"), "event_types": ["workspace.deleted"] }),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let id = body["webhook"]["id"].as_str().unwrap().to_owned();
        let (status, _) = post_to(&router, key, &format!("/api/v1/webhooks/{id}/test"), json!({})).await;
        assert_eq!(status, 202);
        let strict_state = {
            let mut s = app.state.clone();
            let mut c = (*s.config).clone();
            c.webhooks_allow_private = false;
            s.config = Arc::new(c);
            s
        };
        let worker = steward_server::jobs::worker::Worker::new(
            strict_state,
            steward_server::jobs::Registry::standard(),
            steward_server::jobs::worker::WorkerConfig::new(2),
        )
        .with_schedules(Vec::new());
        while !worker.run_due().await.unwrap().is_empty() {}
        let d = log(&app, key, &id).await[0].clone();
        let error = d["attempt_log"][0]["error"].as_str().unwrap_or("").to_owned();
        assert!(error.contains("refused to connect to") && error.contains("private, loopback"), "{d}");
        assert!(script.got.lock().unwrap().is_empty(), "nothing reached the receiver");

        // A redirect is an answer, not a place to go.
        let (target, target_script) = receiver().await;
        let redirector = Router::new().route(
            "/hook",
            post(move || {
                let to = target.clone();
                async move { (StatusCode::FOUND, [("location", to)], "moved") }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let from = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, redirector).await.unwrap() });
        let (id, _) = add_endpoint(&app, key, &from, json!(["workspace.deleted"])).await;
        app.post(&format!("/api/v1/webhooks/{id}/test"), Auth::Bearer(key), json!({})).await;
        app.run_jobs().await;
        let d = log(&app, key, &id).await[0].clone();
        assert_eq!(
            (d["status"].as_str(), d["attempt_log"][0]["status_code"].as_i64()),
            (Some("pending"), Some(302)),
            "{d}"
        );
        assert!(target_script.got.lock().unwrap().is_empty(), "the redirect was not followed");
    }
}

#[tokio::test]
async fn five_days_of_failures_disable_the_endpoint_and_tell_the_super_admins() {
    let app = TestApp::all().await.remove(0);
    let org = app.org("acme").await;
    let key = org.admin_key.as_str();
    let (url, script) = receiver().await;
    let (id, _) = add_endpoint(&app, key, &url, json!(["workspace.deleted"])).await;
    script.answers.lock().unwrap().extend([500; 20]);
    app.post(&format!("/api/v1/webhooks/{id}/test"), Auth::Bearer(key), json!({})).await;
    app.run_jobs().await;
    let e = app.get(&format!("/api/v1/webhooks/{id}"), Auth::Bearer(key)).await;
    assert_eq!((e.json["enabled"].as_bool(), e.json["failing_since"].is_string()), (Some(true), true), "{}", e.text);
    app.clock.advance_seconds(5 * 86_400 + 1);
    app.post(&format!("/api/v1/webhooks/{id}/test"), Auth::Bearer(key), json!({})).await;
    app.run_jobs().await;
    let e = app.get(&format!("/api/v1/webhooks/{id}"), Auth::Bearer(key)).await;
    assert_eq!(
        (e.json["enabled"].as_bool(), e.json["disabled_reason"].as_str()),
        (Some(false), Some("Every delivery failed for five days.")),
        "{}",
        e.text
    );
    let told: Vec<String> = app.outbox_messages().iter().map(|m| String::from_utf8_lossy(m).into_owned()).collect();
    assert_eq!(told.iter().filter(|m| m.contains("was turned off")).count(), 1, "told once, when it was turned off");

    // An edit while it is off keeps when the failures began; turning it back
    // on clears it, so one more failure does not turn it off again at once.
    let path = format!("/api/v1/webhooks/{id}");
    app.patch(&path, Auth::Bearer(key), json!({ "description": "still failing" })).await;
    let e = app.get(&path, Auth::Bearer(key)).await;
    assert!(e.json["failing_since"].is_string(), "{}", e.text);
    app.patch(&path, Auth::Bearer(key), json!({ "enabled": true })).await;
    let e = app.get(&path, Auth::Bearer(key)).await;
    assert_eq!((e.json["enabled"].as_bool(), e.json["failing_since"].is_null()), (Some(true), true), "{}", e.text);
    app.post(&format!("{path}/test"), Auth::Bearer(key), json!({})).await;
    app.run_jobs().await;
    let e = app.get(&path, Auth::Bearer(key)).await;
    assert_eq!((e.json["enabled"].as_bool(), e.json["failing_since"].is_string()), (Some(true), true), "{}", e.text);
}
