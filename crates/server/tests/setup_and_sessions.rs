//! PEOPLE-3 (one-time setup), sign-in, cookies with CSRF, sign-out, expiry.

mod common;

use axum::http::Method;
use common::{Auth, PASSWORD, TestApp};
use serde_json::json;
use steward_server::services::setup;

#[tokio::test]
async fn setup_creates_the_first_org_once() {
    for app in TestApp::all().await {
        let token =
            setup::prepare_token(app.db(), app.clock_now()).await.unwrap().expect("a token while no org exists");
        let body = |token: &str| {
            json!({
                "token": token, "organization_name": "Acme Agency", "admin_name": "Ada",
                "admin_email": "Ada@Acme.example", "admin_password": PASSWORD
            })
        };
        let wrong = app.post("/api/v1/setup", Auth::None, body("not-the-token")).await;
        assert_eq!((wrong.status, wrong.code()), (403, "invalid_setup_token"), "{}", wrong.text);

        let bad = app.post("/api/v1/setup", Auth::None, json!({"token": token, "organization_name": "", "admin_name": "A", "admin_email": "nope", "admin_password": "short"})).await;
        assert_eq!(bad.status, 422);
        let fields: Vec<&str> =
            bad.json["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["organization_name", "admin_email", "admin_password"]);

        let ok = app.post("/api/v1/setup", Auth::None, body(&token)).await;
        assert_eq!(ok.status, 201, "{}", ok.text);
        assert_eq!(ok.json["organization"]["slug"], "acme-agency");
        assert_eq!(ok.json["admin"]["role"], "super_admin");
        assert_eq!(ok.json["admin"]["email"], "ada@acme.example");

        let again = app.post("/api/v1/setup", Auth::None, body(&token)).await;
        assert_eq!((again.status, again.code()), (409, "setup_already_completed"));
        assert!(
            setup::prepare_token(app.db(), app.clock_now()).await.unwrap().is_none(),
            "no new token once an org exists"
        );

        let org_id = ok.json["organization"]["id"].as_str().unwrap();
        assert_eq!(app.actions(org_id).await, ["organization.created", "user.created"]);

        // The setup page is a form while setup is pending, and says it's done after.
        let page = app.get("/setup?token=x", Auth::None).await;
        assert_eq!(page.status, 409);
        assert!(page.text.contains("already set up"));
    }
}

#[tokio::test]
async fn the_setup_form_works_in_html() {
    for app in TestApp::all().await {
        let token = setup::prepare_token(app.db(), app.clock_now()).await.unwrap().unwrap();
        let page = app.get(&format!("/setup?token={token}"), Auth::None).await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("name=\"organization_name\"") && page.text.contains(&token));
        let form = format!(
            "token={token}&organization_name=Globex&organization_slug=&admin_name=Gil&admin_email=gil%40globex.example&admin_password=x"
        );
        let res = app.raw(Method::POST, "/setup", Auth::None, Some(&form), "application/x-www-form-urlencoded").await;
        assert_eq!(res.status, 422);
        assert!(res.text.contains("Password is shorter than 15 characters"), "the error is shown next to the field");
        let form = form.replace("admin_password=x", "admin_password=correct+horse+battery+staple");
        let res = app.raw(Method::POST, "/setup", Auth::None, Some(&form), "application/x-www-form-urlencoded").await;
        assert_eq!(res.status, 201, "{}", res.text);
        assert!(res.headers["set-cookie"].to_str().unwrap().starts_with("steward_session="));
        assert!(app.login("gil@globex.example", PASSWORD).await.status == 201);
    }
}

#[tokio::test]
async fn sign_in_cookie_csrf_sign_out_and_expiry() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;

        let bad = app.login(&org.admin_email, "wrong password!").await;
        assert_eq!((bad.status, bad.code()), (401, "invalid_credentials"));
        let unknown = app.login("nobody@nowhere.example", "wrong password!").await;
        assert_eq!(
            (unknown.status, unknown.json["detail"].clone()),
            (401, bad.json["detail"].clone()),
            "unknown and known emails answer alike"
        );
        assert!(app.actions(&org.id).await.contains(&"session.failed".to_owned()));

        let login = app.login(&org.admin_email, PASSWORD).await;
        assert_eq!(login.status, 201);
        let cookie = login.headers["set-cookie"].to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"));
        let token = login.json["token"].as_str().unwrap();
        let csrf = login.json["csrf_token"].as_str().unwrap();

        let me = app.get("/api/v1/me", Auth::Cookie { token, csrf: None }).await;
        assert_eq!((me.status, me.json["user"]["email"].as_str()), (200, Some(org.admin_email.as_str())));

        // Cookie writes need the CSRF token.
        let body = json!({ "description": "via cookie" });
        let no_csrf = app.patch("/api/v1/organization", Auth::Cookie { token, csrf: None }, body.clone()).await;
        assert_eq!((no_csrf.status, no_csrf.code()), (403, "csrf_token_invalid"));
        let wrong = app.patch("/api/v1/organization", Auth::Cookie { token, csrf: Some("nope") }, body.clone()).await;
        assert_eq!(wrong.status, 403);
        let ok = app.patch("/api/v1/organization", Auth::Cookie { token, csrf: Some(csrf) }, body).await;
        assert_eq!((ok.status, ok.json["description"].as_str()), (200, Some("via cookie")));

        // Keys are refused in the query string.
        let q = app.get(&format!("/api/v1/me?api_key={}", org.admin_key), Auth::None).await;
        assert_eq!((q.status, q.code()), (400, "credentials_in_query"));

        // Sign out ends the session.
        let out = app.delete("/api/v1/sessions/current", Auth::Bearer(token)).await;
        assert_eq!(out.status, 204);
        assert!(out.headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(token)).await.status, 401);

        // Idle timeout: 29 minutes of use keeps a session alive; 31 idle minutes end it.
        let t2 = app.login(&org.admin_email, PASSWORD).await.json["token"].as_str().unwrap().to_owned();
        app.clock.advance_seconds(29 * 60);
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&t2)).await.status, 200);
        app.clock.advance_seconds(29 * 60);
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&t2)).await.status, 200, "use slides the idle timeout");
        app.clock.advance_seconds(31 * 60);
        let expired = app.get("/api/v1/me", Auth::Bearer(&t2)).await;
        assert_eq!((expired.status, expired.code()), (401, "session_expired"));

        // Absolute lifetime: 12 hours, however active.
        let t3 = app.login(&org.admin_email, PASSWORD).await.json["token"].as_str().unwrap().to_owned();
        for _ in 0..26 {
            app.clock.advance_seconds(29 * 60);
            let _ = app.get("/api/v1/me", Auth::Bearer(&t3)).await;
        }
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&t3)).await.code(), "session_expired");

        let actions = app.actions(&org.id).await;
        for a in ["session.created", "session.ended", "organization.updated"] {
            assert!(actions.contains(&a.to_owned()), "{a} missing from {actions:?}");
        }
    }
}

#[tokio::test]
async fn health_and_readiness() {
    for app in TestApp::all().await {
        let h = app.get("/healthz", Auth::None).await;
        assert_eq!((h.status, h.json["status"].as_str()), (200, Some("ok")));
        let r = app.get("/readyz", Auth::None).await;
        assert_eq!((r.status, r.json["status"].as_str()), (200, Some("ready")));
        assert_eq!(r.json["database"], app.engine.name());
        app.db().close().await;
        let down = app.get("/readyz", Auth::None).await;
        assert_eq!((down.status, down.code()), (503, "database_unavailable"));
    }
}

#[tokio::test]
async fn console_pages_send_expired_sessions_to_sign_in() {
    let app = TestApp::on(steward_store::testing::sqlite().await);
    let org = app.org("acme").await;
    let stale = app.get("/settings/organization", Auth::Cookie { token: "not-a-session", csrf: None }).await;
    assert_eq!(stale.status, 303);
    assert_eq!(stale.headers["location"], "/login?next=/settings/organization&expired=1");
    let none = app.get("/settings/organization", Auth::None).await;
    assert_eq!(none.headers["location"], "/login?next=/settings/organization");
    let page = app.get("/login?next=/settings/organization&expired=1", Auth::None).await;
    assert!(page.text.contains("Your session expired"));
    // A valid cookie reaches the page; the idle timeout ends it.
    let ok = app.get("/settings/organization", Auth::Cookie { token: &org.admin_token, csrf: None }).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(ok.text.contains("data-metric=\"total_users\""));
    // Members get a page that says whom to ask.
    let member = app.get("/settings/organization", Auth::Cookie { token: &org.member_token, csrf: None }).await;
    assert_eq!(member.status, 403);
    assert!(member.text.contains(&org.admin_email));
    // Console forms need the session's CSRF token.
    let res = app
        .raw(
            Method::POST,
            "/settings/organization/details",
            Auth::Cookie { token: &org.member_token, csrf: None },
            Some("name=x"),
            "application/x-www-form-urlencoded",
        )
        .await;
    assert_eq!(res.status, 403);
    app.clock.advance_seconds(31 * 60);
    let expired = app.get("/settings/organization", Auth::Cookie { token: &org.admin_token, csrf: None }).await;
    assert_eq!(expired.headers["location"], "/login?next=/settings/organization&expired=1");
}
