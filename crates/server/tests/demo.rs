//! `steward demo seed`: the demo organization is believable and its counters
//! agree with the rows they count, on every engine.

mod common;

use std::collections::HashSet;

use common::{Auth, TestApp};
use steward_server::services::demo::{self, Scale};

#[tokio::test]
async fn small_demo_is_consistent() {
    for app in TestApp::all().await {
        let org = app.org("demo").await;
        let key = Auth::Bearer(&org.admin_key);
        let operator = steward_server::services::Ctx::operator(app.clock_now());
        let seed = |slug: &'static str| demo::seed(app.db(), &operator, &app.state.files, slug, Scale::Small);
        let report = seed("demo").await.unwrap();
        assert_eq!((report.workspaces, report.users), (12, 40));
        // Seeding twice is fine: new slugs and emails.
        seed("demo").await.unwrap();
        let missing = seed("nope").await.unwrap_err();
        assert_eq!(missing.status, 404);

        let all = app.get("/api/v1/workspaces?status=all&limit=200", key).await;
        let list = all.json["data"].as_array().unwrap().clone();
        assert_eq!(list.len(), 24);
        let statuses: HashSet<&str> = list.iter().map(|w| w["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, HashSet::from(["active", "suspended", "archived"]));

        let mut active_campaigns = 0;
        let mut storage = 0;
        for w in &list {
            let id = w["id"].as_str().unwrap();
            let members = app.get(&format!("/api/v1/workspaces/{id}/members?limit=200"), key).await.json;
            assert_eq!(
                members["data"].as_array().unwrap().len() as i64,
                w["users"].as_i64().unwrap(),
                "member counter"
            );
            let campaigns = app.get(&format!("/api/v1/workspaces/{id}/campaigns?limit=200"), key).await.json;
            let campaigns = campaigns["data"].as_array().unwrap().clone();
            assert_eq!(campaigns.len() as i64, w["campaigns"].as_i64().unwrap(), "campaign counter");
            if w["status"] != "active" {
                assert!(
                    campaigns.iter().all(|c| c["status"] != "active"),
                    "no campaign runs in a {} workspace",
                    w["status"]
                );
            }
            active_campaigns += campaigns.iter().filter(|c| c["status"] == "active").count() as i64;
            let media = app.get(&format!("/api/v1/workspaces/{id}/media?limit=200"), key).await.json;
            let bytes: i64 = media["data"].as_array().unwrap().iter().map(|m| m["bytes"].as_i64().unwrap()).sum();
            assert_eq!(bytes, w["storage_bytes"].as_i64().unwrap(), "storage counter");
            storage += bytes;
            // The files are really there.
            if let Some(m) = media["data"][0]["id"].as_str() {
                let file = app.get(&format!("/api/v1/workspaces/{id}/media/{m}"), key).await;
                assert_eq!(file.status, 200);
            }
        }
        let d = app.get("/api/v1/organization/dashboard", key).await.json;
        assert_eq!(
            d["total_workspaces"].as_i64().unwrap(),
            list.iter().filter(|w| w["status"] == "active").count() as i64
        );
        assert_eq!(d["active_campaigns"].as_i64().unwrap(), active_campaigns);
        assert_eq!(d["storage_bytes_used"].as_i64().unwrap(), storage);
        assert!(d["content_published_this_week"].as_i64().unwrap() > 0, "content spread over recent weeks");
        assert!(d["total_users"].as_i64().unwrap() > 60);
        assert!(app.actions(&org.id).await.contains(&"demo.seeded".to_owned()));
    }
}
