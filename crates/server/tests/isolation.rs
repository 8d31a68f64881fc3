//! PEOPLE-2: the isolation matrix. Every operation of the OpenAPI document and
//! every console route, for every kind of caller that must not reach org A; a
//! refused call must answer the expected status *and* leave A as it was.

mod common;
#[path = "common/operations.rs"]
mod operations;

use std::time::Instant;

use axum::http::Method;
use common::{Auth, Org, PASSWORD, Resp, TestApp};
use operations::{Body, Fixtures, Op, fixtures, missing_entry, operations, send, send_call, spec};
use serde_json::{Value, json};
use steward_core::permissions::{Permission, bundle};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    Anonymous,
    /// A member of A who is in no workspace.
    Member,
    ReadKey,
    OtherOrgAdmin,
    OtherOrgKey,
}

const CALLERS: [Caller; 5] =
    [Caller::Anonymous, Caller::Member, Caller::ReadKey, Caller::OtherOrgAdmin, Caller::OtherOrgKey];

/// Routes that need no credentials. The matrix calls them with bodies that fail.
const PUBLIC: &[&str] = &["POST /api/v1/sessions", "POST /api/v1/setup", "POST /api/v1/invitations/{token}/accept"];

/// Organization-level operations open to members, with what they may see.
const MEMBERS_MAY: &[&str] = &["GET /api/v1/workspaces"];

#[derive(Debug, PartialEq)]
enum Expect {
    Status(u16),
    /// Any 4xx.
    Refused,
    /// Another org's caller, on a route without an id: it acts on its own org.
    OwnOrg,
    /// The caller's own account (`x-permission: none`).
    OwnAccount,
}

fn expected(caller: Caller, op: &Op) -> Expect {
    let key = op.key();
    if PUBLIC.contains(&key.as_str()) {
        return Expect::Refused;
    }
    if caller == Caller::Anonymous {
        return Expect::Status(401);
    }
    let other_org = matches!(caller, Caller::OtherOrgAdmin | Caller::OtherOrgKey);
    if op.permission == "none" {
        let key_reads = ["GET /api/v1/me", "GET /api/v1/permissions"];
        return match caller {
            // The one `none` route with an id names the Super Admin's session of A.
            Caller::Member | Caller::OtherOrgAdmin if op.names_an_object() => Expect::Status(404),
            Caller::Member | Caller::OtherOrgAdmin if !op.is_write() => Expect::Status(200),
            Caller::Member | Caller::OtherOrgAdmin => Expect::OwnAccount,
            // A key has no account, sessions or two-factor of its own.
            _ if key_reads.contains(&key.as_str()) => Expect::Status(200),
            _ => Expect::Refused,
        };
    }
    let permission = Permission::parse(&op.permission).expect("a known permission");
    match caller {
        Caller::Member if MEMBERS_MAY.contains(&key.as_str()) => Expect::Status(200),
        // Lifecycle steps are Super Admin work: refused before any lookup.
        Caller::Member if op.in_a_workspace() && permission != Permission::WorkspacesLifecycle => Expect::Status(404),
        Caller::Member => Expect::Status(403),
        Caller::ReadKey if bundle("read").unwrap().contains(permission) => Expect::Status(200),
        Caller::ReadKey => Expect::Status(403),
        _ if other_org && op.names_an_object() => Expect::Status(404),
        _ => Expect::OwnOrg,
    }
}

/// Everything of an organization that a route could change, read through the API.
async fn snapshot(app: &TestApp, org: &Org) -> Value {
    let admin = Auth::Bearer(&org.admin_key);
    let mut snap = json!({});
    for path in [
        "/api/v1/organization",
        "/api/v1/users?limit=200",
        "/api/v1/api-keys?limit=200",
        "/api/v1/webhooks?limit=200",
        "/api/v1/workspaces?status=all&limit=200",
        "/api/v1/security",
    ] {
        let mut v = app.get(path, admin).await.json;
        // `last_used_at` of the snapshot key itself moves when it reads.
        if let Some(keys) = v.get_mut("data").and_then(Value::as_array_mut) {
            for k in keys {
                if let Some(o) = k.as_object_mut() {
                    o.remove("last_used_at");
                }
            }
        }
        snap[path] = v;
    }
    snap["logo"] = json!(app.get("/api/v1/organization/logo", admin).await.text.len());
    snap["events"] = json!(app.actions(&org.id).await.len());
    let list = snap["/api/v1/workspaces?status=all&limit=200"]["data"].as_array().cloned().unwrap_or_default();
    for w in list {
        let id = w["id"].as_str().unwrap_or_default().to_owned();
        for what in ["campaigns", "members", "content", "connections", "media"] {
            let path = format!("/api/v1/workspaces/{id}/{what}?limit=200");
            snap[format!("{id}/{what}")] = app.get(&path, admin).await.json;
        }
    }
    snap
}

/// Org A's state, compared after each call that may not change it.
struct Watch {
    baseline: Value,
    snapshots: usize,
}

impl Watch {
    async fn unchanged(&mut self, app: &TestApp, a: &Org, what: &str) {
        self.snapshots += 1;
        let now = snapshot(app, a).await;
        assert!(now == self.baseline, "{what} changed org A:\nbefore {}\nafter  {now}", self.baseline);
    }

    /// After a call that may change A (a member's own account).
    async fn rebase(&mut self, app: &TestApp, a: &Org) {
        self.snapshots += 1;
        self.baseline = snapshot(app, a).await;
    }
}

fn check_answer(caller: Caller, op: &Op, want: &Expect, res: &Resp, fx: &Fixtures) {
    let what = format!("{caller:?} {}", op.key());
    match want {
        Expect::Status(s) => assert_eq!(res.status, *s, "{what}: {}", res.text),
        Expect::Refused => assert!((400..500).contains(&res.status), "{what}: want a 4xx, got {}", res.status),
        Expect::OwnOrg | Expect::OwnAccount => assert!(res.status < 500, "{what}: {} {}", res.status, res.text),
    }
    if res.status >= 400 {
        assert!(res.json["code"].is_string(), "{what}: a problem body: {}", res.text);
    }
    // Nothing of A's workspace shows, whatever the answer (the read key may see it).
    let leaks = caller != Caller::ReadKey && res.text.contains(&fx.ws_name);
    assert!(!leaks, "{what} shows A's workspace: {}", res.text);
}

#[tokio::test]
async fn isolation_matrix() {
    for app in TestApp::all().await {
        let started = Instant::now();
        let a = app.org("acme").await;
        let b = app.org("globex").await;
        let fx = fixtures(&app, &a, "Acme Orbital").await;
        let logo = send(
            &app,
            Method::PUT,
            "/api/v1/organization/logo",
            Auth::Bearer(&a.admin_token),
            &Body::Bytes(operations::png(), "image/png"),
        )
        .await;
        assert_eq!(logo.status, 200, "{}", logo.text);
        let mut watch = Watch { baseline: snapshot(&app, &a).await, snapshots: 1 };

        let console_cases = console::matrix(&app, &a, &b, &fx, &mut watch).await;

        // Signing out comes last: it ends the callers' sessions.
        let mut ops = operations();
        ops.sort_by_key(|op| op.key() == "DELETE /api/v1/sessions/current");
        let mut cases = 0;
        for op in &ops {
            let call = spec(op, &fx).unwrap_or_else(|| panic!("{}", missing_entry(op, "isolation.rs")));
            for caller in CALLERS {
                let auth = match caller {
                    Caller::Anonymous => Auth::None,
                    Caller::Member => Auth::Bearer(&a.member_token),
                    Caller::ReadKey => Auth::Bearer(&a.read_key),
                    Caller::OtherOrgAdmin => Auth::Bearer(&b.admin_token),
                    Caller::OtherOrgKey => Auth::Bearer(&b.admin_key),
                };
                let want = expected(caller, op);
                let res = send_call(&app, op, &call, auth).await;
                check_answer(caller, op, &want, &res, &fx);
                let what = format!("{caller:?} {} {}", op.method, call.path);
                if want == Expect::OwnAccount && caller == Caller::Member && res.status < 400 {
                    watch.rebase(&app, &a).await; // their own account is part of A
                } else if op.is_write() {
                    watch.unchanged(&app, &a, &what).await;
                }
                cases += 1;
            }
        }
        assert_eq!(cases, ops.len() * CALLERS.len());

        // Another org's Super Admin reading /organization sees their own org only.
        let mine = app.get("/api/v1/organization", Auth::Bearer(&b.admin_key)).await;
        assert_eq!(mine.json["id"], b.id.as_str());
        let users = app.get("/api/v1/users?limit=200", Auth::Bearer(&b.admin_key)).await;
        assert!(!users.text.contains("acme.example"), "no user of acme is listed for globex");
        let events = app.get("/api/v1/audit-events?limit=200", Auth::Bearer(&b.admin_key)).await;
        assert!(!events.text.contains(&a.id) && !events.text.contains("acme.example"));
        let keys = app.get("/api/v1/api-keys?limit=200", Auth::Bearer(&b.admin_key)).await;
        assert!(!keys.text.contains(&a.admin_key_id));
        eprintln!(
            "{:?}: {} operations x {} callers = {cases} API cases, {console_cases} console cases, {} snapshots, {:?}",
            app.engine,
            ops.len(),
            CALLERS.len(),
            watch.snapshots,
            started.elapsed()
        );
    }
}

mod console {
    //! The console's routes, read from its source, for anonymous visitors and
    //! another organization's Super Admin.

    use super::*;

    /// `(METHOD, path)` of every `.route("…", get(…).post(…))` in crates/server/src/console/*.rs.
    pub fn routes() -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("the console's sources") {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                out.extend(routes_in(&std::fs::read_to_string(&path).unwrap()));
            }
        }
        out.sort();
        out.dedup();
        assert!(out.len() >= 30, "found {} console routes", out.len());
        out
    }

    fn routes_in(src: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut rest = src;
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            // The call's arguments, up to its closing parenthesis.
            let (mut depth, mut end) = (1, rest.len());
            for (i, c) in rest.char_indices() {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            let args = &rest[..end];
            let (path, handlers) = args.split_once(',').expect("`.route(path, handlers)`");
            let path = path.trim();
            let path = match path.strip_prefix('"') {
                Some(lit) => lit.trim_end_matches('"').to_owned(),
                None => constant(src, path),
            };
            // Method routers at the top level of the handlers: `get(a).post(b)`.
            let mut depth = 0;
            let mut word = String::new();
            for c in handlers.chars() {
                match c {
                    '(' if depth == 0 => {
                        if ["get", "post", "put", "patch", "delete"].contains(&word.as_str()) {
                            out.push((word.to_uppercase(), path.clone()));
                        }
                        depth += 1;
                    }
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    c if depth == 0 && (c.is_alphanumeric() || c == '_') => word.push(c),
                    _ if depth == 0 => word.clear(),
                    _ => {}
                }
            }
            rest = &rest[end..];
        }
        out
    }

    /// The value of `const NAME: &str = "…";` in the same file.
    fn constant(src: &str, name: &str) -> String {
        let decl = format!("const {name}: &str = \"");
        let at = src.find(&decl).unwrap_or_else(|| panic!("a route path `{name}` that is not a literal or a const"));
        src[at + decl.len()..].split('"').next().unwrap().to_owned()
    }

    /// Pages anyone may open (`/` sends a stranger to sign in, like the pages below).
    const PUBLIC_PAGES: &[&str] =
        &["/login", "/setup", "/invitations/{token}", "/static/steward.css", "/static/console.js"];
    /// Answers that are refusals but with the wrong status (to fix in the console, then drop here).
    const KNOWN_WRONG: &[(&str, u16, &str)] = &[];

    /// Pages for signed-in people.
    const PAGES: &[&str] = &[
        "/",
        "/account",
        "/account/confirm",
        "/account/two-factor",
        "/settings",
        "/settings/billing/credits",
        "/settings/billing/reports",
        "/settings/integrations/api",
        "/settings/integrations/webhooks",
        "/settings/integrations/webhooks/{id}",
        "/settings/organization",
        "/settings/organization/audit",
        "/settings/organization/details",
        "/settings/organization/logo",
        "/settings/organization/people",
        "/settings/organization/security",
        "/settings/organization/workspaces",
        "/settings/organization/workspaces/new",
        "/settings/organization/workspaces/{id}",
        "/settings/organization/workspaces/{id}/edit",
        "/w",
        "/w/{id}",
    ];
    /// Forms anyone may send (with failing fields here).
    const PUBLIC_FORMS: &[&str] = &["/login", "/login/code", "/setup", "/invitations/{token}"];

    /// The concrete URL (with org A's ids) and the form of a console route;
    /// `None`: the route has no entry yet.
    fn entry(method: &str, path: &str, a: &Org, fx: &Fixtures) -> Option<(String, String)> {
        let form = match (method, path) {
            ("GET", _) => String::new(),
            ("POST", "/login") => "email=nobody%40nowhere.example&password=wrong".into(),
            ("POST", "/login/code") => "challenge=not-a-challenge&code=000000".into(),
            ("POST", "/setup") => "token=nope&organization_name=Usurper&admin_name=Eve&admin_email=eve%40usurper.example&admin_password=violet+tractor+mango+quietly".into(),
            ("POST", "/invitations/{token}") => "password=violet+tractor+mango+quietly".into(),
            ("POST", "/account") => "name=Hijacked".into(),
            ("POST", "/account/password") => format!("current_password={}&new_password=violet+tractor+mango", PASSWORD.replace(' ', "+")),
            ("POST", "/account/confirm") => format!("password={}", PASSWORD.replace(' ', "+")),
            ("POST", "/account/sessions/end-others" | "/account/sessions/{id}/end" | "/logout") => String::new(),
            ("POST", p) if p.starts_with("/account/two-factor/") => "code=000000&password=x".into(),
            ("POST", "/settings/organization/details") => "name=Hijacked".into(),
            ("POST", "/settings/organization/security") => "password_min_length=8&two_factor=disabled".into(),
            ("POST", "/settings/organization/people") => "email=intruder%40evil.example&role=super_admin".into(),
            ("POST", "/settings/organization/people/{id}/role") => "role=super_admin".into(),
            ("POST", "/settings/organization/people/{id}/status") => "status=deactivated".into(),
            ("POST", p) if p.starts_with("/settings/organization/people/{id}/") => String::new(),
            ("POST", "/settings/organization/workspaces") => "name=Intruder".into(),
            ("POST", "/settings/organization/workspaces/{id}/edit") => {
                "name=Hijacked&slug=hijacked&timezone=UTC&default_language=en".into()
            }
            ("POST", "/settings/organization/workspaces/{id}/{action}") => "reason=x".into(),
            ("POST", "/settings/organization/workspaces/{id}/members") => format!("user_id={}&role=admin", a.member_id),
            ("POST", "/settings/organization/workspaces/{id}/members/{user}") => "role=admin".into(),
            ("POST", "/settings/organization/workspaces/{id}/members/{user}/remove") => String::new(),
            ("POST", "/settings/integrations/api") => "name=Intruder&preset=admin".into(),
            ("POST", "/settings/integrations/api/{id}") => "name=Hijacked&rate_limit_per_minute=1".into(),
            ("POST", "/settings/integrations/api/{id}/revoke") => String::new(),
            ("POST", "/settings/integrations/webhooks") => "url=https%3A%2F%2Fevil.example%2Fin".into(),
            ("POST", "/settings/billing/credits/alerts") => "balance_alert=999999".into(),
            ("POST", "/settings/billing/credits/budgets") => format!("workspace={}&monthly=1", fx.ws),
            ("POST", "/settings/billing/reports") => "type=usage_by_user&format=csv&from=2026-01-01&to=2026-01-31".into(),
            ("POST", "/settings/integrations/webhooks/{id}/{action}") => format!("delivery_id={}", fx.delivery),
            _ => return None,
        };
        if method == "GET" && !PUBLIC_PAGES.contains(&path) && !PAGES.contains(&path) {
            return None;
        }
        let id = if path.starts_with("/account/sessions/") {
            fx.session_id.as_str()
        } else if path.starts_with("/settings/organization/people/") {
            a.member_id.as_str()
        } else if path.starts_with("/settings/integrations/api/") {
            a.admin_key_id.as_str()
        } else if path.starts_with("/settings/integrations/webhooks/") {
            fx.webhook.as_str()
        } else {
            fx.ws.as_str()
        };
        let url = path
            .replace("{id}", id)
            .replace("{user}", &fx.invited)
            .replace("{action}", if path.contains("/webhooks/") { "disable" } else { "archive" })
            .replace("{token}", "inv_not-a-real-invitation-token");
        Some((url, form))
    }

    fn login_redirect(r: &Resp) -> bool {
        let to = r.headers.get("location").and_then(|l| l.to_str().ok()).unwrap_or("");
        (r.status == 303 || r.status == 302) && to.starts_with("/login")
    }

    /// The CSRF token of a console page, read from its hidden field.
    fn csrf_of(html: &str) -> String {
        let at = html.find("name=\"csrf_token\" value=\"").expect("a form with a CSRF token") + 25;
        html[at..].split('"').next().unwrap().to_owned()
    }

    pub async fn matrix(app: &TestApp, a: &Org, b: &Org, fx: &Fixtures, watch: &mut Watch) -> usize {
        let signed_in = app.login(&b.admin_email, PASSWORD).await;
        assert_eq!(signed_in.status, 201, "{}", signed_in.text);
        let token = signed_in.json["token"].as_str().unwrap().to_owned();
        let other = Auth::Cookie { token: &token, csrf: None };
        let their_csrf = csrf_of(&app.get("/settings/organization/people", other).await.text);
        let form_ct = "application/x-www-form-urlencoded";
        let mut cases = 0;
        let mut routes = routes();
        routes.sort_by_key(|(_, p)| p == "/logout");
        for (method, path) in routes {
            let what = format!("console {method} {path}");
            let (url, form) = entry(&method, &path, a, fx).unwrap_or_else(|| {
                panic!(
                    "{what} has no entry in the console table: add one to `entry` in crates/server/tests/isolation.rs"
                )
            });
            let names_a = path.contains('{') && !path.contains("{token}");
            if method == "GET" {
                let anon = app.get(&url, Auth::None).await;
                if PUBLIC_PAGES.contains(&path.as_str()) {
                    assert!(!login_redirect(&anon) && anon.status < 500, "{what} is public: {}", anon.status);
                } else {
                    assert!(login_redirect(&anon), "{what} anonymous: want a redirect to /login, got {}", anon.status);
                }
                let r = app.get(&url, other).await;
                if names_a {
                    assert_eq!(r.status, 404, "{what} by another org's Super Admin: {}", r.text);
                }
                assert!(r.status < 500, "{what}: {}", r.status);
                for secret in [fx.ws_name.as_str(), "acme.example", "Org acme"] {
                    assert!(!r.text.contains(secret), "{what} by another org shows `{secret}`");
                }
                cases += 2;
                continue;
            }
            let public = PUBLIC_FORMS.contains(&path.as_str());
            let anon = app.raw(Method::POST, &url, Auth::None, Some(&form), form_ct).await;
            if public {
                assert!((400..500).contains(&anon.status), "{what} anonymous with a failing form: {}", anon.status);
            } else {
                assert!(login_redirect(&anon), "{what} anonymous: want a redirect to /login, got {}", anon.status);
            }
            watch.unchanged(app, a, &format!("anonymous {what}")).await;
            let forged = format!("csrf_token=forged&{form}");
            let r = app.raw(Method::POST, &url, other, Some(&forged), form_ct).await;
            let want = if public { (400..500).contains(&r.status) } else { r.status == 403 };
            assert!(want, "{what} by another org without a valid CSRF token: {} {}", r.status, r.text);
            watch.unchanged(app, a, &format!("another org's {what} without CSRF")).await;
            cases += 2;
            if names_a && !public {
                // With their own valid token, A's objects still don't exist for them.
                let body = format!("csrf_token={their_csrf}&{form}");
                let r = app.raw(Method::POST, &url, other, Some(&body), form_ct).await;
                let want = KNOWN_WRONG.iter().find(|(k, _, _)| *k == what).map_or(404, |(_, s, _)| *s);
                assert_eq!(r.status, want, "{what} by another org's Super Admin with their CSRF token: {}", r.text);
                for secret in [fx.ws_name.as_str(), "acme.example", "Org acme"] {
                    assert!(!r.text.contains(secret), "{what} by another org shows `{secret}`");
                }
                watch.unchanged(app, a, &format!("another org's {what}")).await;
                cases += 1;
            }
        }
        cases
    }
}
