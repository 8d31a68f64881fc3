//! WS-1…WS-7, DOMAIN-1…4, ORG-2/3 over HTTP, on every engine: creating,
//! listing, members and the dashboard (the lifecycle is in workspace_lifecycle.rs).

mod common;

use axum::http::Method;
use common::{Auth, TestApp, add_member, campaign, create_ws};
use serde_json::{Value, json};

#[tokio::test]
async fn create_with_slugs_and_settings() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);
        let a = create_ws(&app, &org, json!({ "name": "Café Crème", "description": "Coffee client" })).await;
        assert_eq!(
            (a["slug"].as_str(), a["status"].as_str(), a["timezone"].as_str(), a["default_language"].as_str()),
            (Some("cafe-creme"), Some("active"), Some("UTC"), Some("en"))
        );
        assert_eq!((a["users"].as_i64(), a["campaigns"].as_i64()), (Some(0), Some(0)));
        let b = create_ws(
            &app,
            &org,
            json!({ "name": "Cafe  creme!", "timezone": "Europe/Paris", "default_language": "fr-FR" }),
        )
        .await;
        assert_eq!(b["slug"], "cafe-creme-2", "slugs are de-duplicated within the organization");
        assert_eq!(b["timezone"], "Europe/Paris");

        for (body, status, field) in [
            (json!({ "name": "X", "slug": "cafe-creme" }), 409, "slug"),
            (json!({ "name": "X", "slug": "Bad Slug" }), 422, "slug"),
            (json!({ "name": "" }), 422, "name"),
            (json!({ "name": "X", "timezone": "Mars/Olympus" }), 422, "timezone"),
            (json!({ "name": "X", "default_language": "english" }), 422, "default_language"),
            (json!({ "name": "X", "status": "active" }), 422, "status"),
        ] {
            let r = app.post("/api/v1/workspaces", admin, body.clone()).await;
            assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (status, Some(field)), "{body}: {}", r.text);
        }
        // Members can't create workspaces.
        let r = app.post("/api/v1/workspaces", Auth::Bearer(&org.member_token), json!({ "name": "Mine" })).await;
        assert_eq!((r.status, r.code()), (403, "super_admin_required"));

        // Edit details and settings.
        let id = a["id"].as_str().unwrap();
        let r = app
            .patch(
                &format!("/api/v1/workspaces/{id}"),
                admin,
                json!({ "name": "Café Crème Paris", "timezone": "Europe/Paris", "description": null }),
            )
            .await;
        assert_eq!(
            (r.status, r.json["name"].as_str(), r.json["description"].clone()),
            (200, Some("Café Crème Paris"), Value::Null)
        );
        let r = app.patch(&format!("/api/v1/workspaces/{id}"), admin, json!({ "slug": "cafe-creme-2" })).await;
        assert_eq!((r.status, r.code()), (409, "slug_taken"));
        let actions = app.actions(&org.id).await;
        assert!(actions.contains(&"workspace.created".into()) && actions.contains(&"workspace.updated".into()));
    }
}

#[tokio::test]
async fn list_filters_sorts_and_pages() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);
        let mut ids = Vec::new();
        for name in ["Delta", "alpha", "Charlie", "bravo", "Echo"] {
            ids.push(create_ws(&app, &org, json!({ "name": name })).await["id"].as_str().unwrap().to_owned());
        }
        add_member(&app, &org, &ids[0], &org.member_id, "viewer").await;
        add_member(&app, &org, &ids[0], &org.admin_id, "admin").await;
        add_member(&app, &org, &ids[2], &org.member_id, "editor").await;
        campaign(&app, admin, &ids[4], "c1", "draft").await;
        campaign(&app, admin, &ids[4], "c2", "draft").await;
        campaign(&app, admin, &ids[2], "c3", "draft").await;
        assert_eq!(app.post(&format!("/api/v1/workspaces/{}/archive", ids[1]), admin, json!({})).await.status, 200);
        assert_eq!(
            app.post(&format!("/api/v1/workspaces/{}/suspend", ids[3]), admin, json!({ "reason": "unpaid" }))
                .await
                .status,
            200
        );

        let names = |v: &Value| -> Vec<String> {
            v["data"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap().to_owned()).collect()
        };
        let r = app.get("/api/v1/workspaces", admin).await;
        assert_eq!(
            names(&r.json),
            ["bravo", "Charlie", "Delta", "Echo"],
            "archived hidden by default; names sort case-insensitively"
        );
        assert_eq!(names(&app.get("/api/v1/workspaces?status=archived", admin).await.json), ["alpha"]);
        assert_eq!(names(&app.get("/api/v1/workspaces?status=all", admin).await.json).len(), 5);
        assert_eq!(names(&app.get("/api/v1/workspaces?status=suspended", admin).await.json), ["bravo"]);
        assert_eq!(names(&app.get("/api/v1/workspaces?q=ELT", admin).await.json), ["Delta"]);
        assert_eq!(names(&app.get("/api/v1/workspaces?q=%25", admin).await.json), Vec::<String>::new(), "% is literal");
        assert_eq!(
            names(&app.get("/api/v1/workspaces?sort=-name", admin).await.json),
            ["Echo", "Delta", "Charlie", "bravo"]
        );
        let by_campaigns = app.get("/api/v1/workspaces?sort=-campaigns", admin).await;
        assert_eq!(names(&by_campaigns.json)[..2], ["Echo", "Charlie"]);
        assert_eq!(by_campaigns.json["data"][0]["campaigns"], 2);
        let by_users = app.get("/api/v1/workspaces?sort=-users", admin).await;
        assert_eq!((names(&by_users.json)[0].as_str(), by_users.json["data"][0]["users"].as_i64()), ("Delta", Some(2)));
        assert_eq!(
            names(&app.get("/api/v1/workspaces?sort=created_at", admin).await.json),
            ["Delta", "Charlie", "bravo", "Echo"]
        );

        // Paging walks every workspace once, for each sort order.
        for sort in ["name", "-name", "created_at", "users", "-campaigns"] {
            let mut seen = Vec::new();
            let mut url = format!("/api/v1/workspaces?status=all&sort={sort}&limit=2");
            loop {
                let page = app.get(&url, admin).await;
                assert_eq!(page.status, 200, "{}", page.text);
                seen.extend(names(&page.json));
                match page.json["next_cursor"].as_str() {
                    Some(c) => url = format!("/api/v1/workspaces?status=all&sort={sort}&limit=2&cursor={c}"),
                    None => break,
                }
            }
            let mut sorted = seen.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), 5, "{sort}: {seen:?}");
        }

        // A member sees only their workspaces.
        let mine = app.get("/api/v1/workspaces", Auth::Bearer(&org.member_token)).await;
        assert_eq!(names(&mine.json), ["Charlie", "Delta"]);
        assert_eq!(
            names(&app.get("/api/v1/workspaces?status=archived", Auth::Bearer(&org.member_token)).await.json),
            Vec::<String>::new()
        );

        for (url, status, code) in [
            ("/api/v1/workspaces?status=deleted", 422, "validation_failed"),
            ("/api/v1/workspaces?sort=size", 422, "validation_failed"),
            ("/api/v1/workspaces?cursor=xyz", 422, "invalid_cursor"),
            ("/api/v1/workspaces?limit=0", 422, "validation_failed"),
        ] {
            let r = app.get(url, admin).await;
            assert_eq!((r.status, r.code()), (status, code), "{url}");
        }
        // A cursor of one sort order is refused by another.
        let c = app.get("/api/v1/workspaces?sort=name&limit=1", admin).await.json["next_cursor"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(app.get(&format!("/api/v1/workspaces?sort=users&cursor={c}"), admin).await.code(), "invalid_cursor");
    }
}

#[tokio::test]
async fn members_act_by_their_workspace_role() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let other = app.org("globex").await;
        let admin = Auth::Bearer(&org.admin_token);
        let member = Auth::Bearer(&org.member_token);
        let ws = create_ws(&app, &org, json!({ "name": "Team" })).await["id"].as_str().unwrap().to_owned();
        let members = format!("/api/v1/workspaces/{ws}/members");

        assert_eq!(app.get(&format!("/api/v1/workspaces/{ws}"), member).await.status, 404, "not a member yet");
        let r = app
            .call(Method::PUT, &format!("{members}/{}", org.member_id), admin, Some(json!({ "role": "owner" })))
            .await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("role")));
        let r = app
            .call(Method::PUT, &format!("{members}/{}", other.admin_id), admin, Some(json!({ "role": "viewer" })))
            .await;
        assert_eq!(r.status, 404, "a user of another organization is not found");
        let r = app
            .call(Method::PUT, &format!("{members}/{}", org.member_id), admin, Some(json!({ "role": "viewer" })))
            .await;
        assert_eq!((r.status, r.json["role"].as_str()), (201, Some("viewer")));

        // Viewer: reads, can't write.
        assert_eq!(app.get(&format!("/api/v1/workspaces/{ws}/campaigns"), member).await.status, 200);
        let r = app.post(&format!("/api/v1/workspaces/{ws}/campaigns"), member, json!({ "name": "Nope" })).await;
        assert_eq!((r.status, r.code()), (403, "workspace_role_required"));

        // Editor: campaigns and content, not connections or members.
        let r = app
            .call(Method::PUT, &format!("{members}/{}", org.member_id), admin, Some(json!({ "role": "editor" })))
            .await;
        assert_eq!((r.status, r.json["role"].as_str()), (200, Some("editor")));
        let cmp = campaign(&app, member, &ws, "Launch", "draft").await;
        let r = app
            .patch(&format!("/api/v1/workspaces/{ws}/campaigns/{cmp}"), member, json!({ "status": "completed" }))
            .await;
        assert_eq!(
            (r.status, r.code(), r.json["current_status"].as_str()),
            (409, "invalid_status_transition", Some("draft"))
        );
        for step in ["active", "paused", "active", "completed"] {
            let r =
                app.patch(&format!("/api/v1/workspaces/{ws}/campaigns/{cmp}"), member, json!({ "status": step })).await;
            assert_eq!(r.json["status"], step, "{}", r.text);
        }
        let future = app.clock_now().plus_seconds(3600).to_rfc3339();
        let r = app
            .post(
                &format!("/api/v1/workspaces/{ws}/content"),
                member,
                json!({ "title": "Teaser", "status": "scheduled", "scheduled_at": future, "campaign_id": cmp }),
            )
            .await;
        assert_eq!((r.status, r.json["status"].as_str()), (201, Some("scheduled")), "{}", r.text);
        let content = r.json["id"].as_str().unwrap().to_owned();
        let past = app.clock_now().plus_seconds(-60).to_rfc3339();
        let r = app
            .post(
                &format!("/api/v1/workspaces/{ws}/content"),
                member,
                json!({ "title": "Late", "status": "scheduled", "scheduled_at": past }),
            )
            .await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("scheduled_at")));
        let r = app
            .patch(&format!("/api/v1/workspaces/{ws}/content/{content}"), member, json!({ "status": "published" }))
            .await;
        assert!(r.json["published_at"].is_string());
        let r = app
            .post(
                &format!("/api/v1/workspaces/{ws}/connections"),
                member,
                json!({ "platform": "x", "account_name": "@team" }),
            )
            .await;
        assert_eq!(r.code(), "workspace_role_required");
        let r = app
            .call(Method::PUT, &format!("{members}/{}", org.admin_id), member, Some(json!({ "role": "viewer" })))
            .await;
        assert_eq!(r.code(), "workspace_role_required");

        // Workspace admin: connections, media and members.
        add_member(&app, &org, &ws, &org.member_id, "admin").await;
        let r = app
            .post(
                &format!("/api/v1/workspaces/{ws}/connections"),
                member,
                json!({ "platform": "myspace", "account_name": "@team" }),
            )
            .await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("platform")));
        let r = app
            .post(
                &format!("/api/v1/workspaces/{ws}/connections"),
                member,
                json!({ "platform": "linkedin", "account_name": "Team Inc" }),
            )
            .await;
        assert_eq!(r.status, 201);
        let con = r.json["id"].as_str().unwrap().to_owned();
        let r = app
            .patch(&format!("/api/v1/workspaces/{ws}/connections/{con}"), member, json!({ "status": "expired" }))
            .await;
        assert_eq!(r.json["status"], "expired");
        let body = "x".repeat(1500);
        let r = app
            .raw(
                Method::POST,
                &format!("/api/v1/workspaces/{ws}/media?filename=brief.txt"),
                member,
                Some(&body),
                "text/plain",
            )
            .await;
        assert_eq!((r.status, r.json["bytes"].as_i64()), (201, Some(1500)));
        let media = r.json["id"].as_str().unwrap().to_owned();
        let r = app
            .raw(
                Method::POST,
                &format!("/api/v1/workspaces/{ws}/media?filename=../etc/passwd"),
                member,
                Some("x"),
                "text/plain",
            )
            .await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("filename")));
        let dl = app.get(&format!("/api/v1/workspaces/{ws}/media/{media}"), member).await;
        assert_eq!(dl.text, body);
        assert!(dl.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
        assert_eq!(app.get(&format!("/api/v1/workspaces/{ws}"), admin).await.json["storage_bytes"], 1500);
        let r = app
            .call(Method::PUT, &format!("{members}/{}", org.admin_id), member, Some(json!({ "role": "viewer" })))
            .await;
        assert_eq!(r.status, 201);
        let list = app.get(&members, member).await;
        assert_eq!(list.json["data"].as_array().unwrap().len(), 2);
        assert_eq!(app.get(&format!("/api/v1/workspaces/{ws}"), admin).await.json["users"], 2);
        assert_eq!(app.delete(&format!("{members}/{}", org.admin_id), member).await.status, 204);
        assert_eq!(app.delete(&format!("{members}/{}", org.admin_id), member).await.status, 404);
        assert_eq!(app.delete(&format!("/api/v1/workspaces/{ws}/media/{media}"), member).await.status, 204);
        assert_eq!(app.get(&format!("/api/v1/workspaces/{ws}"), admin).await.json["storage_bytes"], 0);

        // Other organizations see none of it.
        for path in
            [format!("/api/v1/workspaces/{ws}"), format!("/api/v1/workspaces/{ws}/campaigns/{cmp}"), members.clone()]
        {
            assert_eq!(app.get(&path, Auth::Bearer(&other.admin_token)).await.status, 404, "{path}");
            assert_eq!(app.get(&path, Auth::Bearer(&other.admin_key)).await.status, 404, "{path}");
        }
        let r =
            app.post(&format!("/api/v1/workspaces/{ws}/suspend"), Auth::Bearer(&other.admin_token), json!({})).await;
        assert_eq!(r.status, 404);
        assert_eq!(app.get(&format!("/api/v1/workspaces/{ws}"), admin).await.json["status"], "active");
        // Read keys read but don't write.
        assert_eq!(app.get(&format!("/api/v1/workspaces/{ws}/content"), Auth::Bearer(&org.read_key)).await.status, 200);
        assert_eq!(
            app.post(&format!("/api/v1/workspaces/{ws}/content"), Auth::Bearer(&org.read_key), json!({ "title": "x" }))
                .await
                .code(),
            "insufficient_scope"
        );

        let actions = app.actions(&org.id).await;
        for a in [
            "workspace.member_added",
            "workspace.member_role_changed",
            "workspace.member_removed",
            "campaign.created",
            "campaign.updated",
            "content.created",
            "content.updated",
            "connection.created",
            "connection.updated",
            "media.uploaded",
            "media.deleted",
        ] {
            assert!(actions.contains(&a.to_owned()), "{a} missing");
        }
    }
}

#[tokio::test]
async fn dashboard_counts_what_the_guide_lists() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);
        // Wednesday 2026-11-25 12:00 UTC.
        let target = steward_core::time::Timestamp::parse_rfc3339("2026-11-25T12:00:00Z").unwrap();
        app.clock.advance_seconds((target.millis() - app.clock_now().millis()) / 1000);

        let a = create_ws(&app, &org, json!({ "name": "A" })).await["id"].as_str().unwrap().to_owned();
        let b = create_ws(&app, &org, json!({ "name": "B" })).await["id"].as_str().unwrap().to_owned();
        let archived = create_ws(&app, &org, json!({ "name": "Old" })).await["id"].as_str().unwrap().to_owned();
        app.post(&format!("/api/v1/workspaces/{archived}/archive"), admin, json!({})).await;
        campaign(&app, admin, &a, "1", "active").await;
        campaign(&app, admin, &a, "2", "active").await;
        campaign(&app, admin, &b, "3", "draft").await;
        let post = |ws: String| {
            let app = &app;
            async move {
                app.post(
                    &format!("/api/v1/workspaces/{ws}/content"),
                    admin,
                    json!({ "title": "P", "status": "published" }),
                )
                .await
            }
        };
        post(a.clone()).await;
        post(b.clone()).await;
        let gone = post(b.clone()).await.json["id"].as_str().unwrap().to_owned();
        app.delete(&format!("/api/v1/workspaces/{b}/content/{gone}"), admin).await;
        app.post(
            &format!("/api/v1/workspaces/{a}/connections"),
            admin,
            json!({ "platform": "x", "account_name": "@a" }),
        )
        .await;
        app.raw(
            Method::POST,
            &format!("/api/v1/workspaces/{a}/media?filename=f.bin"),
            admin,
            Some(&"z".repeat(2048)),
            "application/octet-stream",
        )
        .await;

        let d = app.get("/api/v1/organization/dashboard", admin).await;
        assert_eq!(d.status, 200, "{}", d.text);
        let want = json!({
            "total_workspaces": 2, "total_users": 2, "active_campaigns": 2, "campaigns_created_this_month": 3,
            "content_published_this_week": 2, "active_platform_connections": 1, "storage_bytes_used": 2048, "timezone": "UTC",
            "credit_balance": 0
        });
        assert_eq!(d.json, want);
        let r = app.get("/api/v1/organization/dashboard", Auth::Bearer(&org.member_token)).await;
        assert_eq!((r.status, r.code()), (403, "super_admin_required"));

        // The figures follow lifecycle steps and deletions.
        let figure = |d: &serde_json::Value, k: &str| d[k].as_i64().unwrap();
        app.post(&format!("/api/v1/workspaces/{a}/suspend"), admin, json!({})).await;
        let d = app.get("/api/v1/organization/dashboard", admin).await.json;
        assert_eq!((figure(&d, "active_campaigns"), figure(&d, "total_workspaces")), (0, 1));
        app.post(&format!("/api/v1/workspaces/{a}/reactivate"), admin, json!({})).await;
        assert_eq!(figure(&app.get("/api/v1/organization/dashboard", admin).await.json, "active_campaigns"), 2);
        let c = campaign(&app, admin, &b, "4", "active").await;
        app.patch(&format!("/api/v1/workspaces/{b}/campaigns/{c}"), admin, json!({ "status": "paused" })).await;
        let d = app.get("/api/v1/organization/dashboard", admin).await.json;
        assert_eq!((figure(&d, "active_campaigns"), figure(&d, "campaigns_created_this_month")), (2, 4));
        let slug = app.get(&format!("/api/v1/workspaces/{a}"), admin).await.json["slug"].as_str().unwrap().to_owned();
        assert_eq!(app.delete(&format!("/api/v1/workspaces/{a}?confirm={slug}"), admin).await.status, 204);
        let d = app.get("/api/v1/organization/dashboard", admin).await.json;
        assert_eq!(
            (
                figure(&d, "active_campaigns"),
                figure(&d, "campaigns_created_this_month"),
                figure(&d, "content_published_this_week")
            ),
            (0, 2, 1),
            "a deleted workspace's campaigns and content no longer count"
        );
        assert_eq!((figure(&d, "storage_bytes_used"), figure(&d, "active_platform_connections")), (0, 0));

        // Next Monday 00:30 UTC: a new week. In New York it is still Sunday, the old week.
        // (Days pass: the session expires, the API key doesn't.)
        let admin = Auth::Bearer(&org.admin_key);
        app.clock.advance_seconds(4 * 86400 + 12 * 3600 + 30 * 60);
        assert_eq!(app.get("/api/v1/organization/dashboard", admin).await.json["content_published_this_week"], 0);
        app.patch("/api/v1/organization", admin, json!({ "timezone": "America/New_York" })).await;
        let d = app.get("/api/v1/organization/dashboard", admin).await;
        assert_eq!(
            (d.json["content_published_this_week"].as_i64(), d.json["timezone"].as_str()),
            (Some(1), Some("America/New_York"))
        );
        // December 1st: a new month in UTC.
        app.patch("/api/v1/organization", admin, json!({ "timezone": "UTC" })).await;
        app.clock.advance_seconds(86400);
        assert_eq!(app.get("/api/v1/organization/dashboard", admin).await.json["campaigns_created_this_month"], 0);

        let r = app.patch("/api/v1/organization", admin, json!({ "timezone": "Nowhere/City" })).await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("timezone")));
    }
}
