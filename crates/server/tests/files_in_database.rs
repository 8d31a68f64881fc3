//! The `database` file backend behind the real application, on every engine:
//! uploads, downloads and deletions of logos and media keep their bytes in the
//! database (no folder), and SQLite's single writer never blocks an upload.

mod common;

use axum::http::Method;
use common::{Auth, TestApp};
use serde_json::json;
use steward_server::{Files, build_app};

const SVG: &str =
    r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#;

#[tokio::test]
async fn logos_and_media_live_in_the_database() {
    for mut app in TestApp::all().await {
        app.state = app.state.clone().with_files(Files::database(app.db().clone()));
        app.router = build_app(app.state.clone());
        let engine = app.engine.name();
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);

        let r = app.raw(Method::PUT, "/api/v1/organization/logo", admin, Some(SVG), "image/svg+xml").await;
        assert_eq!(r.status, 200, "{engine}: {}", r.text);
        let logo = app.get("/api/v1/organization/logo", admin).await;
        assert_eq!((logo.status, logo.headers["content-type"].to_str().ok()), (200, Some("image/svg+xml")));

        let ws = app.post("/api/v1/workspaces", admin, json!({ "name": "Client" })).await.json;
        let id = ws["id"].as_str().expect("a workspace id");
        let up = app
            .raw(
                Method::POST,
                &format!("/api/v1/workspaces/{id}/media?filename=a.txt"),
                admin,
                Some("hello"),
                "text/plain",
            )
            .await;
        assert_eq!(up.status, 201, "{engine}: {}", up.text);
        let file = format!("/api/v1/workspaces/{id}/media/{}", up.json["id"].as_str().expect("a media id"));
        assert_eq!(app.get(&file, admin).await.text, "hello", "{engine}");
        let keys = app.state.files.keys().await.expect("keys");
        assert_eq!(keys.len(), 2, "{engine}: {keys:?}");
        assert!(std::fs::read_dir(app.files.path()).expect("the folder").next().is_none(), "nothing on disk");

        // A refused upload leaves no file behind.
        let member = Auth::Bearer(&org.member_token);
        let r = app
            .raw(
                Method::POST,
                &format!("/api/v1/workspaces/{id}/media?filename=b.txt"),
                member,
                Some("no"),
                "text/plain",
            )
            .await;
        assert_ne!(r.status, 201, "{engine}");
        for _ in 0..50 {
            if app.state.files.keys().await.expect("keys").len() == 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(app.state.files.keys().await.expect("keys").len(), 2, "{engine}: the refused upload is removed");

        assert_eq!(app.delete("/api/v1/organization/logo", admin).await.status, 204, "{engine}");
        assert_eq!(app.get("/api/v1/organization/logo", admin).await.status, 404, "{engine}");
        let slug = ws["slug"].as_str().expect("a slug");
        let r = app.delete(&format!("/api/v1/workspaces/{id}?confirm={slug}"), admin).await;
        assert_eq!(r.status, 204, "{engine}: {}", r.text);
        assert_eq!(app.state.files.keys().await.expect("keys"), Vec::<String>::new(), "{engine}");
    }
}
