//! WS-3…WS-7 over HTTP, on every engine: suspending, archiving and deleting a
//! workspace, and what each step does to its members and campaigns.

mod common;

use axum::http::Method;
use common::{Auth, TestApp, add_member, campaign, campaign_status, create_ws};
use serde_json::{Value, json};

#[tokio::test]
async fn suspension_locks_members_out_and_reactivation_resumes_exactly_its_campaigns() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);
        let member = Auth::Bearer(&org.member_token);
        let ws = create_ws(&app, &org, json!({ "name": "Client A" })).await["id"].as_str().unwrap().to_owned();
        add_member(&app, &org, &ws, &org.member_id, "editor").await;
        let running1 = campaign(&app, member, &ws, "Spring", "active").await;
        let running2 = campaign(&app, member, &ws, "Summer", "active").await;
        let by_hand = campaign(&app, member, &ws, "Autumn", "active").await;
        let draft = campaign(&app, member, &ws, "Winter", "draft").await;
        let r = app
            .patch(&format!("/api/v1/workspaces/{ws}/campaigns/{by_hand}"), member, json!({ "status": "paused" }))
            .await;
        assert_eq!(r.json["status"], "paused");
        assert_eq!(app.get(&format!("/api/v1/workspaces/{ws}"), member).await.status, 200);

        let long = "x".repeat(501);
        let r = app.post(&format!("/api/v1/workspaces/{ws}/suspend"), admin, json!({ "reason": long })).await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("reason")));
        let r = app.post(&format!("/api/v1/workspaces/{ws}/suspend"), member, json!({})).await;
        assert_eq!((r.status, r.code()), (403, "super_admin_required"));

        let r = app
            .post(&format!("/api/v1/workspaces/{ws}/suspend"), admin, json!({ "reason": "Invoice 2026-11 unpaid" }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            (r.json["workspace"]["status"].as_str(), r.json["campaigns_paused"].as_u64()),
            (Some("suspended"), Some(2))
        );

        // The member is locked out of everything in it, API-wide, told why.
        for path in [
            format!("/api/v1/workspaces/{ws}"),
            format!("/api/v1/workspaces/{ws}/campaigns"),
            format!("/api/v1/workspaces/{ws}/content"),
        ] {
            let r = app.get(&path, member).await;
            assert_eq!((r.status, r.code()), (403, "workspace_suspended"), "{path}");
            assert_eq!(r.json["reason"], "Invoice 2026-11 unpaid");
            assert!(r.json["detail"].as_str().unwrap().contains("Invoice 2026-11 unpaid"));
        }
        let r = app.post(&format!("/api/v1/workspaces/{ws}/content"), member, json!({ "title": "Sneaky" })).await;
        assert_eq!(r.code(), "workspace_suspended");
        // Nothing was deleted; the paused campaigns are marked.
        assert_eq!(campaign_status(&app, &org, &ws, &running1).await, ("paused".into(), json!("suspension")));
        assert_eq!(campaign_status(&app, &org, &ws, &by_hand).await, ("paused".into(), Value::Null));
        assert_eq!(campaign_status(&app, &org, &ws, &draft).await.0, "draft");
        // Even a Super Admin can't change what a suspended workspace holds.
        let r = app
            .patch(&format!("/api/v1/workspaces/{ws}/campaigns/{by_hand}"), admin, json!({ "status": "active" }))
            .await;
        assert_eq!(r.code(), "workspace_suspended");

        let r = app.post(&format!("/api/v1/workspaces/{ws}/suspend"), admin, json!({})).await;
        assert_eq!(
            (r.status, r.code(), r.json["current_status"].as_str()),
            (409, "invalid_status_transition", Some("suspended"))
        );

        let r = app.post(&format!("/api/v1/workspaces/{ws}/reactivate"), admin, json!({})).await;
        assert_eq!((r.status, r.json["campaigns_resumed"].as_u64()), (200, Some(2)));
        assert_eq!(r.json["workspace"]["status_reason"], Value::Null);
        assert_eq!(campaign_status(&app, &org, &ws, &running1).await, ("active".into(), Value::Null));
        assert_eq!(campaign_status(&app, &org, &ws, &running2).await.0, "active");
        assert_eq!(
            campaign_status(&app, &org, &ws, &by_hand).await.0,
            "paused",
            "a campaign paused by hand stays paused"
        );
        assert_eq!(campaign_status(&app, &org, &ws, &draft).await.0, "draft");
        assert_eq!(app.get(&format!("/api/v1/workspaces/{ws}"), member).await.status, 200, "the member is let back in");

        let r = app.post(&format!("/api/v1/workspaces/{ws}/reactivate"), admin, json!({})).await;
        assert_eq!((r.status, r.json["current_status"].as_str()), (409, Some("active")));

        let events = app.get("/api/v1/audit-events?limit=200", admin).await;
        let suspended = events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "workspace.suspended")
            .unwrap()
            .clone();
        assert_eq!(suspended["metadata"]["reason"], "Invoice 2026-11 unpaid");
        assert_eq!(suspended["workspace_id"], ws.as_str());
        assert_eq!(suspended["changes"]["status"], json!({ "before": "active", "after": "suspended" }));
        assert_eq!(suspended["actor"]["id"], org.admin_id.as_str());
        assert!(events.text.contains("workspace.reactivated"));
    }
}

#[tokio::test]
async fn archive_hides_frees_a_slot_and_restores() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);
        let org_id: steward_core::ids::OrgId = org.id.parse().unwrap();
        let operator = steward_server::services::Ctx::operator(app.clock_now()).in_org(&org_id);
        steward_server::services::organizations::set_workspace_limit(app.db(), &operator, Some(2)).await.unwrap();
        let refused = steward_server::services::organizations::set_workspace_limit(
            app.db(),
            &steward_server::services::Ctx { principal: steward_core::authz::Principal::system("x"), ..operator },
            None,
        )
        .await;
        assert_eq!(refused.unwrap_err().code, "organization_required", "a limit is set in one organization");

        let a = create_ws(&app, &org, json!({ "name": "A" })).await["id"].as_str().unwrap().to_owned();
        let _b = create_ws(&app, &org, json!({ "name": "B" })).await;
        let r = app.post("/api/v1/workspaces", admin, json!({ "name": "C" })).await;
        assert_eq!((r.status, r.code()), (403, "workspace_limit_reached"));
        assert!(r.json["detail"].as_str().unwrap().contains("Archive a workspace or request an increase"));

        add_member(&app, &org, &a, &org.member_id, "admin").await;
        let running = campaign(&app, admin, &a, "Live", "active").await;
        let r = app.post(&format!("/api/v1/workspaces/{a}/archive"), admin, json!({})).await;
        assert_eq!((r.status, r.json["campaigns_paused"].as_u64()), (200, Some(1)));
        assert_eq!(
            app.get(&format!("/api/v1/workspaces/{a}"), Auth::Bearer(&org.member_token)).await.status,
            404,
            "hidden from members"
        );
        assert_eq!(
            app.get(&format!("/api/v1/workspaces/{a}/campaigns"), Auth::Bearer(&org.member_token)).await.status,
            404
        );
        assert_eq!(app.get(&format!("/api/v1/workspaces/{a}"), admin).await.json["status"], "archived");
        assert_eq!(
            campaign_status(&app, &org, &a, &running).await,
            ("paused".into(), json!("archive")),
            "data preserved"
        );

        let c_ws = create_ws(&app, &org, json!({ "name": "C" })).await;
        assert_eq!(c_ws["status"], "active", "archived workspaces don't count toward the limit");
        let r = app.post(&format!("/api/v1/workspaces/{a}/restore"), admin, json!({})).await;
        assert_eq!((r.status, r.code()), (403, "workspace_limit_reached"), "restoring counts again");
        let r =
            app.post(&format!("/api/v1/workspaces/{}/archive", c_ws["id"].as_str().unwrap()), admin, json!({})).await;
        assert_eq!(r.status, 200);
        let r = app.post(&format!("/api/v1/workspaces/{a}/restore"), admin, json!({})).await;
        assert_eq!(
            (r.status, r.json["workspace"]["status"].as_str(), r.json["campaigns_resumed"].as_u64()),
            (200, Some("active"), Some(1))
        );
        assert_eq!(app.get(&format!("/api/v1/workspaces/{a}"), Auth::Bearer(&org.member_token)).await.status, 200);
        let r = app.post(&format!("/api/v1/workspaces/{a}/restore"), admin, json!({})).await;
        assert_eq!((r.status, r.json["current_status"].as_str()), (409, Some("active")));

        // A suspended workspace that is archived comes back suspended.
        let b = _b["id"].as_str().unwrap();
        app.post(&format!("/api/v1/workspaces/{b}/suspend"), admin, json!({ "reason": "audit" })).await;
        assert_eq!(app.post(&format!("/api/v1/workspaces/{b}/archive"), admin, json!({})).await.status, 200);
        let r = app.post(&format!("/api/v1/workspaces/{b}/restore"), admin, json!({})).await;
        assert_eq!(
            (r.json["workspace"]["status"].as_str(), r.json["workspace"]["status_reason"].as_str()),
            (Some("suspended"), Some("audit"))
        );
    }
}

#[tokio::test]
async fn delete_needs_the_slug_and_removes_everything_but_the_audit_trail() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);
        let ws = create_ws(&app, &org, json!({ "name": "Doomed" })).await["id"].as_str().unwrap().to_owned();
        add_member(&app, &org, &ws, &org.member_id, "admin").await;
        let cmp = campaign(&app, admin, &ws, "C", "active").await;
        let r = app
            .post(&format!("/api/v1/workspaces/{ws}/content"), admin, json!({ "title": "Post", "status": "published" }))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let r = app
            .post(
                &format!("/api/v1/workspaces/{ws}/connections"),
                admin,
                json!({ "platform": "instagram", "account_name": "@doomed" }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let up = app
            .raw(
                Method::POST,
                &format!("/api/v1/workspaces/{ws}/media?filename=logo.png"),
                admin,
                Some("PNGDATA"),
                "image/png",
            )
            .await;
        assert_eq!(up.status, 201, "{}", up.text);
        let media_dir = app.files.path().join("media").join(&org.id).join(&ws);
        assert!(media_dir.exists());

        let r = app.delete(&format!("/api/v1/workspaces/{ws}"), admin).await;
        assert_eq!((r.status, r.code()), (422, "confirmation_required"));
        let r = app.delete(&format!("/api/v1/workspaces/{ws}?confirm=doom"), admin).await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("confirm")));
        let r = app.delete(&format!("/api/v1/workspaces/{ws}?confirm=doomed"), Auth::Bearer(&org.member_token)).await;
        assert_eq!(r.status, 403, "workspace admins can't delete the workspace");
        assert_eq!(
            app.get(&format!("/api/v1/workspaces/{ws}/campaigns/{cmp}"), admin).await.status,
            200,
            "intact after refusals"
        );

        let r = app.delete(&format!("/api/v1/workspaces/{ws}?confirm=doomed"), admin).await;
        assert_eq!(r.status, 204, "{}", r.text);
        assert_eq!(app.get(&format!("/api/v1/workspaces/{ws}"), admin).await.status, 404);
        assert!(!media_dir.exists(), "files removed after commit");
        let mut c = app.db().conn().await.unwrap();
        for table in ["campaigns", "content_items", "platform_connections", "media", "workspace_members"] {
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE workspace_id = $1");
            let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&ws).fetch_one(&mut *c).await.unwrap();
            assert_eq!(n, 0, "{table} emptied");
        }
        drop(c);
        let events = app.get("/api/v1/audit-events?limit=200", admin).await;
        let deleted = events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "workspace.deleted")
            .unwrap()
            .clone();
        assert_eq!(
            (deleted["workspace_id"].as_str(), deleted["metadata"]["slug"].as_str()),
            (Some(ws.as_str()), Some("doomed"))
        );
        assert!(
            events.json["data"].as_array().unwrap().iter().filter(|e| e["workspace_id"] == ws.as_str()).count() > 3,
            "earlier events remain"
        );
        // The slug is free again.
        assert_eq!(create_ws(&app, &org, json!({ "name": "Doomed" })).await["slug"], "doomed");
    }
}
