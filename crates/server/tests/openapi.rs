//! API-3: the OpenAPI document is generated from the code, served, and the
//! committed `openapi.json` must match it. Regenerate with
//! `STEWARD_UPDATE_OPENAPI=1 cargo test -p steward-server --test openapi`.

mod common;

use common::{Auth, TestApp};

#[tokio::test]
async fn committed_openapi_matches_the_code() {
    let generated = steward_server::openapi::document_json();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.json");
    if std::env::var("STEWARD_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi.json is out of date; run STEWARD_UPDATE_OPENAPI=1 cargo test -p steward-server --test openapi and commit it"
    );

    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    for path in [
        "/api/v1/organization",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/sessions",
        "/api/v1/sessions/current",
        "/api/v1/me",
        "/api/v1/api-keys",
        "/api/v1/api-keys/{id}",
        "/api/v1/audit-events",
        "/api/v1/setup",
        "/api/v1/invitations/{token}/accept",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

#[tokio::test]
async fn the_document_is_served() {
    let app = TestApp::on(steward_store::testing::sqlite().await);
    let res = app.get("/api/v1/openapi.json", Auth::None).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json["info"]["title"], "Steward API");
    assert!(res.json["paths"]["/api/v1/users"]["post"].is_object());
}
