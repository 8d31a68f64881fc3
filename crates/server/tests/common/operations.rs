//! Every operation of the OpenAPI document, and one concrete call of each on
//! real objects of an organization: the route table that `permissions.rs` and
//! `isolation.rs` walk. A new operation fails both until it has an entry in
//! [`spec`].
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::Method;
use serde_json::{Value, json};

use crate::common::{Auth, Org, Resp, TestApp};

/// One operation of the document: `GET /api/v1/users/{id}` and what it needs.
#[derive(Debug, Clone)]
pub struct Op {
    pub method: Method,
    /// The path template, as documented.
    pub path: String,
    /// Its `x-permission` (empty when the document has none).
    pub permission: String,
}

impl Op {
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    pub fn is_write(&self) -> bool {
        self.method != Method::GET
    }

    /// Whether the path names an object by id (`{id}`, `{user_id}`, …).
    pub fn names_an_object(&self) -> bool {
        self.path.contains('{')
    }

    /// Workspace-level: acts on one workspace (and what it holds).
    pub fn in_a_workspace(&self) -> bool {
        self.path.starts_with("/api/v1/workspaces/{id}")
    }
}

/// Every operation under `paths`, sorted by path then method.
pub fn operations() -> Vec<Op> {
    let doc = steward_server::openapi::document();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            if !matches!(method.as_str(), "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") {
                continue;
            }
            let permission = op["x-permission"].as_str().unwrap_or_default().to_owned();
            out.push(Op { method, path: path.clone(), permission });
        }
    }
    out.sort_by(|a, b| (&a.path, a.method.as_str()).cmp(&(&b.path, b.method.as_str())));
    out
}

/// Real objects of an organization for the path parameters.
#[derive(Debug, Clone)]
pub struct Fixtures {
    pub ws: String,
    pub ws_name: String,
    pub ws_slug: String,
    pub campaign: String,
    pub content: String,
    pub connection: String,
    pub media: String,
    /// An invited (pending) person, a member (editor) of `ws`.
    pub invited: String,
    /// A spare API key of the organization (`read`).
    pub key_id: String,
    /// The Super Admin's current session.
    pub session_id: String,
    /// A webhook endpoint, and a (test) delivery to it.
    pub webhook: String,
    pub delivery: String,
    /// A debit of 1,000 credits for `ws` (the organization was granted some).
    pub debit: String,
    /// A usage report, written (ready to download).
    pub report: String,
}

static SEQ: AtomicUsize = AtomicUsize::new(1);

/// A number no other fixture of this process used.
pub fn seq() -> usize {
    SEQ.fetch_add(1, Ordering::Relaxed)
}

fn id_of(r: &Resp, pointer: &str) -> String {
    assert!(r.status < 300, "a fixture was not created: {} {}", r.status, r.text);
    r.json.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("{pointer} in {}", r.text)).to_owned()
}

/// Creates a workspace named `{name} {n}` holding one of everything, an invited
/// person in it, and a spare key, as the organization's Super Admin.
pub async fn fixtures(app: &TestApp, org: &Org, name: &str) -> Fixtures {
    let admin = Auth::Bearer(&org.admin_token);
    let n = seq();
    let ws_name = format!("{name} {n}");
    let w = app.post("/api/v1/workspaces", admin, json!({ "name": ws_name })).await;
    let ws = id_of(&w, "/id");
    let ws_slug = id_of(&w, "/slug");
    let at = |rest: &str| format!("/api/v1/workspaces/{ws}{rest}");
    let c = app.post(&at("/campaigns"), admin, json!({ "name": "Spring", "status": "active" })).await;
    let t = app.post(&at("/content"), admin, json!({ "title": "Launch post" })).await;
    let k = app.post(&at("/connections"), admin, json!({ "platform": "x", "account_name": format!("@acct{n}") })).await;
    let m = send(app, Method::POST, &at("/media?filename=notes.txt"), admin, &Body::text("hello")).await;
    let email = format!("invitee{n}@{}.example", org.slug);
    let invited = app.post("/api/v1/users", admin, json!({ "email": email, "name": "Ivy Invitee" })).await;
    let invited = id_of(&invited, "/user/id");
    let added =
        app.call(Method::PUT, &at(&format!("/members/{invited}")), admin, Some(json!({ "role": "editor" }))).await;
    assert!(added.status < 300, "{}", added.text);
    let key = app.post("/api/v1/api-keys", admin, json!({ "name": format!("spare {n}"), "scopes": ["read"] })).await;
    let sessions = app.get("/api/v1/me/sessions", admin).await;
    let current = sessions.json["data"].as_array().and_then(|d| d.iter().find(|s| s["current"] == true));
    let session_id = current.and_then(|s| s["id"].as_str()).expect("the admin's current session").to_owned();
    let hook = app
        .post(
            "/api/v1/webhooks",
            admin,
            json!({ "url": format!("http://127.0.0.1:9/hook{n}"), "event_types": ["workspace.deleted"] }),
        )
        .await;
    let webhook = id_of(&hook, "/webhook/id");
    let test = app.post(&format!("/api/v1/webhooks/{webhook}/test"), admin, json!({})).await;
    crate::common::grant(app, org, 1_000_000).await;
    let debit = app
        .post("/api/v1/credits/debits", admin, json!({ "workspace_id": ws, "amount": 1000, "reason": "fixture" }))
        .await;
    let report = ready_report(app, org).await;
    Fixtures {
        report,
        debit: id_of(&debit, "/id"),
        webhook,
        delivery: id_of(&test, "/id"),
        ws,
        ws_name,
        ws_slug,
        campaign: id_of(&c, "/id"),
        content: id_of(&t, "/id"),
        connection: id_of(&k, "/id"),
        media: id_of(&m, "/id"),
        invited,
        key_id: id_of(&key, "/api_key/id"),
        session_id,
    }
}

/// A CSV report of the last week, written by running its job here (not
/// every due job: the fixtures' webhook test delivery stays queued).
async fn ready_report(app: &TestApp, org: &Org) -> String {
    use steward_server::jobs::{Job, JobCtx};
    let now = app.clock_now().millis();
    let at = |ms: i64| steward_core::time::Timestamp::from_millis(ms).to_rfc3339();
    let body =
        json!({ "type": "usage_by_workspace", "format": "csv", "from": at(now - 7 * 86_400_000), "to": at(now + 1) });
    let r = app.post("/api/v1/reports", Auth::Bearer(&org.admin_token), body).await;
    let id = id_of(&r, "/id");
    let ctx =
        JobCtx { app: app.state.clone(), id: steward_core::ids::JobId::new(), org_id: org.id.parse().ok(), attempt: 1 };
    let job = steward_server::jobs::reports::Generate { report_id: id.parse().expect("a report id") };
    job.run(ctx).await.expect("the report is written");
    id
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(Value),
    Bytes(Vec<u8>, &'static str),
}

impl Body {
    pub fn text(s: &str) -> Body {
        Body::Bytes(s.as_bytes().to_vec(), "text/plain")
    }
}

/// One concrete call of an operation.
#[derive(Debug, Clone)]
pub struct Call {
    pub path: String,
    pub body: Body,
}

/// A small PNG, for the logo.
pub fn png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(8, 8, image::Rgb([10, 20, 30])).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The template with its parameters replaced by the fixtures' ids. `{id}` is
/// whatever the path's collection holds.
pub fn fill(template: &str, fx: &Fixtures) -> String {
    let id = if template.starts_with("/api/v1/workspaces/") {
        &fx.ws
    } else if template.starts_with("/api/v1/users/") {
        &fx.invited
    } else if template.starts_with("/api/v1/api-keys/") {
        &fx.key_id
    } else if template.starts_with("/api/v1/webhooks/") {
        &fx.webhook
    } else if template.starts_with("/api/v1/me/sessions/") {
        &fx.session_id
    } else if template.starts_with("/api/v1/credits/debits/") {
        &fx.debit
    } else if template.starts_with("/api/v1/reports/") {
        &fx.report
    } else {
        "no-such-id"
    };
    template
        .replace("{id}", id)
        .replace("{campaign_id}", &fx.campaign)
        .replace("{content_id}", &fx.content)
        .replace("{connection_id}", &fx.connection)
        .replace("{media_id}", &fx.media)
        .replace("{delivery_id}", &fx.delivery)
        .replace("{user_id}", &fx.invited)
        .replace("{workspace_id}", &fx.ws)
        .replace("{token}", "inv_not-a-real-invitation-token")
}

/// The call of an operation: a body that is valid, so that only the caller
/// decides the answer. Public and own-account routes (`none`) get bodies that
/// fail (an unknown email, a wrong password or code), so calling them changes
/// nothing. `None`: the operation has no entry yet.
pub fn spec(op: &Op, fx: &Fixtures) -> Option<Call> {
    let n = seq();
    let j = Body::Json;
    let (query, body): (String, Body) = match op.key().as_str() {
        // Organization.
        "GET /api/v1/organization"
        | "GET /api/v1/organization/dashboard"
        | "GET /api/v1/organization/logo"
        | "DELETE /api/v1/organization/logo"
        | "GET /api/v1/security"
        | "GET /api/v1/audit-events"
        | "GET /api/v1/api-keys"
        | "GET /api/v1/api-keys/{id}"
        | "DELETE /api/v1/api-keys/{id}"
        | "GET /api/v1/users"
        | "GET /api/v1/users/{id}"
        | "DELETE /api/v1/users/{id}"
        | "GET /api/v1/permissions"
        | "GET /api/v1/webhooks"
        | "GET /api/v1/webhooks/{id}"
        | "GET /api/v1/webhooks/{id}/deliveries"
        | "DELETE /api/v1/webhooks/{id}"
        | "GET /api/v1/webhook-event-types" => (String::new(), Body::None),
        // Webhooks.
        "POST /api/v1/webhooks" => (String::new(), j(json!({ "url": format!("https://hooks{n}.example.com/in") }))),
        "PATCH /api/v1/webhooks/{id}" => (String::new(), j(json!({ "description": format!("Changed {n}") }))),
        "POST /api/v1/webhooks/{id}/test"
        | "POST /api/v1/webhooks/{id}/rotate-secret"
        | "POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/retry" => (String::new(), j(json!({}))),
        "POST /api/v1/webhooks/{id}/recover" => (String::new(), j(json!({ "since": "2020-01-01T00:00:00Z" }))),
        "PATCH /api/v1/organization" => (String::new(), j(json!({ "description": format!("Changed {n}") }))),
        "PUT /api/v1/organization/logo" => (String::new(), Body::Bytes(png(), "image/png")),
        "PATCH /api/v1/security" => (String::new(), j(json!({ "password_min_length": 12 }))),
        "GET /api/v1/audit-events/export" => ("?format=csv".into(), Body::None),
        "PATCH /api/v1/api-keys/{id}" => (String::new(), j(json!({ "name": format!("renamed {n}") }))),
        "POST /api/v1/api-keys" => {
            (String::new(), j(json!({ "name": format!("made {n}"), "scopes": ["api_keys:write"] })))
        }
        // People.
        "POST /api/v1/users" => {
            (String::new(), j(json!({ "email": format!("new{n}@example.org"), "name": "Nia New" })))
        }
        "PATCH /api/v1/users/{id}" => (String::new(), j(json!({ "name": format!("Renamed {n}") }))),
        "POST /api/v1/users/{id}/invitation"
        | "POST /api/v1/users/{id}/sessions/end"
        | "POST /api/v1/users/{id}/two-factor/reset" => (String::new(), j(json!({}))),
        // Workspaces.
        "GET /api/v1/workspaces" => ("?status=all".into(), Body::None),
        "POST /api/v1/workspaces" => (String::new(), j(json!({ "name": format!("Made {n}") }))),
        "GET /api/v1/workspaces/{id}"
        | "GET /api/v1/workspaces/{id}/campaigns"
        | "GET /api/v1/workspaces/{id}/campaigns/{campaign_id}"
        | "GET /api/v1/workspaces/{id}/content"
        | "GET /api/v1/workspaces/{id}/content/{content_id}"
        | "DELETE /api/v1/workspaces/{id}/content/{content_id}"
        | "GET /api/v1/workspaces/{id}/connections"
        | "DELETE /api/v1/workspaces/{id}/connections/{connection_id}"
        | "GET /api/v1/workspaces/{id}/media"
        | "GET /api/v1/workspaces/{id}/media/{media_id}"
        | "DELETE /api/v1/workspaces/{id}/media/{media_id}"
        | "GET /api/v1/workspaces/{id}/members"
        | "DELETE /api/v1/workspaces/{id}/members/{user_id}"
        | "POST /api/v1/workspaces/{id}/reactivate"
        | "POST /api/v1/workspaces/{id}/restore" => (String::new(), Body::None),
        "PATCH /api/v1/workspaces/{id}" => (String::new(), j(json!({ "description": format!("Changed {n}") }))),
        "DELETE /api/v1/workspaces/{id}" => (format!("?confirm={}", fx.ws_slug), Body::None),
        "POST /api/v1/workspaces/{id}/suspend" => (String::new(), j(json!({ "reason": "unpaid invoice" }))),
        "POST /api/v1/workspaces/{id}/archive" => (String::new(), j(json!({}))),
        "PUT /api/v1/workspaces/{id}/members/{user_id}" => (String::new(), j(json!({ "role": "viewer" }))),
        "POST /api/v1/workspaces/{id}/campaigns" => (String::new(), j(json!({ "name": format!("Campaign {n}") }))),
        "PATCH /api/v1/workspaces/{id}/campaigns/{campaign_id}" => {
            (String::new(), j(json!({ "name": format!("Campaign {n}") })))
        }
        "POST /api/v1/workspaces/{id}/content" => (String::new(), j(json!({ "title": format!("Post {n}") }))),
        "PATCH /api/v1/workspaces/{id}/content/{content_id}" => {
            (String::new(), j(json!({ "title": format!("Post {n}") })))
        }
        "POST /api/v1/workspaces/{id}/connections" => {
            (String::new(), j(json!({ "platform": "x", "account_name": format!("@made{n}") })))
        }
        "PATCH /api/v1/workspaces/{id}/connections/{connection_id}" => {
            (String::new(), j(json!({ "account_name": format!("@renamed{n}") })))
        }
        "POST /api/v1/workspaces/{id}/media" => ("?filename=upload.txt".into(), Body::text("some bytes")),
        // Public routes: bodies that fail.
        "POST /api/v1/sessions" => {
            (String::new(), j(json!({ "email": "nobody@nowhere.example", "password": "not the password" })))
        }
        "POST /api/v1/setup" => (
            String::new(),
            j(json!({
                "token": "not-the-setup-token", "organization_name": "Usurper", "admin_name": "Eve",
                "admin_email": "eve@usurper.example", "admin_password": "violet tractor mango quietly",
            })),
        ),
        "POST /api/v1/invitations/{token}/accept" => {
            (String::new(), j(json!({ "password": "violet tractor mango quietly" })))
        }
        // One's own account: reads, and writes that fail (wrong password or code).
        "GET /api/v1/me"
        | "GET /api/v1/me/sessions"
        | "POST /api/v1/me/sessions/end-others"
        | "DELETE /api/v1/me/sessions/{id}"
        | "POST /api/v1/me/two-factor/totp"
        | "DELETE /api/v1/sessions/current" => (String::new(), Body::None),
        "POST /api/v1/me/two-factor/disable" | "POST /api/v1/sessions/current/reauthenticate" => {
            (String::new(), j(json!({ "password": "not the password" })))
        }
        "POST /api/v1/me/two-factor/recovery-codes" | "POST /api/v1/me/two-factor/totp/confirm" => {
            (String::new(), j(json!({ "code": "000000" })))
        }
        "PATCH /api/v1/me" => (String::new(), j(json!({ "name": "" }))),
        // Credits.
        "GET /api/v1/credits"
        | "GET /api/v1/credits/budgets"
        | "GET /api/v1/credits/alerts"
        | "GET /api/v1/credits/transactions"
        | "GET /api/v1/credits/transactions/export" => (String::new(), Body::None),
        "GET /api/v1/credits/usage" => {
            ("?group_by=workspace&from=2020-01-01T00:00:00Z&to=2021-01-01T00:00:00Z".into(), Body::None)
        }
        "POST /api/v1/credits/debits" => {
            (String::new(), j(json!({ "workspace_id": fx.ws, "amount": 1, "reason": format!("debit {n}") })))
        }
        "POST /api/v1/credits/debits/{id}/refund" => (String::new(), j(json!({ "amount": 1 }))),
        "PUT /api/v1/credits/alerts" => {
            (String::new(), j(json!({ "alerts": [{ "kind": "balance", "threshold": 10 }] })))
        }
        "POST /api/v1/credits/grants" => (String::new(), j(json!({ "amount": 5, "category": "promotional" }))),
        "POST /api/v1/credits/adjustments" => (String::new(), j(json!({ "amount": 5, "reason": "goodwill" }))),
        "PUT /api/v1/credits/budgets/{workspace_id}" => (String::new(), j(json!({ "monthly": 1_000_000 }))),
        // Reports.
        "GET /api/v1/reports" | "GET /api/v1/reports/{id}" | "GET /api/v1/reports/{id}/download" => {
            (String::new(), Body::None)
        }
        "POST /api/v1/reports" => (
            String::new(),
            j(
                json!({ "type": "usage_by_user", "format": "csv", "from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z" }),
            ),
        ),
        "POST /api/v1/me/password" => (
            String::new(),
            j(json!({ "current_password": "not the password", "new_password": "violet tractor mango quietly" })),
        ),
        _ => return None,
    };
    Some(Call { path: format!("{}{query}", fill(&op.path, fx)), body })
}

/// The message for an operation without an entry in [`spec`].
pub fn missing_entry(op: &Op, test: &str) -> String {
    format!(
        "`{}` has no entry in the route table: add one to `spec` in crates/server/tests/common/operations.rs \
         (a valid body and its ids) so {test} covers it",
        op.key()
    )
}

/// Sends a call: JSON, raw bytes with their content type, or nothing.
pub async fn send(app: &TestApp, method: Method, path: &str, auth: Auth<'_>, body: &Body) -> Resp {
    let body = match body {
        Body::None => None,
        Body::Json(v) => Some((v.to_string().into_bytes(), "application/json")),
        Body::Bytes(b, ct) => Some((b.clone(), *ct)),
    };
    app.bytes(method, path, auth, body).await
}

/// Sends the call of `op`.
pub async fn send_call(app: &TestApp, op: &Op, call: &Call, auth: Auth<'_>) -> Resp {
    send(app, op.method.clone(), &call.path, auth, &call.body).await
}
