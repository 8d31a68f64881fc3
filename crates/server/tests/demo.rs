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

        // Reads as real: no machine suffixes, unique slugs (a second run numbers them), varied sizes.
        // A machine suffix: a run of hex characters with digits in it (`dd218389aa121`).
        let machine = |s: &str| {
            s.split(|c: char| !c.is_ascii_hexdigit())
                .any(|run| run.len() >= 6 && run.chars().filter(char::is_ascii_digit).count() >= 2)
        };
        let slugs: Vec<&str> = list.iter().map(|w| w["slug"].as_str().unwrap()).collect();
        assert_eq!(slugs.iter().collect::<HashSet<_>>().len(), slugs.len(), "slugs are unique");
        assert!(slugs.iter().all(|s| !machine(s)), "{slugs:?}");
        let people = app.get("/api/v1/users?limit=200", key).await.json["data"].as_array().unwrap().clone();
        let emails: Vec<&str> = people.iter().map(|u| u["email"].as_str().unwrap()).collect();
        assert!(emails.iter().all(|e| !machine(e)), "{emails:?}");
        let sizes: HashSet<(i64, i64)> =
            list.iter().map(|w| (w["users"].as_i64().unwrap(), w["campaigns"].as_i64().unwrap())).collect();
        assert!(sizes.len() >= 10, "the 12 workspaces of a run vary in size: {sizes:?}");
        assert!(list.iter().all(|w| (1..=40).contains(&w["users"].as_i64().unwrap())));
        assert!(list.iter().all(|w| (0..=60).contains(&w["campaigns"].as_i64().unwrap())));
        // Reproducible: two organizations seeded once get the same workspaces.
        let shape = |l: &serde_json::Value| {
            let mut v: Vec<(String, i64, i64)> = l["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| {
                    let n = |k: &str| w[k].as_i64().unwrap();
                    (w["name"].as_str().unwrap().to_owned(), n("users"), n("campaigns"))
                })
                .collect();
            v.sort();
            v
        };
        let mut shapes = Vec::new();
        for slug in ["again", "third"] {
            let other = app.org(slug).await;
            seed(slug).await.unwrap();
            let listed = app.get("/api/v1/workspaces?status=all&limit=200", Auth::Bearer(&other.admin_key)).await;
            shapes.push(shape(&listed.json));
        }
        assert_eq!(shapes[0].len(), 12);
        assert_eq!(shapes[0], shapes[1], "the same seed, the same data");

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

        // Credits: 90 days of debits, once; the balance is the ledger's sum and the tile shows it.
        assert_eq!(report.credit_debits, 3_000);
        let credits = app.get("/api/v1/credits", key).await.json;
        let balance = credits["balance"].as_i64().unwrap();
        assert!(balance > 0 && credits["burn_30_days"].as_i64().unwrap() > 0, "{credits}");
        assert_eq!(d["credit_balance"].as_i64(), Some(balance));
        let mut sum = 0;
        let mut cursor = String::new();
        loop {
            let page = app.get(&format!("/api/v1/credits/transactions?limit=200{cursor}"), key).await.json;
            sum += page["data"].as_array().unwrap().iter().map(|e| e["amount"].as_i64().unwrap()).sum::<i64>();
            match page["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(sum, balance, "the seeded ledger adds up to the balance");
        let day =
            |d: i64| steward_core::time::Timestamp::from_millis(app.clock_now().millis() + d * 86_400_000).to_rfc3339();
        let usage =
            app.get(&format!("/api/v1/credits/usage?group_by=workspace&from={}&to={}", day(-91), day(1)), key).await;
        let by_ws = usage.json["data"].as_array().unwrap();
        assert!(by_ws.len() >= 5, "usage spread over the active workspaces: {}", usage.text);
        let used: i64 = by_ws.iter().map(|r| r["used"].as_i64().unwrap()).sum();
        assert_eq!(used, usage.json["total"].as_i64().unwrap());
    }
}
