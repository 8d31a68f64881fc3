//! SEC-5: the audit trail's filters, exports (CSV defused against formulas,
//! JSON Lines), bad filters, and a catalog that covers every action.

mod common;

use common::{Auth, TestApp};
use serde_json::{Value, json};

fn actions(v: &Value) -> Vec<String> {
    v["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn filters_pages_and_exports() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);
        // A key whose name a spreadsheet would run as a formula.
        let evil = app.post("/api/v1/api-keys", admin, json!({ "name": "=SUM(1,2)", "scopes": ["admin"] })).await;
        let evil_key = evil.json["secret"].as_str().unwrap().to_owned();
        let evil_id = evil.json["api_key"]["id"].as_str().unwrap().to_owned();
        app.clock.advance_seconds(1);
        let start = app.clock_now();
        let ws = app.post("/api/v1/workspaces", admin, json!({ "name": "Client" })).await.json["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.clock.advance_seconds(20 * 60);
        let mid = app.clock_now();
        app.post(
            &format!("/api/v1/workspaces/{ws}/suspend"),
            admin,
            json!({ "reason": "=HYPERLINK(\"http://evil\")" }),
        )
        .await;
        app.post(&format!("/api/v1/workspaces/{ws}/reactivate"), admin, json!({})).await;
        app.post("/api/v1/users", Auth::Bearer(&evil_key), json!({ "email": "eve@acme.example", "name": "Eve" })).await;

        let read_key = org.read_key.clone();
        let get = |q: String| {
            let app = &app;
            let key = read_key.clone();
            async move { app.get(&format!("/api/v1/audit-events?{q}"), Auth::Bearer(&key)).await }
        };
        assert_eq!(actions(&get("action=workspace.suspended".into()).await.json), ["workspace.suspended"]);
        assert_eq!(
            actions(&get("action=workspace.*".into()).await.json),
            ["workspace.reactivated", "workspace.suspended", "workspace.created"]
        );
        assert_eq!(actions(&get(format!("workspace={ws}")).await.json).len(), 3);
        let by_key = get(format!("actor={evil_id}")).await;
        assert_eq!(actions(&by_key.json), ["user.invited"]);
        let by_admin = actions(&get(format!("actor={}&action=workspace.*", org.admin_id)).await.json);
        assert_eq!(by_admin.len(), 3);
        let t = |ts: steward_core::time::Timestamp| ts.to_rfc3339().replace(':', "%3A");
        let early = actions(&get(format!("from={}&to={}&action=workspace.*", t(start), t(mid))).await.json);
        assert_eq!(early, ["workspace.created"]);
        assert_eq!(actions(&get(format!("target={ws}&action=workspace.*")).await.json).len(), 3);
        // Pages of a filtered list walk every match once.
        let first = get("action=workspace.*&limit=2".into()).await;
        let next = first.json["next_cursor"].as_str().unwrap().to_owned();
        let second = get(format!("action=workspace.*&limit=2&cursor={next}")).await;
        assert_eq!(actions(&second.json), ["workspace.created"]);
        assert!(second.json["next_cursor"].is_null());

        for (q, status, field) in [
            (format!("from={}&to={}", t(mid), t(start)), 422, Some("to")),
            ("from=2020-01-01T00%3A00%3A00Z&to=2026-01-01T00%3A00%3A00Z".to_owned(), 422, Some("to")),
            ("from=yesterday".to_owned(), 422, Some("from")),
            ("action=workspace.exploded".to_owned(), 422, Some("action")),
            ("action=nothing.*".to_owned(), 422, Some("action")),
            ("actor=ana".to_owned(), 422, Some("actor")),
            ("workspace=acme".to_owned(), 422, Some("workspace")),
            ("cursor=%%%".to_owned(), 422, None),
            ("cursor=djE6YWJj".to_owned(), 422, None),
        ] {
            let r = get(q.clone()).await;
            assert_eq!(r.status, status, "{q}: {}", r.text);
            if let Some(field) = field {
                assert_eq!(r.json["errors"][0]["field"], field, "{q}");
            }
        }

        // CSV: a header, one line per event, formulas defused.
        let csv = app.get("/api/v1/audit-events/export?format=csv&action=workspace.*", admin).await;
        assert_eq!(csv.status, 200);
        assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
        let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(lines[0].starts_with("seq,occurred_at,action,"));
        assert_eq!(lines.len(), 4);
        let people = app.get("/api/v1/audit-events/export?format=csv&action=user.invited", admin).await;
        assert!(people.text.contains(",\"'=SUM(1,2)\","), "the key's name is defused: {}", people.text);
        assert!(!people.text.contains(",=SUM"));
        // JSON Lines: one event per line.
        let jsonl = app.get(&format!("/api/v1/audit-events/export?format=json&workspace={ws}"), admin).await;
        let events: Vec<Value> = jsonl.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0]["action"], "workspace.reactivated");
        let bad = app.get("/api/v1/audit-events/export?format=xlsx", admin).await;
        assert_eq!((bad.status, bad.json["errors"][0]["field"].as_str()), (422, Some("format")));
        // Exports are audited; other organizations see none of it.
        assert!(app.actions(&org.id).await.contains(&"audit.exported".to_owned()));
        let other = app.org("globex").await;
        let theirs = app.get("/api/v1/audit-events/export?format=json", Auth::Bearer(&other.admin_token)).await;
        assert!(!theirs.text.contains(&org.id) && !theirs.text.contains("acme.example"));
        assert_eq!(app.get("/api/v1/audit-events", Auth::Bearer(&org.member_token)).await.status, 403);
    }
}

/// Every action a use case writes is in the catalog (`ACTIONS`) and documented.
#[test]
fn every_action_is_in_the_catalog_and_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = std::fs::read_to_string(root.join("../../docs/audit-events.md")).expect("docs/audit-events.md");
    let groups = steward_core::audit::action_groups();
    let mut found = std::collections::BTreeSet::new();
    // Every source file under src/services, subfolders included.
    let mut files = Vec::new();
    let mut dirs = vec![root.join("src/services")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { dirs.push(path) } else { files.push(path) }
        }
    }
    assert!(files.len() >= 15, "found {} service files", files.len());
    for path in files {
        let text = std::fs::read_to_string(path).unwrap();
        for piece in text.split('"').skip(1).step_by(2) {
            let is_action = piece.split_once('.').is_some_and(|(g, rest)| {
                groups.contains(&g) && !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            });
            if is_action {
                found.insert(piece.to_owned());
            }
        }
    }
    for action in &found {
        assert!(
            steward_core::audit::ACTIONS.contains(&action.as_str()),
            "{action} is written but not in core::audit::ACTIONS"
        );
    }
    for action in steward_core::audit::ACTIONS {
        assert!(docs.contains(&format!("`{action}`")), "{action} is missing from docs/audit-events.md");
    }
    assert!(found.len() >= 40, "the scan found {} actions", found.len());
}

#[tokio::test]
async fn the_hash_chain_detects_edits_and_gaps_and_survives_retention() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let org_id: steward_core::ids::OrgId = org.id.parse().unwrap();
        let key = Auth::Bearer(&org.admin_key);
        for i in 0..5 {
            app.post("/api/v1/workspaces", key, json!({ "name": format!("W{i}") })).await;
        }
        let total = app.actions(&org.id).await.len() as i64;
        let operator = || steward_server::services::Ctx::operator(app.clock_now()).in_org(&org_id);
        let verify = || async { steward_server::services::audit::verify(app.db(), &operator()).await };
        assert_eq!(verify().await.unwrap(), Ok(total));

        // Retention: 91 days later, old events go; the chain still verifies from its anchor.
        app.clock.advance_seconds(91 * 86_400);
        app.post("/api/v1/workspaces", key, json!({ "name": "Recent" })).await;
        let purged = steward_server::services::audit::purge(app.db(), &operator(), 90).await.unwrap();
        assert_eq!(purged, total);
        let left = app.get("/api/v1/audit-events?limit=200", key).await;
        assert_eq!(actions(&left.json), ["audit.purged", "workspace.created"]);
        assert_eq!(left.json["data"][0]["actor"]["type"], "operator", "the operator purged: {}", left.text);
        assert_eq!(left.json["data"][0]["metadata"]["purged"], total);
        assert_eq!(left.json["data"][1]["seq"], total + 1, "numbering continues");
        assert_eq!(verify().await.unwrap(), Ok(2));
        app.post("/api/v1/workspaces", key, json!({ "name": "Later" })).await;
        assert_eq!(verify().await.unwrap(), Ok(3));

        // Editing a row with SQL is detected, naming the event.
        let mut c = app.db().conn().await.unwrap();
        let edited = total + 2;
        sqlx::query("UPDATE audit_events SET action = 'workspace.deleted' WHERE org_id = $1 AND seq = $2")
            .bind(&org.id)
            .bind(edited)
            .execute(&mut *c)
            .await
            .unwrap();
        drop(c);
        let broken = verify().await.unwrap().unwrap_err();
        assert_eq!(broken.seq, edited);
        assert!(broken.reason.contains("changed"));
        // So is deleting one.
        let mut c = app.db().conn().await.unwrap();
        sqlx::query("DELETE FROM audit_events WHERE org_id = $1 AND seq = $2")
            .bind(&org.id)
            .bind(edited)
            .execute(&mut *c)
            .await
            .unwrap();
        drop(c);
        let broken = verify().await.unwrap().unwrap_err();
        assert_eq!(broken.seq, edited);
        assert!(broken.reason.contains("missing"));
    }
}
