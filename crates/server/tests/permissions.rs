//! The route table: every operation of the OpenAPI document names the
//! permission it needs (`x-permission`), and the running application refuses
//! exactly that permission: a key holding everything else gets a 403 naming it,
//! a key holding only it is not refused for it. Also the list of permissions
//! and the checks on a key's `scopes`.

mod common;
#[path = "common/operations.rs"]
mod operations;

use std::collections::{BTreeMap, BTreeSet};

use axum::http::Method;
use common::{Auth, Org, Resp, TestApp};
use operations::{Body, Fixtures, Op, fixtures, missing_entry, operations, send, send_call, spec};
use serde_json::{Value, json};
use steward_core::permissions::Permission;

/// The operations any caller they admit may use (`x-permission: none`): signing
/// in, setup, accepting an invitation, and one's own account, sessions and
/// two-factor. A new route may only join this list on purpose.
const NONE: &[&str] = &[
    "DELETE /api/v1/me/sessions/{id}",
    "DELETE /api/v1/sessions/current",
    "GET /api/v1/me",
    "PATCH /api/v1/me",
    "POST /api/v1/me/password",
    "GET /api/v1/me/sessions",
    "GET /api/v1/permissions",
    "POST /api/v1/invitations/{token}/accept",
    "POST /api/v1/me/sessions/end-others",
    "POST /api/v1/me/two-factor/disable",
    "POST /api/v1/me/two-factor/recovery-codes",
    "POST /api/v1/me/two-factor/totp",
    "POST /api/v1/me/two-factor/totp/confirm",
    "POST /api/v1/sessions",
    "POST /api/v1/sessions/current/reauthenticate",
    "POST /api/v1/setup",
];

/// Organization-level operations a member (not a Super Admin) may use, with why.
const MEMBERS_MAY: &[(&str, &str)] = &[("GET /api/v1/workspaces", "a member lists the workspaces they belong to")];

/// Calls by a key holding only the permission that answer other than 2xx for
/// another reason than permissions, with that answer.
const NOT_OK_WITH_ONLY_THE_PERMISSION: &[(&str, u16, &str)] =
    &[("POST /api/v1/users/{id}/two-factor/reset", 409, "the invited person has no two-factor to reset")];

#[test]
fn every_operation_names_a_known_permission() {
    let ops = operations();
    assert!(ops.len() >= 60, "the document has {} operations", ops.len());
    let mut none = BTreeSet::new();
    for op in &ops {
        assert!(!op.permission.is_empty(), "{} has no `x-permission` in the OpenAPI document", op.key());
        if op.permission == "none" {
            none.insert(op.key());
        } else {
            assert!(
                Permission::parse(&op.permission).is_some(),
                "{} needs `{}`, which is not a permission of crates/core/src/permissions.rs",
                op.key(),
                op.permission
            );
        }
    }
    let listed: BTreeSet<String> = NONE.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        none, listed,
        "the operations with `x-permission: none` changed; a route open to any caller must be added to NONE on purpose"
    );
}

/// Keys made through the API by the org's Super Admin, cached per permission.
struct Keys<'a> {
    app: &'a TestApp,
    org: &'a Org,
    assignable: Vec<String>,
    made: BTreeMap<(String, bool), String>,
}

impl Keys<'_> {
    /// A key holding every assignable permission but `p` (`only == false`), or only `p`.
    async fn get(&mut self, p: &str, only: bool) -> String {
        if let Some(k) = self.made.get(&(p.to_owned(), only)) {
            return k.clone();
        }
        let scopes: Vec<&String> = if only {
            vec![&self.assignable[self.assignable.iter().position(|n| n == p).unwrap()]]
        } else {
            self.assignable.iter().filter(|n| *n != p).collect()
        };
        let name = if only { format!("only {p}") } else { format!("all but {p}") };
        let r = self
            .app
            .post("/api/v1/api-keys", Auth::Bearer(&self.org.admin_token), json!({ "name": name, "scopes": scopes }))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let secret = r.json["secret"].as_str().unwrap().to_owned();
        self.made.insert((p.to_owned(), only), secret.clone());
        secret
    }
}

/// Whether an operation changes or removes fixtures (then it gets fresh ones).
fn destructive(op: &Op) -> bool {
    op.method == Method::DELETE
        || ["/suspend", "/archive", "/reactivate", "/restore"].iter().any(|s| op.path.ends_with(s))
}

/// Puts the organization and the workspace in the state the operation acts on.
async fn prepare(app: &TestApp, org: &Org, op: &Op, fx: &Fixtures) {
    let admin = Auth::Bearer(&org.admin_token);
    let step = match op.key().as_str() {
        "GET /api/v1/organization/logo" | "DELETE /api/v1/organization/logo" => {
            let r = send(
                app,
                Method::PUT,
                "/api/v1/organization/logo",
                admin,
                &Body::Bytes(operations::png(), "image/png"),
            )
            .await;
            assert_eq!(r.status, 200, "{}", r.text);
            return;
        }
        "POST /api/v1/workspaces/{id}/reactivate" => "suspend",
        "POST /api/v1/workspaces/{id}/restore" => "archive",
        _ => return,
    };
    let r = app.post(&format!("/api/v1/workspaces/{}/{step}", fx.ws), admin, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

fn refused_for(r: &Resp, p: &str) -> bool {
    r.status == 403 && r.json["permission"] == p
}

#[tokio::test]
async fn each_operation_refuses_exactly_its_permission() {
    let ops = operations();
    for app in TestApp::all().await {
        let started = std::time::Instant::now();
        let a = app.org("acme").await;
        let list = app.get("/api/v1/permissions", Auth::Bearer(&a.admin_token)).await;
        assert_eq!(list.status, 200, "{}", list.text);
        let assignable: Vec<String> = list.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["api_key_assignable"] == true)
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        let mut keys = Keys { app: &app, org: &a, assignable, made: BTreeMap::new() };
        let mut fx = fixtures(&app, &a, "Acme Table").await;
        // The member is a viewer of the first workspace (the destructive operations get fresh ones).
        common::add_member(&app, &a, &fx.ws, &a.member_id, "viewer").await;

        // Non-destructive operations first, on one set of fixtures.
        let mut table: Vec<&Op> = ops.iter().filter(|op| op.permission != "none").collect();
        table.sort_by_key(|op| destructive(op));
        let (mut cases, mut ok) = (0, 0);
        for op in table {
            let p = op.permission.as_str();
            let key = op.key();
            let assignable = Permission::parse(p).is_some_and(|p| p.key_assignable());
            if destructive(op) {
                fx = fixtures(&app, &a, "Acme Table").await;
            }
            prepare(&app, &a, op, &fx).await;
            let call = spec(op, &fx).unwrap_or_else(|| panic!("{}", missing_entry(op, "permissions.rs")));

            // Everything but P: refused, naming P.
            let without = if assignable { keys.get(p, false).await } else { a.admin_key.clone() };
            let r = send_call(&app, op, &call, Auth::Bearer(&without)).await;
            let code = if assignable { "insufficient_scope" } else { "operator_required" };
            assert!(
                refused_for(&r, p) && r.code() == code,
                "{key} with a key holding everything but `{p}`: want 403 {code} naming `{p}`, got {} {}",
                r.status,
                r.text
            );
            cases += 1;

            // A member (no workspace) on organization-level work: not a Super Admin.
            if !op.in_a_workspace() && !MEMBERS_MAY.iter().any(|(k, _)| *k == key) {
                let r = send_call(&app, op, &call, Auth::Bearer(&a.member_token)).await;
                assert!(
                    refused_for(&r, p) && r.code() == if assignable { "super_admin_required" } else { code },
                    "{key} as a member: want 403 super_admin_required naming `{p}`, got {} {}",
                    r.status,
                    r.text
                );
                cases += 1;
            }
            // A viewer in the workspace: reads, and is refused the rest by role (lifecycle: not a Super Admin).
            if op.in_a_workspace() && !destructive(op) {
                let r = send_call(&app, op, &call, Auth::Bearer(&a.member_token)).await;
                if p == Permission::WorkspacesRead.name() {
                    assert!(r.status < 300, "{key} as a viewer: {} {}", r.status, r.text);
                } else {
                    let want = if p == Permission::WorkspacesLifecycle.name() {
                        "super_admin_required"
                    } else {
                        "workspace_role_required"
                    };
                    assert!(
                        refused_for(&r, p) && r.code() == want,
                        "{key} as a viewer: want 403 {want} naming `{p}`, got {} {}",
                        r.status,
                        r.text
                    );
                }
                cases += 1;
            }
            if !assignable {
                continue;
            }

            // Only P: not refused for it (and, with a valid body, done).
            let only = keys.get(p, true).await;
            let r = send_call(&app, op, &call, Auth::Bearer(&only)).await;
            assert!(
                !refused_for(&r, p) && r.status != 401 && r.status < 500,
                "{key} with a key holding only `{p}` was refused: {} {}",
                r.status,
                r.text
            );
            match NOT_OK_WITH_ONLY_THE_PERMISSION.iter().find(|(k, _, _)| *k == key) {
                Some((_, status, why)) => assert_eq!(r.status, *status, "{key} ({why}): {}", r.text),
                None => assert!(r.status < 300, "{key} with a key holding only `{p}`: {} {}", r.status, r.text),
            }
            ok += u32::from(r.status < 300);
            cases += 1;

            // The Super Admin: never refused for a permission.
            if destructive(op) {
                fx = fixtures(&app, &a, "Acme Table").await;
                prepare(&app, &a, op, &fx).await;
            }
            let call = spec(op, &fx).unwrap();
            let r = send_call(&app, op, &call, Auth::Bearer(&a.admin_token)).await;
            assert!(
                r.json["permission"].is_null() && r.status < 500,
                "{key} as the Super Admin: {} {}",
                r.status,
                r.text
            );
            cases += 1;
        }
        eprintln!(
            "{:?}: {} operations with a permission, {cases} cases ({ok} done with only their permission) in {:?}",
            app.engine,
            ops.iter().filter(|op| op.permission != "none").count(),
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn the_permission_list_is_complete() {
    for app in TestApp::all().await {
        let a = app.org("acme").await;
        let r = app.get("/api/v1/permissions", Auth::Bearer(&a.read_key)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let data = r.json["data"].as_array().unwrap();
        let names: Vec<&str> = data.iter().map(|p| p["name"].as_str().unwrap()).collect();
        let all: Vec<&str> = Permission::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names.len(), all.len(), "each permission once: {names:?}");
        assert_eq!(names.iter().collect::<BTreeSet<_>>(), all.iter().collect::<BTreeSet<_>>());
        for p in data {
            let name = p["name"].as_str().unwrap();
            let assignable = p["api_key_assignable"].as_bool().unwrap();
            assert_eq!(assignable, !name.starts_with("operator:"), "{name}");
            assert!(!p["description"].as_str().unwrap_or_default().is_empty(), "{name} is described");
            let roles: Vec<&str> = p["roles"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
            assert_eq!(roles.contains(&"super_admin"), assignable, "{name}: {roles:?}");
            assert!(roles.contains(&"operator") && roles.contains(&"system"), "{name}: {roles:?}");
        }
        assert!(r.json["bundles"]["admin"].is_string() && r.json["bundles"]["read"].is_string());
        assert_eq!(app.get("/api/v1/permissions", Auth::None).await.status, 401);
    }
}

/// The field errors of a refused key creation: (field, code, message).
fn field_errors(r: &Resp) -> Vec<(String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    r.json["errors"]
        .as_array()
        .map(|e| e.iter().map(|e| (s(&e["field"]), s(&e["code"]), s(&e["message"]))).collect())
        .unwrap_or_default()
}

async fn make(app: &TestApp, auth: Auth<'_>, scopes: Value) -> Resp {
    app.post("/api/v1/api-keys", auth, json!({ "name": "made", "scopes": scopes })).await
}

#[tokio::test]
async fn key_scopes_are_checked() {
    for app in TestApp::all().await {
        let a = app.org("acme").await;
        let admin = Auth::Bearer(&a.admin_token);
        let keys_before = app.get("/api/v1/api-keys?limit=200", admin).await.json["data"].as_array().unwrap().len();

        let r = make(&app, admin, json!(["people:read", "people:fly"])).await;
        assert_eq!((r.status, r.code()), (422, "validation_failed"), "{}", r.text);
        let errors = field_errors(&r);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].0.as_str(), errors[0].1.as_str()), ("scopes[1]", "unknown_permission"));
        assert!(errors[0].2.contains("people:fly"), "the message names it: {}", errors[0].2);

        let r = make(&app, admin, json!(["operator:organizations"])).await;
        assert_eq!((r.status, r.code()), (422, "validation_failed"), "{}", r.text);
        let errors = field_errors(&r);
        assert_eq!((errors[0].0.as_str(), errors[0].1.as_str()), ("scopes[0]", "not_assignable"), "{errors:?}");
        assert!(errors[0].2.contains("operator:organizations"), "{}", errors[0].2);

        let r = make(&app, admin, json!([])).await;
        assert_eq!((r.status, r.code()), (422, "validation_failed"), "{}", r.text);
        assert_eq!(field_errors(&r).first().map(|e| e.0.as_str()), Some("scopes"), "{}", r.text);

        // A key can't mint a stronger one.
        let weak = make(&app, admin, json!(["people:read", "api_keys:write"])).await;
        assert_eq!(weak.status, 201, "{}", weak.text);
        let weak_secret = weak.json["secret"].as_str().unwrap().to_owned();
        let r = make(&app, Auth::Bearer(&weak_secret), json!(["admin"])).await;
        assert_eq!((r.status, r.code()), (422, "validation_failed"), "{}", r.text);
        let errors = field_errors(&r);
        assert_eq!((errors[0].0.as_str(), errors[0].1.as_str()), ("scopes[0]", "not_held"), "{errors:?}");
        assert!(errors[0].2.contains("admin"), "{}", errors[0].2);
        // Without api_keys:write, no key at all: refused for that permission.
        let reader = make(&app, admin, json!(["people:read"])).await;
        let reader = reader.json["secret"].as_str().unwrap().to_owned();
        let r = make(&app, Auth::Bearer(&reader), json!(["people:read"])).await;
        assert_eq!((r.status, r.json["permission"].as_str()), (403, Some("api_keys:write")), "{}", r.text);

        let keys_after = app.get("/api/v1/api-keys?limit=200", admin).await.json["data"].as_array().unwrap().len();
        assert_eq!(keys_after, keys_before + 2, "only the two valid keys were made");
    }
}
