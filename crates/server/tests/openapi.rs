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

#[tokio::test]
async fn every_error_is_documented_as_a_problem_and_every_operation_has_a_page_entry() {
    let doc = steward_server::openapi::document();
    let app = TestApp::on(steward_store::testing::sqlite().await);
    let page = app.get("/api/docs", Auth::None).await;
    assert_eq!(page.status, 200);
    // Served from the binary: nothing is fetched from anywhere else.
    assert!(
        !page.text.contains("<script") && !page.text.contains("src=\"http") && !page.text.contains("href=\"http"),
        "the page loads nothing from elsewhere"
    );
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let id = op["operationId"].as_str().unwrap();
            assert!(page.text.contains(&format!("id=\"{id}\"")), "/api/docs shows {method} {path}");
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("503"), "{method} {path} documents 503");
            let open = op["security"].as_array().is_some_and(|s| s.iter().all(|r| r.as_object().unwrap().is_empty()));
            for status in ["401", "403", "429"] {
                assert!(
                    open || responses.contains_key(status),
                    "{method} {path} takes credentials and documents {status}"
                );
            }
            for (status, r) in responses {
                assert!(
                    !r["description"].as_str().unwrap_or_default().is_empty(),
                    "{method} {path} {status} says what it means"
                );
                if status.as_str() >= "400" {
                    let content = r["content"].as_object().unwrap();
                    assert_eq!(
                        content.keys().collect::<Vec<_>>(),
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert!(operations > 70, "{operations} operations");
    // What the server sends matches: a 404 and a 401 are problems.
    let res = app.get("/api/v1/users/usr_nothing", Auth::None).await;
    let content_type = res.headers.get("content-type").and_then(|v| v.to_str().ok());
    assert_eq!((res.status, content_type), (401, Some("application/problem+json")));
    let changes = &doc["components"]["schemas"]["AuditEventView"]["properties"]["changes"]["type"];
    assert!(changes.as_array().is_some_and(|t| t.iter().any(|t| t == "null")), "changes may be null: {changes}");
}
