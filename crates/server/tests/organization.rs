//! ORG-1 and ORG-4: the organization's details, and bad input of every kind.

mod common;

use axum::http::Method;
use common::{Auth, TestApp};
use serde_json::json;

#[tokio::test]
async fn super_admins_edit_details_and_the_change_is_audited() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);
        let got = app.get("/api/v1/organization", admin).await;
        assert_eq!((got.status, got.json["slug"].as_str()), (200, Some("acme")));

        let patch = json!({ "name": "Acme Inc", "slug": "acme-inc", "description": "Campaigns for everyone", "website": "https://acme.example" });
        let res = app.patch("/api/v1/organization", admin, patch).await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(res.json["website"], "https://acme.example/");
        // Effective immediately.
        let got = app.get("/api/v1/organization", admin).await;
        assert_eq!((got.json["name"].as_str(), got.json["slug"].as_str()), (Some("Acme Inc"), Some("acme-inc")));

        // Clearing an optional field with null.
        let res = app.patch("/api/v1/organization", admin, json!({ "website": null })).await;
        assert_eq!(res.json["website"], serde_json::Value::Null);

        let events = app.get("/api/v1/audit-events?limit=2", admin).await;
        assert_eq!(events.status, 200);
        let first = &events.json["data"][1];
        assert_eq!(first["action"], "organization.updated");
        assert_eq!(first["changes"]["name"], json!({ "before": "Org acme", "after": "Acme Inc" }));
        assert_eq!(first["changes"]["slug"], json!({ "before": "acme", "after": "acme-inc" }));
        assert_eq!(first["actor"]["type"], "user");
        assert_eq!(first["actor"]["id"], org.admin_id.as_str());
        assert_eq!(first["ip"], "203.0.113.7");
        assert_eq!(first["user_agent"], "steward-tests");
        assert_eq!(events.json["data"][0]["changes"]["website"]["after"], serde_json::Value::Null);

        // An admin API key may edit too, and is named as the actor.
        let res =
            app.patch("/api/v1/organization", Auth::Bearer(&org.admin_key), json!({ "description": "by key" })).await;
        assert_eq!(res.status, 200);
        let latest = app.get("/api/v1/audit-events?limit=1", admin).await;
        assert_eq!(latest.json["data"][0]["actor"]["type"], "api_key");
        assert_eq!(latest.json["data"][0]["actor"]["id"], org.admin_key_id.as_str());

        // A no-op patch writes no event.
        let before = app.actions(&org.id).await.len();
        assert_eq!(app.patch("/api/v1/organization", admin, json!({ "description": "by key" })).await.status, 200);
        assert_eq!(app.actions(&org.id).await.len(), before);
    }
}

#[tokio::test]
async fn bad_input_is_a_clear_problem_and_changes_nothing() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let _other = app.org("globex").await;
        let admin = Auth::Bearer(&org.admin_token);
        let before = app.get("/api/v1/organization", admin).await.json;
        let events_before = app.actions(&org.id).await.len();

        let cases = [
            (json!({ "slug": "Not A Slug" }), 422, "validation_failed", Some("slug")),
            (json!({ "slug": "globex" }), 409, "slug_taken", Some("slug")),
            (json!({ "slug": "api" }), 422, "validation_failed", Some("slug")),
            (json!({ "website": "javascript:alert(1)" }), 422, "validation_failed", Some("website")),
            (json!({ "website": "acme.example" }), 422, "validation_failed", Some("website")),
            (json!({ "name": "" }), 422, "validation_failed", Some("name")),
            (json!({ "name": "x".repeat(101) }), 422, "validation_failed", Some("name")),
            (json!({ "description": "x".repeat(1001) }), 422, "validation_failed", Some("description")),
            (json!({ "name": 42 }), 422, "validation_failed", Some("name")),
            (json!({ "owner": "me" }), 422, "validation_failed", Some("owner")),
            (json!(["not", "an", "object"]), 422, "validation_failed", None),
        ];
        for (body, status, code, field) in cases {
            let res = app.patch("/api/v1/organization", admin, body.clone()).await;
            assert_eq!((res.status, res.code()), (status, code), "{body}: {}", res.text);
            assert_eq!(res.headers["content-type"], "application/problem+json");
            assert_eq!(res.json["type"], format!("urn:steward:problem:{code}"));
            assert!(res.json["detail"].as_str().is_some_and(|d| !d.is_empty()));
            if let Some(field) = field {
                assert_eq!(res.json["errors"][0]["field"], field, "{body}");
            }
        }
        // A valid field beside an invalid one changes nothing.
        let res = app.patch("/api/v1/organization", admin, json!({ "name": "Renamed", "website": "nope" })).await;
        assert_eq!(res.status, 422);

        let raw = |body: &'static str, ct: &'static str| {
            app.raw(Method::PATCH, "/api/v1/organization", admin, Some(body), ct)
        };
        let r = raw("{\"name\": ", "application/json").await;
        assert_eq!((r.status, r.code()), (400, "malformed_json"));
        let r = raw("name=x", "application/x-www-form-urlencoded").await;
        assert_eq!((r.status, r.code()), (415, "unsupported_media_type"));
        let big = format!("{{\"description\": \"{}\"}}", "x".repeat(70 * 1024));
        let r = app.raw(Method::PATCH, "/api/v1/organization", admin, Some(&big), "application/json").await;
        assert_eq!((r.status, r.code()), (413, "payload_too_large"));

        assert_eq!(app.get("/api/v1/organization", admin).await.json, before, "nothing was written");
        assert_eq!(app.actions(&org.id).await.len(), events_before, "no event for a refused change");

        // Unknown routes and methods are problems too.
        let r = app.get("/api/v1/nope", admin).await;
        assert_eq!((r.status, r.code()), (404, "route_not_found"));
        let r = app.call(Method::PUT, "/api/v1/organization", admin, Some(json!({}))).await;
        assert_eq!((r.status, r.code()), (405, "method_not_allowed"));
        let r = app.get("/api/v1/users?limit=abc", admin).await;
        assert_eq!((r.status, r.code()), (400, "invalid_query"));
        let r = app.get("/api/v1/users?limit=500", admin).await;
        assert_eq!((r.status, r.code()), (422, "validation_failed"));
        let r = app.get("/api/v1/audit-events?cursor=garbage", admin).await;
        assert_eq!((r.status, r.code()), (422, "invalid_cursor"));
        let r = app.get("/api/v1/users?cursor=garbage", admin).await;
        assert_eq!((r.status, r.code()), (422, "invalid_cursor"));
    }
}

#[tokio::test]
async fn members_are_told_who_to_ask() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let res = app.get("/api/v1/organization", Auth::Bearer(&org.member_token)).await;
        assert_eq!((res.status, res.code()), (403, "super_admin_required"));
        assert!(res.json["detail"].as_str().unwrap().contains("Ask one of your organization's Super Admins"));
        let me = app.get("/api/v1/me", Auth::Bearer(&org.member_token)).await;
        assert_eq!((me.status, me.json["user"]["role"].as_str()), (200, Some("member")));
    }
}
