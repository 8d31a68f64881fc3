//! The console's forms over HTTP (the browser suite walks the main path; this
//! covers every other form): CSRF, validation next to the field, effects.

mod common;

use axum::http::Method;
use common::{Auth, PASSWORD, TestApp, csrf_of};
use serde_json::json;

/// The CSRF token of a console page, read from its hidden field.
#[tokio::test]
async fn every_console_form_works_and_checks_its_token() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let cookie = Auth::Cookie { token: &org.admin_token, csrf: None };
        let page = app.get("/settings/organization/people", cookie).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let csrf = csrf_of(&page.text);
        let form = |path: &str, body: String| {
            let app = &app;
            let path = path.to_owned();
            async move { app.raw(Method::POST, &path, cookie, Some(&body), "application/x-www-form-urlencoded").await }
        };

        // A wrong token changes nothing.
        let r = form(
            &format!("/settings/organization/people/{}/role", org.member_id),
            "csrf_token=nope&role=super_admin".into(),
        )
        .await;
        assert_eq!(r.status, 403);
        assert_eq!(
            app.get(&format!("/api/v1/users/{}", org.member_id), Auth::Bearer(&org.admin_key)).await.json["role"],
            "member"
        );

        // People: change a role, deactivate, reactivate; the last Super Admin is protected.
        let r = form(
            &format!("/settings/organization/people/{}/role", org.member_id),
            format!("csrf_token={csrf}&role=super_admin"),
        )
        .await;
        assert_eq!(
            (r.status, r.headers["location"].to_str().unwrap()),
            (303, "/settings/organization/people?notice=role_changed")
        );
        assert_eq!(
            app.get(&format!("/api/v1/users/{}", org.member_id), Auth::Bearer(&org.admin_key)).await.json["role"],
            "super_admin"
        );
        let r = form(
            &format!("/settings/organization/people/{}/role", org.member_id),
            format!("csrf_token={csrf}&role=member"),
        )
        .await;
        assert_eq!(r.status, 303);
        let r = form(
            &format!("/settings/organization/people/{}/role", org.admin_id),
            format!("csrf_token={csrf}&role=member"),
        )
        .await;
        assert_eq!(r.status, 409);
        assert!(r.text.contains("only active Super Admin"), "the refusal is explained on the page");
        let r = form(
            &format!("/settings/organization/people/{}/status", org.member_id),
            format!("csrf_token={csrf}&status=deactivated"),
        )
        .await;
        assert_eq!(r.status, 303);
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&org.member_token)).await.status, 401, "their sessions ended");
        let r = form(
            &format!("/settings/organization/people/{}/status", org.member_id),
            format!("csrf_token={csrf}&status=active"),
        )
        .await;
        assert_eq!(r.status, 303);

        // Sign someone out everywhere; reset 2FA (refused when they have none).
        let member_session =
            app.login("member@acme.example", PASSWORD).await.json["token"].as_str().unwrap().to_owned();
        let r =
            form(&format!("/settings/organization/people/{}/sign-out", org.member_id), format!("csrf_token={csrf}"))
                .await;
        assert_eq!(r.status, 303);
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&member_session)).await.status, 401);
        let r =
            form(&format!("/settings/organization/people/{}/reset-2fa", org.member_id), format!("csrf_token={csrf}"))
                .await;
        assert_eq!(r.status, 409);
        assert!(r.text.contains("not on for this account"));

        // Invite with a workspace, then resend.
        let ws =
            app.post("/api/v1/workspaces", Auth::Bearer(&org.admin_key), json!({ "name": "Client" })).await.json["id"]
                .as_str()
                .unwrap()
                .to_owned();
        let r = form(
            "/settings/organization/people",
            format!("csrf_token={csrf}&email=new%40acme.example&name=&role=member&workspace={ws}&role_{ws}=viewer"),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("/invitations/"), "the link is shown once");
        let members = app.get(&format!("/api/v1/workspaces/{ws}/members"), Auth::Bearer(&org.admin_key)).await;
        assert_eq!(members.json["data"][0]["role"], "viewer");
        let r =
            form("/settings/organization/people", format!("csrf_token={csrf}&email=not-an-email&role=member")).await;
        assert_eq!(r.status, 422);
        assert!(r.text.contains("Email is not an email address. Enter one such as ana@example.com."));
        let new_id = members.json["data"][0]["user_id"].as_str().unwrap().to_owned();
        let r = form(&format!("/settings/organization/people/{new_id}/resend"), format!("csrf_token={csrf}")).await;
        assert!(r.status == 200 && r.text.contains("/invitations/"));

        // Workspace members: add, change, remove.
        let base = format!("/settings/organization/workspaces/{ws}");
        let r =
            form(&format!("{base}/members"), format!("csrf_token={csrf}&user_id={}&role=editor", org.member_id)).await;
        assert_eq!(r.status, 303, "{}", r.text);
        let r = form(&format!("{base}/members/{}", org.member_id), format!("csrf_token={csrf}&role=admin")).await;
        assert_eq!(r.status, 303);
        let page = app.get(&base, cookie).await;
        assert!(page.text.contains("data-member=\"member@acme.example\""));
        let r = form(&format!("{base}/members/{}/remove", org.member_id), format!("csrf_token={csrf}")).await;
        assert_eq!(r.status, 303);
        // Edit with a bad time zone: the error sits next to the field.
        let r = form(
            &format!("{base}/edit"),
            format!("csrf_token={csrf}&name=Client&slug=client&description=&timezone=Mars%2FBase&default_language=en"),
        )
        .await;
        assert_eq!(r.status, 422);
        assert!(
            r.text.contains("aria-invalid=\"true\"")
                && r.text.contains("Time zone is not a time zone Steward knows. Use an IANA name")
        );
        // Delete needs the slug.
        let r = form(&format!("{base}/delete"), format!("csrf_token={csrf}&confirm=wrong")).await;
        assert_eq!(r.status, 422);
        assert_eq!(app.get(&format!("/api/v1/workspaces/{ws}"), Auth::Bearer(&org.admin_key)).await.status, 200);

        // The audit log page: filters as form controls, rows, export links.
        let audit = app.get("/settings/organization/audit?action=workspace.*", cookie).await;
        assert_eq!(audit.status, 200, "{}", audit.text);
        for control in ["name=\"from\"", "name=\"to\"", "name=\"actor\"", "name=\"action\"", "name=\"workspace\""] {
            assert!(audit.text.contains(control), "{control}");
        }
        assert!(
            audit.text.contains("data-action=\"workspace.created\"")
                && !audit.text.contains("data-action=\"user.invited\"")
        );
        assert!(audit.text.contains("/api/v1/audit-events/export?format=csv"));
        // People and workspaces are typed (email, slug), with suggestions.
        assert!(audit.text.contains("<option value=\"admin@acme.example\">"), "people are suggested by email");
        assert!(audit.text.contains("<option value=\"client\">Client</option>"), "workspaces by slug");
        let by_admin = app.get("/settings/organization/audit?actor=Admin%40acme.example", cookie).await;
        assert!(by_admin.text.contains("data-action=\"user.role_changed\""), "{}", by_admin.text);
        assert!(!by_admin.text.contains("data-action=\"workspace.created\""), "the key created the workspace");
        assert!(by_admin.text.contains(&format!("actor={}", org.admin_id)), "exports get the resolved id");
        let in_client = app.get("/settings/organization/audit?workspace=client", cookie).await;
        assert!(in_client.text.contains("data-action=\"workspace.created\""));
        assert!(!in_client.text.contains("data-action=\"user.role_changed\""));
        assert!(in_client.text.contains("<td>Client</td>"), "rows name their workspace");
        let nobody = app.get("/settings/organization/audit?actor=nobody%40acme.example", cookie).await;
        assert!(
            nobody.text.contains("User names no one in this organization: no one has the email nobody@acme.example."),
            "the filter is named by its label, with what to do: {}",
            nobody.text
        );
        // A deleted workspace keeps its name in the log, from its deletion event.
        let key = Auth::Bearer(&org.admin_key);
        let gone = app.post("/api/v1/workspaces", key, json!({ "name": "Gone Soon" })).await.json["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(app.delete(&format!("/api/v1/workspaces/{gone}?confirm=gone-soon"), key).await.status, 204);
        let after = app.get("/settings/organization/audit?action=workspace.*", cookie).await;
        assert!(after.text.contains("<td>Gone Soon (deleted)</td>"), "{}", after.text);
        assert!(after.text.contains("<td>Workspace deleted <span"), "action types read as words: {}", after.text);
        let shown = after.text.matches("data-action=\"workspace.").count();
        assert!(
            after.text.contains(&format!("{shown} events match; newest first")),
            "the page counts what matches ({shown} shown): {}",
            after.text
        );
        assert!(after.text.contains("<option value=\"api_key.*\">API key</option>"), "groups read as words");
        let nowhere = app.get("/settings/organization/audit?workspace=nowhere", cookie).await;
        assert!(nowhere.text.contains("Workspace names no workspace of this organization: none has the slug nowhere."));
        assert!(!nowhere.text.contains("workspace: "), "no field name in developer form");
        // A filter that doesn't resolve offers no export (it would hold every workspace's events).
        assert!(!nowhere.text.contains("/api/v1/audit-events/export") && nowhere.text.contains("id=\"no-export\""));
        let api = app.get("/api/v1/audit-events/export?format=csv&workspace=nowhere", key).await;
        assert_eq!(api.status, 422, "the API refuses rather than widening: {}", api.text);
        // A deleted workspace can still be filtered by: it is suggested by id.
        assert!(
            after.text.contains(&format!("<option value=\"{gone}\">Gone Soon (deleted)</option>")),
            "{}",
            after.text
        );
        let by_gone = app.get(&format!("/settings/organization/audit?workspace={gone}"), cookie).await;
        assert!(by_gone.text.contains("data-action=\"workspace.deleted\""), "{}", by_gone.text);
        assert!(!by_gone.text.contains("data-action=\"user.role_changed\""));
        assert!(by_gone.text.contains(&format!("workspace={gone}")), "the export keeps the filter");

        // Pages carry the idle timeout for the "you will be signed out" warning.
        let account = app.get("/account", cookie).await;
        assert!(account.text.contains("data-idle-seconds=\"1800\"") && account.text.contains("id=\"idle-warning\""));
        assert!(account.text.contains("Where you're signed in") && account.text.contains("This device"));

        // Account: name and password (the other sessions end).
        let other = app.login(&org.admin_email, PASSWORD).await.json["token"].as_str().unwrap().to_owned();
        let r = form("/account", format!("csrf_token={csrf}&name=Ada+Lovelace")).await;
        assert_eq!(r.status, 303);
        let r = form(
            "/account/password",
            format!("csrf_token={csrf}&current_password=wrong&new_password=another+long+passphrase"),
        )
        .await;
        assert_eq!(r.status, 422);
        assert!(r.text.contains("is not your current password"));
        let r = form(
            "/account/password",
            format!(
                "csrf_token={csrf}&current_password=correct+horse+battery+staple&new_password=another+long+passphrase"
            ),
        )
        .await;
        assert_eq!(r.status, 303);
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&other)).await.status, 401);
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&org.admin_token)).await.json["user"]["name"], "Ada Lovelace");
        assert_eq!(app.login(&org.admin_email, "another long passphrase").await.status, 201);
        let actions = app.actions(&org.id).await;
        assert!(actions.contains(&"user.password_changed".into()) && actions.contains(&"user.updated".into()));
    }
}

/// A workspace's lists page on their own: each has Next and First page links
/// that move it and keep the others where they are.
#[tokio::test]
async fn a_workspace_page_pages_each_of_its_lists() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let key = Auth::Bearer(&org.admin_key);
        let ws = app.post("/api/v1/workspaces", key, json!({ "name": "Busy" })).await.json["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for i in 0..30 {
            let r = app
                .post(&format!("/api/v1/workspaces/{ws}/campaigns"), key, json!({ "name": format!("Campaign {i:02}") }))
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
        }
        let cookie = Auth::Cookie { token: &org.admin_token, csrf: None };
        let base = format!("/settings/organization/workspaces/{ws}");
        let first = app.get(&base, cookie).await;
        assert_eq!(first.status, 200, "{}", first.text);
        let shown = |html: &str| (0..30).filter(|i| html.contains(&format!("<td>Campaign {i:02}</td>"))).count();
        assert_eq!(shown(&first.text), 25, "a page holds 25 rows");
        let next =
            first.text.split("href=\"?campaigns=").nth(1).and_then(|r| r.split('"').next()).expect("a Next page link");
        let second = app.get(&format!("{base}?campaigns={}", next.replace("&amp;", "&")), cookie).await;
        assert_eq!(shown(&second.text), 5, "the rest on the next page");
        assert!(
            second.text.contains("First page") && !second.text.contains("?campaigns="),
            "no Next after the last page"
        );
        assert!(!first.text.contains("Pages of members"), "a short list has no pager");
        let bad = app.get(&format!("{base}?campaigns=not-a-cursor"), cookie).await;
        assert_eq!((bad.status, shown(&bad.text)), (200, 25), "an edited cursor starts the list over");
    }
}

/// TROUBLE-1: a refusal says why and what to do, naming the field as the
/// reader knows it: by its label in the console, by its JSON name in the API;
/// the console's banner points at the fields instead of repeating them.
#[tokio::test]
async fn refusals_name_the_field_by_its_label_in_the_console_and_its_json_name_in_the_api() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let cookie = Auth::Cookie { token: &org.admin_token, csrf: None };
        let page = app.get("/settings/organization/security", cookie).await;
        let csrf = csrf_of(&page.text);
        let body = format!(
            "csrf_token={csrf}&password_min_length=3&password_complexity=off&session_idle_timeout_minutes=soon\
             &session_absolute_timeout_hours=12&two_factor=optional"
        );
        let r = app
            .raw(
                Method::POST,
                "/settings/organization/security",
                cookie,
                Some(&body),
                "application/x-www-form-urlencoded",
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(
            r.text.contains("Sign out after inactivity is not a whole number. Enter digits only"),
            "a field the console parses is named by its label: {}",
            r.text
        );
        assert!(!r.text.contains("password_min_length:") && !r.text.contains("`password_min_length`"), "{}", r.text);

        let r = app
            .raw(
                Method::POST,
                "/settings/organization/security",
                cookie,
                Some(&body.replace("=soon", "=30")),
                "application/x-www-form-urlencoded",
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(
            r.text.contains("Minimum length is outside 8 to 128 characters. Enter a value in that range."),
            "{}",
            r.text
        );
        assert!(r.text.contains("Nothing was saved: correct the field marked below"), "the banner points at the field");
        assert_eq!(r.text.matches("is outside 8 to 128").count(), 1, "the message is not repeated in the banner");

        let api =
            app.patch("/api/v1/security", Auth::Bearer(&org.admin_key), json!({ "password_min_length": 3 })).await;
        assert_eq!(api.status, 422);
        assert_eq!(api.json["code"], "validation_failed");
        assert_eq!(api.json["errors"][0]["code"], "out_of_range");
        assert_eq!(
            api.json["errors"][0]["message"],
            "`password_min_length` is outside 8 to 128 characters. Enter a value in that range."
        );
        assert_eq!(api.json["detail"], api.json["errors"][0]["message"], "one field: the detail is its message");
    }
}
