//! PEOPLE-2: the isolation matrix. Every route, every kind of caller; a refused
//! call must answer the expected status *and* leave everything as it was.

mod common;

use axum::http::Method;
use common::{Auth, Org, TestApp};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    Anonymous,
    Member,
    ReadKey,
    OtherOrgAdmin,
    OtherOrgKey,
}

struct Route {
    method: Method,
    path: String,
    body: Option<Value>,
    /// Whether the route names an object of the target org by id (then another
    /// org's callers get 404; otherwise they act on their own org).
    by_id: bool,
    write: bool,
}

fn routes(a: &Org, invited_id: &str, ws: &str, cmp: &str) -> Vec<Route> {
    let r = |method: Method, path: String, body: Option<Value>, by_id: bool| {
        let write = method != Method::GET;
        Route { method, path, body, by_id, write }
    };
    vec![
        r(Method::GET, "/api/v1/organization".into(), None, false),
        r(Method::PATCH, "/api/v1/organization".into(), Some(json!({ "name": "Hijacked" })), false),
        r(Method::GET, "/api/v1/users".into(), None, false),
        r(
            Method::POST,
            "/api/v1/users".into(),
            Some(json!({ "email": "intruder@evil.example", "role": "super_admin" })),
            false,
        ),
        r(Method::GET, format!("/api/v1/users/{}", a.admin_id), None, true),
        r(Method::PATCH, format!("/api/v1/users/{}", a.admin_id), Some(json!({ "role": "member" })), true),
        r(Method::PATCH, format!("/api/v1/users/{}", a.member_id), Some(json!({ "role": "super_admin" })), true),
        r(Method::DELETE, format!("/api/v1/users/{}", a.member_id), None, true),
        r(Method::POST, format!("/api/v1/users/{invited_id}/invitation"), Some(json!({})), true),
        r(Method::GET, "/api/v1/api-keys".into(), None, false),
        r(Method::POST, "/api/v1/api-keys".into(), Some(json!({ "name": "stolen", "scopes": ["admin"] })), false),
        r(Method::DELETE, format!("/api/v1/api-keys/{}", a.admin_key_id), None, true),
        r(Method::GET, "/api/v1/audit-events".into(), None, false),
        r(Method::GET, "/api/v1/organization/dashboard".into(), None, false),
        r(Method::GET, "/api/v1/security".into(), None, false),
        r(
            Method::PATCH,
            "/api/v1/security".into(),
            Some(json!({ "password_min_length": 8, "two_factor": "disabled" })),
            false,
        ),
        r(Method::POST, format!("/api/v1/users/{}/two-factor/reset", a.admin_id), Some(json!({})), true),
        r(Method::POST, format!("/api/v1/users/{}/sessions/end", a.member_id), Some(json!({})), true),
        r(Method::POST, "/api/v1/workspaces".into(), Some(json!({ "name": "Intruder" })), false),
        r(Method::GET, format!("/api/v1/workspaces/{ws}"), None, true),
        r(Method::PATCH, format!("/api/v1/workspaces/{ws}"), Some(json!({ "name": "Hijacked" })), true),
        r(Method::POST, format!("/api/v1/workspaces/{ws}/suspend"), Some(json!({ "reason": "x" })), true),
        r(Method::POST, format!("/api/v1/workspaces/{ws}/archive"), Some(json!({})), true),
        r(Method::DELETE, format!("/api/v1/workspaces/{ws}?confirm=client-a"), None, true),
        r(
            Method::PUT,
            format!("/api/v1/workspaces/{ws}/members/{}", a.member_id),
            Some(json!({ "role": "admin" })),
            true,
        ),
        r(Method::POST, format!("/api/v1/workspaces/{ws}/campaigns"), Some(json!({ "name": "x" })), true),
        r(Method::PATCH, format!("/api/v1/workspaces/{ws}/campaigns/{cmp}"), Some(json!({ "status": "paused" })), true),
        r(Method::POST, format!("/api/v1/workspaces/{ws}/content"), Some(json!({ "title": "x" })), true),
        r(
            Method::POST,
            format!("/api/v1/workspaces/{ws}/connections"),
            Some(json!({ "platform": "x", "account_name": "a" })),
            true,
        ),
    ]
}

fn expected(caller: Caller, route: &Route) -> u16 {
    match caller {
        Caller::Anonymous => 401,
        // Lifecycle steps are Super Admin work: refused before any lookup.
        Caller::Member
            if route.path.ends_with("/suspend")
                || route.path.ends_with("/archive")
                || route.path.contains("?confirm=") =>
        {
            403
        }
        // Otherwise a member who isn't in the workspace doesn't see it at all.
        Caller::Member if route.by_id && route.path.starts_with("/api/v1/workspaces/") => 404,
        Caller::Member => 403,
        Caller::ReadKey if route.write => 403,
        Caller::ReadKey => 200,
        Caller::OtherOrgAdmin | Caller::OtherOrgKey if route.by_id => 404,
        // Without an id, another org's caller acts on its own org: never on ours.
        Caller::OtherOrgAdmin | Caller::OtherOrgKey => 0,
    }
}

/// Everything of an organization that a route could change, read from the store.
async fn snapshot(app: &TestApp, org: &Org) -> Value {
    let admin = Auth::Bearer(&org.admin_key);
    let mut snap = json!({});
    for path in [
        "/api/v1/organization",
        "/api/v1/users?limit=200",
        "/api/v1/api-keys?limit=200",
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
    snap["events"] = json!(app.actions(&org.id).await.len());
    // What the org's workspaces hold: campaigns and members of each.
    let list = app.get("/api/v1/workspaces?status=all&limit=200", admin).await.json;
    for w in list["data"].as_array().cloned().unwrap_or_default() {
        let id = w["id"].as_str().unwrap_or_default().to_owned();
        snap[format!("{id}/campaigns")] = app.get(&format!("/api/v1/workspaces/{id}/campaigns"), admin).await.json;
        snap[format!("{id}/members")] = app.get(&format!("/api/v1/workspaces/{id}/members"), admin).await.json;
        snap[format!("{id}/content")] = app.get(&format!("/api/v1/workspaces/{id}/content"), admin).await.json;
    }
    snap
}

#[tokio::test]
async fn isolation_matrix() {
    for app in TestApp::all().await {
        let a = app.org("acme").await;
        let b = app.org("globex").await;
        let invited =
            app.post("/api/v1/users", Auth::Bearer(&a.admin_token), json!({ "email": "pending@acme.example" })).await;
        let invited_id = invited.json["user"]["id"].as_str().unwrap().to_owned();
        let ws = app.post("/api/v1/workspaces", Auth::Bearer(&a.admin_token), json!({ "name": "Client A" })).await;
        let ws = ws.json["id"].as_str().unwrap().to_owned();
        let cmp = app
            .post(
                &format!("/api/v1/workspaces/{ws}/campaigns"),
                Auth::Bearer(&a.admin_token),
                json!({ "name": "Live", "status": "active" }),
            )
            .await;
        let cmp = cmp.json["id"].as_str().unwrap().to_owned();
        let before_b = snapshot(&app, &b).await;

        let callers = [Caller::Anonymous, Caller::Member, Caller::ReadKey, Caller::OtherOrgAdmin, Caller::OtherOrgKey];
        let mut checked = 0;
        for route in routes(&a, &invited_id, &ws, &cmp) {
            for caller in callers {
                let auth = match caller {
                    Caller::Anonymous => Auth::None,
                    Caller::Member => Auth::Bearer(&a.member_token),
                    Caller::ReadKey => Auth::Bearer(&a.read_key),
                    Caller::OtherOrgAdmin => Auth::Bearer(&b.admin_token),
                    Caller::OtherOrgKey => Auth::Bearer(&b.admin_key),
                };
                let want = expected(caller, &route);
                if want == 0 {
                    continue; // covered below: acting on one's own org
                }
                let before = snapshot(&app, &a).await;
                let res = app.call(route.method.clone(), &route.path, auth, route.body.clone()).await;
                assert_eq!(res.status, want, "{caller:?} {} {}: {}", route.method, route.path, res.text);
                if want >= 400 {
                    assert!(res.json["code"].is_string(), "a problem body: {}", res.text);
                }
                assert_eq!(
                    snapshot(&app, &a).await,
                    before,
                    "{caller:?} {} {} changed something",
                    route.method,
                    route.path
                );
                checked += 1;
            }
        }
        assert!(checked >= 50, "the matrix ran {checked} cases");

        // Another org's Super Admin reading /organization sees their own org only.
        let mine = app.get("/api/v1/organization", Auth::Bearer(&b.admin_token)).await;
        assert_eq!(mine.json["id"], b.id.as_str());
        let users = app.get("/api/v1/users?limit=200", Auth::Bearer(&b.admin_token)).await;
        assert!(!users.text.contains("acme.example"), "no user of acme is listed for globex");
        let events = app.get("/api/v1/audit-events?limit=200", Auth::Bearer(&b.admin_token)).await;
        assert!(!events.text.contains(&a.id) && !events.text.contains("acme.example"));
        let keys = app.get("/api/v1/api-keys?limit=200", Auth::Bearer(&b.admin_key)).await;
        assert!(!keys.text.contains(&a.admin_key_id));

        // Nothing above touched globex either, apart from its own reads.
        assert_eq!(snapshot(&app, &b).await, before_b);
    }
}
