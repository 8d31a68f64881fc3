//! Every route that changes something writes an audit event. The table below
//! must cover every POST/PUT/PATCH/DELETE route of the OpenAPI document, so a
//! new route without a check here (or without an event) fails this test.

mod common;

use std::collections::BTreeSet;

use axum::http::Method;
use common::{Auth, PASSWORD, TestApp};
use serde_json::{Value, json};
use steward_core::two_factor::code_at;

/// Routes checked elsewhere, with where.
const ELSEWHERE: &[(&str, &str)] = &[
    ("POST /api/v1/setup", "setup_and_sessions.rs: setup_creates_the_first_org_once"),
    // A debit's record is its ledger entry, by design (BILL-2): no audit event.
    ("POST /api/v1/credits/debits", "credits.rs: debits_are_exact_and_idempotent"),
    // The operator's: no key of the organization may call it.
    ("POST /api/v1/credits/grants", "credits.rs: grants_are_the_operators_and_audited"),
    ("POST /api/v1/credits/adjustments", "credits.rs: adjustments_are_the_operators_audited_and_never_overdraw"),
];

struct Run<'a> {
    app: &'a TestApp,
    org_id: String,
    covered: BTreeSet<String>,
}

impl Run<'_> {
    async fn hit(
        &mut self,
        method: Method,
        template: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> common::Resp {
        let before = self.app.actions(&self.org_id).await.len();
        let r = self.app.call(method.clone(), path, auth, body).await;
        assert!(r.status < 300, "{method} {path}: {} {}", r.status, r.text);
        let after = self.app.actions(&self.org_id).await.len();
        assert!(after > before, "{method} {template} changed something but wrote no audit event");
        self.covered.insert(format!("{method} {template}"));
        r
    }
}

#[tokio::test]
async fn every_mutation_route_writes_an_event() {
    let app = TestApp::on(steward_store::testing::sqlite().await);
    let org = app.org("acme").await;
    let mut run = Run { app: &app, org_id: org.id.clone(), covered: BTreeSet::new() };
    let admin = Auth::Bearer(&org.admin_token);
    let secs = |app: &TestApp| (app.clock_now().millis() / 1000) as u64;

    run.hit(Method::PATCH, "/api/v1/organization", "/api/v1/organization", admin, Some(json!({ "description": "d" })))
        .await;
    run.hit(Method::PATCH, "/api/v1/security", "/api/v1/security", admin, Some(json!({ "password_min_length": 16 })))
        .await;
    let key = run
        .hit(
            Method::POST,
            "/api/v1/api-keys",
            "/api/v1/api-keys",
            admin,
            Some(json!({ "name": "k", "scopes": ["read"] })),
        )
        .await;
    let key_id = key.json["api_key"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/api-keys/{key_id}");
    run.hit(Method::PATCH, "/api/v1/api-keys/{id}", &path, admin, Some(json!({ "rate_limit_per_minute": 60 }))).await;

    let hook = run
        .hit(
            Method::POST,
            "/api/v1/webhooks",
            "/api/v1/webhooks",
            admin,
            Some(json!({ "url": "https://hooks.example.com/" })),
        )
        .await;
    let hook_id = hook.json["webhook"]["id"].as_str().unwrap().to_owned();
    let hook_path = format!("/api/v1/webhooks/{hook_id}");
    run.hit(Method::PATCH, "/api/v1/webhooks/{id}", &hook_path, admin, Some(json!({ "description": "d" }))).await;
    let test =
        run.hit(Method::POST, "/api/v1/webhooks/{id}/test", &format!("{hook_path}/test"), admin, Some(json!({}))).await;
    let delivery = test.json["id"].as_str().unwrap().to_owned();
    run.hit(
        Method::POST,
        "/api/v1/webhooks/{id}/rotate-secret",
        &format!("{hook_path}/rotate-secret"),
        admin,
        Some(json!({})),
    )
    .await;
    run.hit(
        Method::POST,
        "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
        &format!("{hook_path}/deliveries/{delivery}/retry"),
        admin,
        Some(json!({})),
    )
    .await;
    run.hit(
        Method::POST,
        "/api/v1/webhooks/{id}/recover",
        &format!("{hook_path}/recover"),
        admin,
        Some(json!({ "since": "2020-01-01T00:00:00Z" })),
    )
    .await;
    run.hit(Method::DELETE, "/api/v1/webhooks/{id}", &hook_path, admin, None).await;
    run.hit(Method::DELETE, "/api/v1/api-keys/{id}", &format!("/api/v1/api-keys/{key_id}"), admin, None).await;

    let invited = run
        .hit(Method::POST, "/api/v1/users", "/api/v1/users", admin, Some(json!({ "email": "ivy@acme.example" })))
        .await;
    let ivy = invited.json["user"]["id"].as_str().unwrap().to_owned();
    let again = run
        .hit(
            Method::POST,
            "/api/v1/users/{id}/invitation",
            &format!("/api/v1/users/{ivy}/invitation"),
            admin,
            Some(json!({})),
        )
        .await;
    let token = again.json["invite_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let accept = format!("/api/v1/invitations/{token}/accept");
    run.hit(
        Method::POST,
        "/api/v1/invitations/{token}/accept",
        &accept,
        Auth::None,
        Some(json!({ "password": "violet tractor mango quietly" })),
    )
    .await;
    run.hit(
        Method::PATCH,
        "/api/v1/users/{id}",
        &format!("/api/v1/users/{ivy}"),
        admin,
        Some(json!({ "name": "Ivy" })),
    )
    .await;

    // A small PNG.
    let png = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_pixel(4, 4, image::Rgb([1, 2, 3])).write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    {
        use axum::body::Body;
        use tower::ServiceExt;
        let before = app.actions(&org.id).await.len();
        let req = axum::http::Request::builder()
            .method(Method::PUT)
            .uri("/api/v1/organization/logo")
            .header("authorization", format!("Bearer {}", org.admin_token))
            .header("content-type", "image/png")
            .body(Body::from(png))
            .unwrap();
        assert_eq!(app.router.clone().oneshot(req).await.unwrap().status(), 200);
        assert!(app.actions(&org.id).await.len() > before);
        run.covered.insert("PUT /api/v1/organization/logo".into());
    }
    run.hit(Method::DELETE, "/api/v1/organization/logo", "/api/v1/organization/logo", admin, None).await;

    let ws = run
        .hit(Method::POST, "/api/v1/workspaces", "/api/v1/workspaces", admin, Some(json!({ "name": "Client" })))
        .await;
    let ws = ws.json["id"].as_str().unwrap().to_owned();
    let w = |rest: &str| format!("/api/v1/workspaces/{ws}{rest}");
    run.hit(Method::PATCH, "/api/v1/workspaces/{id}", &w(""), admin, Some(json!({ "description": "x" }))).await;
    run.hit(
        Method::PUT,
        "/api/v1/workspaces/{id}/members/{user_id}",
        &w(&format!("/members/{ivy}")),
        admin,
        Some(json!({ "role": "editor" })),
    )
    .await;
    let c = run
        .hit(Method::POST, "/api/v1/workspaces/{id}/campaigns", &w("/campaigns"), admin, Some(json!({ "name": "C" })))
        .await;
    let c = c.json["id"].as_str().unwrap().to_owned();
    run.hit(
        Method::PATCH,
        "/api/v1/workspaces/{id}/campaigns/{campaign_id}",
        &w(&format!("/campaigns/{c}")),
        admin,
        Some(json!({ "status": "active" })),
    )
    .await;
    let t = run
        .hit(Method::POST, "/api/v1/workspaces/{id}/content", &w("/content"), admin, Some(json!({ "title": "T" })))
        .await;
    let t = t.json["id"].as_str().unwrap().to_owned();
    run.hit(
        Method::PATCH,
        "/api/v1/workspaces/{id}/content/{content_id}",
        &w(&format!("/content/{t}")),
        admin,
        Some(json!({ "title": "T2" })),
    )
    .await;
    run.hit(Method::DELETE, "/api/v1/workspaces/{id}/content/{content_id}", &w(&format!("/content/{t}")), admin, None)
        .await;
    let k = run
        .hit(
            Method::POST,
            "/api/v1/workspaces/{id}/connections",
            &w("/connections"),
            admin,
            Some(json!({ "platform": "x", "account_name": "@a" })),
        )
        .await;
    let k = k.json["id"].as_str().unwrap().to_owned();
    run.hit(
        Method::PATCH,
        "/api/v1/workspaces/{id}/connections/{connection_id}",
        &w(&format!("/connections/{k}")),
        admin,
        Some(json!({ "status": "expired" })),
    )
    .await;
    run.hit(
        Method::DELETE,
        "/api/v1/workspaces/{id}/connections/{connection_id}",
        &w(&format!("/connections/{k}")),
        admin,
        None,
    )
    .await;
    let m = app.raw(Method::POST, &w("/media?filename=a.txt"), admin, Some("hello"), "text/plain").await;
    assert_eq!(m.status, 201);
    run.covered.insert("POST /api/v1/workspaces/{id}/media".into());
    let m = m.json["id"].as_str().unwrap().to_owned();
    run.hit(Method::DELETE, "/api/v1/workspaces/{id}/media/{media_id}", &w(&format!("/media/{m}")), admin, None).await;
    run.hit(Method::DELETE, "/api/v1/workspaces/{id}/members/{user_id}", &w(&format!("/members/{ivy}")), admin, None)
        .await;
    run.hit(Method::POST, "/api/v1/workspaces/{id}/suspend", &w("/suspend"), admin, Some(json!({}))).await;
    run.hit(Method::POST, "/api/v1/workspaces/{id}/reactivate", &w("/reactivate"), admin, Some(json!({}))).await;
    run.hit(Method::POST, "/api/v1/workspaces/{id}/archive", &w("/archive"), admin, Some(json!({}))).await;
    run.hit(Method::POST, "/api/v1/workspaces/{id}/restore", &w("/restore"), admin, Some(json!({}))).await;
    run.hit(Method::DELETE, "/api/v1/workspaces/{id}", &w("?confirm=client"), admin, None).await;

    // Sessions and two-factor, as the member.
    let s = run
        .hit(
            Method::POST,
            "/api/v1/sessions",
            "/api/v1/sessions",
            Auth::None,
            Some(json!({ "email": "member@acme.example", "password": PASSWORD })),
        )
        .await;
    let member = s.json["token"].as_str().unwrap().to_owned();
    let me = Auth::Bearer(&member);
    run.hit(
        Method::POST,
        "/api/v1/sessions/current/reauthenticate",
        "/api/v1/sessions/current/reauthenticate",
        me,
        Some(json!({ "password": PASSWORD })),
    )
    .await;
    let start =
        run.hit(Method::POST, "/api/v1/me/two-factor/totp", "/api/v1/me/two-factor/totp", me, Some(json!({}))).await;
    let secret = start.json["secret"].as_str().unwrap().to_owned();
    run.hit(
        Method::POST,
        "/api/v1/me/two-factor/totp/confirm",
        "/api/v1/me/two-factor/totp/confirm",
        me,
        Some(json!({ "code": code_at(&secret, secs(&app)).unwrap() })),
    )
    .await;
    app.clock.advance_seconds(30);
    run.hit(
        Method::POST,
        "/api/v1/me/two-factor/recovery-codes",
        "/api/v1/me/two-factor/recovery-codes",
        me,
        Some(json!({ "code": code_at(&secret, secs(&app)).unwrap() })),
    )
    .await;
    run.hit(
        Method::POST,
        "/api/v1/me/two-factor/disable",
        "/api/v1/me/two-factor/disable",
        me,
        Some(json!({ "password": PASSWORD })),
    )
    .await;
    let start = app.post("/api/v1/me/two-factor/totp", me, json!({})).await;
    let secret = start.json["secret"].as_str().unwrap().to_owned();
    app.clock.advance_seconds(30);
    app.post("/api/v1/me/two-factor/totp/confirm", me, json!({ "code": code_at(&secret, secs(&app)).unwrap() })).await;
    run.hit(
        Method::POST,
        "/api/v1/users/{id}/two-factor/reset",
        &format!("/api/v1/users/{}/two-factor/reset", org.member_id),
        admin,
        Some(json!({})),
    )
    .await;
    let other = app.login("member@acme.example", PASSWORD).await.json["token"].as_str().unwrap().to_owned();
    app.login("member@acme.example", PASSWORD).await;
    let mine = app.get("/api/v1/me/sessions", Auth::Bearer(&other)).await;
    let not_current = mine.json["data"].as_array().unwrap().iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run.hit(
        Method::DELETE,
        "/api/v1/me/sessions/{id}",
        &format!("/api/v1/me/sessions/{not_current}"),
        Auth::Bearer(&other),
        None,
    )
    .await;
    app.login("member@acme.example", PASSWORD).await;
    run.hit(
        Method::POST,
        "/api/v1/me/sessions/end-others",
        "/api/v1/me/sessions/end-others",
        Auth::Bearer(&other),
        Some(json!({})),
    )
    .await;
    run.hit(
        Method::POST,
        "/api/v1/users/{id}/sessions/end",
        &format!("/api/v1/users/{}/sessions/end", org.member_id),
        admin,
        Some(json!({})),
    )
    .await;
    run.hit(Method::DELETE, "/api/v1/users/{id}", &format!("/api/v1/users/{ivy}"), admin, None).await;
    // Credits: a refund and the alert settings are audited.
    common::grant(&app, &org, 1_000).await;
    let ws = common::create_ws(&app, &org, json!({ "name": "Credited" })).await;
    let debit = app
        .post("/api/v1/credits/debits", admin, json!({ "workspace_id": ws["id"], "amount": 10, "reason": "use" }))
        .await;
    let refund = format!("/api/v1/credits/debits/{}/refund", debit.json["id"].as_str().unwrap());
    run.hit(Method::POST, "/api/v1/credits/debits/{id}/refund", &refund, admin, Some(json!({ "amount": 4 }))).await;
    let alerts = json!({ "alerts": [{ "kind": "balance", "threshold": 100 }] });
    run.hit(Method::PUT, "/api/v1/credits/alerts", "/api/v1/credits/alerts", admin, Some(alerts)).await;
    let budget = format!("/api/v1/credits/budgets/{}", ws["id"].as_str().unwrap());
    run.hit(Method::PUT, "/api/v1/credits/budgets/{workspace_id}", &budget, admin, Some(json!({ "monthly": 500 })))
        .await;
    let report = json!({ "type": "campaign_costs", "format": "pdf", "from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z" });
    run.hit(Method::POST, "/api/v1/reports", "/api/v1/reports", admin, Some(report)).await;

    // The member's sessions were ended above: a new one for their own account.
    let member = app.login("member@acme.example", PASSWORD).await.json["token"].as_str().unwrap().to_owned();
    let me = Auth::Bearer(&member);
    run.hit(Method::PATCH, "/api/v1/me", "/api/v1/me", me, Some(json!({ "name": "Mo Member" }))).await;
    let change = json!({ "current_password": PASSWORD, "new_password": "violet tractor mango quietly" });
    run.hit(Method::POST, "/api/v1/me/password", "/api/v1/me/password", me, Some(change)).await;
    run.hit(Method::DELETE, "/api/v1/sessions/current", "/api/v1/sessions/current", admin, None).await;

    // The table covers every mutation route of the API.
    let doc: Value = serde_json::from_str(&steward_server::openapi::document_json()).unwrap();
    let mut missing = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            if matches!(method.as_str(), "post" | "put" | "patch" | "delete") {
                let route = format!("{} {path}", method.to_uppercase());
                if !run.covered.contains(&route) && !ELSEWHERE.iter().any(|(r, _)| *r == route) {
                    missing.push(route);
                }
            }
        }
    }
    assert!(missing.is_empty(), "mutation routes with no audit check: {missing:?}");
}
