//! API-1 (first part): keys with a prefix and checksum, stored as hashes, shown once.

mod common;

use common::{Auth, TestApp};
use serde_json::json;
use steward_core::tokens::hash_secret;

#[tokio::test]
async fn keys_are_shown_once_scoped_and_revocable() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);
        let res = app
            .post("/api/v1/api-keys", admin, json!({ "name": "deploys", "scopes": ["read", "admin", "read"] }))
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        let secret = res.json["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("stw_live_") && secret.len() == 47);
        let key = &res.json["api_key"];
        assert_eq!(key["scopes"], json!(["read", "admin"]));
        assert_eq!(key["created_by"], org.admin_id.as_str());
        assert!(
            secret.starts_with(key["prefix"].as_str().unwrap()) && secret.ends_with(key["last4"].as_str().unwrap())
        );
        let id = key["id"].as_str().unwrap().to_owned();

        // The list never contains a secret, and the database holds only its hash.
        let list = app.get("/api/v1/api-keys", admin).await;
        assert!(!list.text.contains(&secret));
        assert_eq!(list.json["data"].as_array().unwrap().len(), 3);
        let mut c = app.db().conn().await.unwrap();
        let stored = steward_store::api_keys::by_hash(&mut c, &hash_secret(&secret)).await.unwrap().unwrap();
        assert_eq!(stored.key.key_hash, hash_secret(&secret));
        drop(c);

        // The key works; last use is recorded.
        let me = app.get("/api/v1/me", Auth::Bearer(&secret)).await;
        assert_eq!(
            (me.status, me.json["type"].as_str(), me.json["api_key"]["name"].as_str()),
            (200, Some("api_key"), Some("deploys"))
        );
        let listed = app.get("/api/v1/api-keys", admin).await;
        let entry = listed.json["data"].as_array().unwrap().iter().find(|k| k["id"] == id.as_str()).unwrap().clone();
        assert!(entry["last_used_at"].is_string());

        // Read keys read, and are told why they can't write.
        let read = Auth::Bearer(&org.read_key);
        assert_eq!(app.get("/api/v1/users", read).await.status, 200);
        let w = app.patch("/api/v1/organization", read, json!({ "name": "x" })).await;
        assert_eq!((w.status, w.code()), (403, "insufficient_scope"));

        // A mistyped key fails its checksum; a revoked key stops at once.
        let mut typo = secret.clone();
        typo.replace_range(20..21, if &secret[20..21] == "a" { "b" } else { "a" });
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&typo)).await.code(), "invalid_api_key");
        assert_eq!(app.delete(&format!("/api/v1/api-keys/{id}"), admin).await.status, 204);
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&secret)).await.code(), "invalid_api_key");
        assert_eq!(app.delete(&format!("/api/v1/api-keys/{id}"), admin).await.status, 404);

        // Expiry.
        let soon = app.clock_now().plus_seconds(60).to_rfc3339();
        let res = app
            .post("/api/v1/api-keys", admin, json!({ "name": "short-lived", "scopes": ["read"], "expires_at": soon }))
            .await;
        let short = res.json["secret"].as_str().unwrap().to_owned();
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&short)).await.status, 200);
        app.clock.advance_seconds(61);
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&short)).await.code(), "api_key_expired");

        // Bad input.
        let admin_key = Auth::Bearer(&org.admin_key);
        for (body, field) in [
            (json!({ "name": "k", "scopes": [] }), "scopes"),
            (json!({ "name": "k", "scopes": ["root"] }), "scopes[0]"),
            (json!({ "name": "", "scopes": ["read"] }), "name"),
            (json!({ "name": "k", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z" }), "expires_at"),
            (json!({ "name": "k", "scopes": ["read"], "expires_at": "tomorrow" }), "expires_at"),
        ] {
            let r = app.post("/api/v1/api-keys", admin_key, body.clone()).await;
            assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some(field)), "{body}");
        }
        let actions = app.actions(&org.id).await;
        assert!(actions.contains(&"api_key.created".into()) && actions.contains(&"api_key.revoked".into()));
    }
}
