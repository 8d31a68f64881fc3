//! SEC-3: TOTP enrollment, sign-in with a code or a recovery code, replays
//! refused (even in parallel), Required mode, disabling, and a Super Admin's reset.

mod common;

use axum::http::Method;
use common::{Auth, PASSWORD, TestApp};
use serde_json::json;
use steward_core::two_factor::code_at;

fn secs(app: &TestApp) -> u64 {
    (app.clock_now().millis() / 1000) as u64
}

async fn login_with(app: &TestApp, email: &str, extra: serde_json::Value) -> common::Resp {
    let mut body = json!({ "email": email, "password": PASSWORD });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    app.post("/api/v1/sessions", Auth::None, body).await
}

#[tokio::test]
async fn enroll_sign_in_with_codes_and_refuse_replays() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let me = Auth::Bearer(&org.member_token);
        let start = app.post("/api/v1/me/two-factor/totp", me, json!({})).await;
        assert_eq!(start.status, 201, "{}", start.text);
        let secret = start.json["secret"].as_str().unwrap().to_owned();
        assert!(start.json["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/"));
        assert!(start.json["qr_svg"].as_str().unwrap().contains("<svg"));
        assert!(start.json["qr_data_url"].as_str().unwrap().starts_with("data:image/svg+xml;base64,"));

        let r = app.post("/api/v1/me/two-factor/totp/confirm", me, json!({ "code": "123" })).await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("code")));
        let wrong = if code_at(&secret, secs(&app)).unwrap() == "000000" { "111111" } else { "000000" };
        let r = app.post("/api/v1/me/two-factor/totp/confirm", me, json!({ "code": wrong })).await;
        assert_eq!((r.status, r.json["errors"][0]["code"].as_str()), (422, Some("wrong_code")));
        let r = app
            .post("/api/v1/me/two-factor/totp/confirm", me, json!({ "code": code_at(&secret, secs(&app)).unwrap() }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let codes: Vec<String> =
            r.json["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
        assert_eq!(codes.len(), 10);
        assert_eq!(app.post("/api/v1/me/two-factor/totp", me, json!({})).await.code(), "two_factor_already_enabled");

        // Sign-in asks for the second step.
        let email = "member@acme.example";
        let r = login_with(&app, email, json!({})).await;
        assert_eq!((r.status, r.code()), (401, "two_factor_required"));
        let r = login_with(&app, email, json!({ "totp_code": "12ab56" })).await;
        assert_eq!((r.status, r.code()), (401, "invalid_two_factor_code"));
        // The confirmation used the current step: the same code can't sign in.
        let used = code_at(&secret, secs(&app)).unwrap();
        assert_eq!(
            login_with(&app, email, json!({ "totp_code": used })).await.code(),
            "invalid_two_factor_code",
            "a used step is refused"
        );
        app.clock.advance_seconds(30);
        let code = code_at(&secret, secs(&app)).unwrap();
        // Two requests race with the same fresh code: exactly one wins.
        let (a, b) = tokio::join!(
            login_with(&app, email, json!({ "totp_code": code })),
            login_with(&app, email, json!({ "totp_code": code }))
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [201, 401], "{} / {}", a.text, b.text);

        // Recovery codes work once, in any case and spacing.
        app.clock.advance_seconds(60);
        let r = login_with(&app, email, json!({ "recovery_code": codes[0].to_uppercase() })).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let r = login_with(&app, email, json!({ "recovery_code": codes[0] })).await;
        assert_eq!(r.code(), "invalid_two_factor_code");
        let actions = app.actions(&org.id).await;
        assert!(actions.contains(&"two_factor.enabled".into()));
    }
}

#[tokio::test]
async fn required_mode_allows_only_enrollment_until_done() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_key);
        let r = app.patch("/api/v1/security", admin, json!({ "two_factor": "required" })).await;
        assert_eq!(
            (r.status, r.json["password_min_length"].as_i64()),
            (200, Some(8)),
            "8 characters suffice with a second factor"
        );

        // The member's session now reaches only enrollment.
        let me = Auth::Bearer(&org.member_token);
        for (method, path) in [(Method::GET, "/api/v1/me"), (Method::GET, "/api/v1/workspaces")] {
            let r = app.call(method, path, me, None).await;
            assert_eq!((r.status, r.code()), (403, "two_factor_enrollment_required"), "{path}");
        }
        let page = app.get("/w", Auth::Cookie { token: &org.member_token, csrf: None }).await;
        assert_eq!((page.status, page.headers["location"].to_str().unwrap()), (303, "/account/two-factor"));
        let start = app.post("/api/v1/me/two-factor/totp", me, json!({})).await;
        assert_eq!(start.status, 201);
        let secret = start.json["secret"].as_str().unwrap().to_owned();
        let r = app
            .post("/api/v1/me/two-factor/totp/confirm", me, json!({ "code": code_at(&secret, secs(&app)).unwrap() }))
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(app.get("/api/v1/me", me).await.status, 200, "enrolled: the session works again");

        // Can't turn it off while required; can when optional, with the password.
        let r = app.post("/api/v1/me/two-factor/disable", me, json!({ "password": PASSWORD })).await;
        assert_eq!((r.status, r.code()), (409, "two_factor_required_by_organization"));
        let r = app.patch("/api/v1/security", admin, json!({ "two_factor": "optional" })).await;
        assert_eq!(r.json["password_min_length"], 15, "back to 15 with a password alone");
        let r = app.post("/api/v1/me/two-factor/disable", me, json!({ "password": "not my password" })).await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("password")));

        // A Super Admin resets it instead: the member's sessions end, and they sign in with the password alone.
        let r = app
            .post(
                &format!("/api/v1/users/{}/two-factor/reset", org.member_id),
                Auth::Bearer(&org.admin_token),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
        assert_eq!(app.get("/api/v1/me", me).await.status, 401);
        let again = app.login("member@acme.example", PASSWORD).await;
        assert_eq!(again.status, 201);
        let member_now = again.json["token"].as_str().unwrap().to_owned();
        let r = app
            .post(
                &format!("/api/v1/users/{}/two-factor/reset", org.member_id),
                Auth::Bearer(&org.admin_token),
                json!({}),
            )
            .await;
        assert_eq!((r.status, r.code()), (409, "two_factor_not_enabled"));
        let r = app
            .post(&format!("/api/v1/users/{}/two-factor/reset", org.admin_id), Auth::Bearer(&member_now), json!({}))
            .await;
        assert_eq!(r.status, 403);
        let actions = app.actions(&org.id).await;
        assert!(actions.contains(&"two_factor.reset".into()));
    }
}

/// TOTP secrets are sealed at rest under the deployment's key; a database set
/// up with one key refuses another; secrets stored before sealing get sealed
/// and keep working.
#[tokio::test]
async fn secrets_are_sealed_at_rest_under_one_key() {
    use steward_core::sealing::Sealer;
    use steward_server::services::two_factor::prepare_sealing;
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let me = Auth::Bearer(&org.member_token);
        let secret =
            app.post("/api/v1/me/two-factor/totp", me, json!({})).await.json["secret"].as_str().unwrap().to_owned();
        let stored = || async {
            let mut c = app.db().conn().await.unwrap();
            let s: String = sqlx::query_scalar("SELECT secret FROM totp_factors WHERE user_id = $1")
                .bind(&org.member_id)
                .fetch_one(&mut *c)
                .await
                .unwrap();
            s
        };
        let sealed = stored().await;
        assert!(sealed.starts_with("v1.") && !sealed.contains(&secret), "stored sealed: {sealed}");
        let r = app
            .post("/api/v1/me/two-factor/totp/confirm", me, json!({ "code": code_at(&secret, secs(&app)).unwrap() }))
            .await;
        assert_eq!(r.status, 200, "the sealed secret opens: {}", r.text);

        // The first start records the key; the same key passes, another is refused.
        let key = &app.state.sealer;
        assert_eq!(prepare_sealing(app.db(), key, app.clock_now()).await.unwrap(), 0);
        assert_eq!(prepare_sealing(app.db(), key, app.clock_now()).await.unwrap(), 0);
        let other = Sealer::from_base64(&Sealer::generate_key()).unwrap();
        let refused = prepare_sealing(app.db(), &other, app.clock_now()).await.unwrap_err();
        assert_eq!(refused.code, "sealing_key_mismatch");

        // A secret stored in plaintext (before sealing) is sealed at start and still signs in.
        let mut c = app.db().conn().await.unwrap();
        sqlx::query("UPDATE totp_factors SET secret = $2 WHERE user_id = $1")
            .bind(&org.member_id)
            .bind(&secret)
            .execute(&mut *c)
            .await
            .unwrap();
        drop(c);
        assert_eq!(prepare_sealing(app.db(), key, app.clock_now()).await.unwrap(), 1);
        assert!(stored().await.starts_with("v1."));
        app.clock.advance_seconds(30);
        let r = login_with(&app, "member@acme.example", json!({ "totp_code": code_at(&secret, secs(&app)).unwrap() }))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
}
