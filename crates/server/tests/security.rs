//! SEC-1, SEC-2 and login throttling: the organization's policy applies on
//! every path that sets a password, timeouts come from its settings, and
//! repeated failures slow down and then lock an email, known or not.

mod common;

use common::{Auth, PASSWORD, TestApp};
use serde_json::json;

#[tokio::test]
async fn settings_have_safe_defaults_bounds_and_an_audit_trail() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);
        let s = app.get("/api/v1/security", admin).await;
        assert_eq!(
            s.json,
            json!({ "password_min_length": 15, "password_complexity": "off", "session_idle_timeout_minutes": 30,
                    "session_absolute_timeout_hours": 12, "two_factor": "optional" })
        );
        for (body, field) in [
            (json!({ "password_min_length": 3 }), "password_min_length"),
            (json!({ "password_min_length": 500 }), "password_min_length"),
            (json!({ "session_idle_timeout_minutes": -1 }), "session_idle_timeout_minutes"),
            (json!({ "session_absolute_timeout_hours": 0 }), "session_absolute_timeout_hours"),
            (json!({ "password_complexity": "extreme" }), "password_complexity"),
            (json!({ "two_factor": "maybe" }), "two_factor"),
            (
                json!({ "session_idle_timeout_minutes": 300, "session_absolute_timeout_hours": 2 }),
                "session_idle_timeout_minutes",
            ),
        ] {
            let r = app.patch("/api/v1/security", admin, body.clone()).await;
            assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some(field)), "{body}");
        }
        assert_eq!(app.get("/api/v1/security", admin).await.json, s.json, "nothing weakened by refused changes");
        let r =
            app.patch("/api/v1/security", Auth::Bearer(&org.member_token), json!({ "password_min_length": 8 })).await;
        assert_eq!(r.status, 403);
        let r = app.patch("/api/v1/security", Auth::Bearer(&org.read_key), json!({ "password_min_length": 8 })).await;
        assert_eq!(r.status, 403);
        assert_eq!(app.get("/api/v1/security", Auth::Bearer(&org.read_key)).await.status, 200);

        let r = app.patch("/api/v1/security", admin, json!({ "password_min_length": 20, "password_complexity": "strength", "session_idle_timeout_minutes": 10 })).await;
        assert_eq!((r.status, r.json["password_min_length"].as_i64()), (200, Some(20)));
        let events = app.get("/api/v1/audit-events?limit=1", admin).await;
        let e = &events.json["data"][0];
        assert_eq!(e["action"], "security.settings_updated");
        assert_eq!(e["changes"]["password_min_length"], json!({ "before": 15, "after": 20 }));
        assert_eq!(e["changes"]["password_complexity"], json!({ "before": "off", "after": "strength" }));

        // The shorter idle timeout applies to open sessions at once.
        app.clock.advance_seconds(11 * 60);
        assert_eq!(app.get("/api/v1/me", admin).await.code(), "session_expired");
        let fresh = app.login(&org.admin_email, PASSWORD).await;
        assert_eq!(fresh.status, 201);
        let t = fresh.json["token"].as_str().unwrap().to_owned();
        app.clock.advance_seconds(9 * 60);
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&t)).await.status, 200);
        app.clock.advance_seconds(11 * 60);
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&t)).await.code(), "session_expired");
    }
}

#[tokio::test]
async fn the_policy_applies_wherever_a_password_is_set() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_key);
        let invited =
            app.post("/api/v1/users", admin, json!({ "email": "nia@acme.example", "name": "Nia Novak" })).await;
        let token = invited.json["invite_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let accept = |pw: &str| {
            let app = &app;
            let url = format!("/api/v1/invitations/{token}/accept");
            let pw = pw.to_owned();
            async move { app.post(&url, Auth::None, json!({ "password": pw })).await }
        };
        let r = accept("short one").await;
        assert_eq!(
            (r.status, r.json["errors"][0]["code"].as_str()),
            (422, Some("too_short")),
            "the default minimum is 15"
        );
        app.patch("/api/v1/security", admin, json!({ "password_min_length": 8 })).await;
        for (pw, code) in [
            ("short", "too_short"),
            ("password1", "common_password"),
            ("1234567890123456", "too_predictable"),
            ("NiaNovakAcme2026!", "personal_words"),
            (&"Zq9!".repeat(33), "too_long"),
        ] {
            let r = accept(pw).await;
            assert_eq!(
                (r.status, r.json["errors"][0]["code"].as_str()),
                (422, Some(code)),
                "{}",
                &pw[..pw.len().min(20)]
            );
            assert!(!r.json["errors"][0]["message"].as_str().unwrap().is_empty());
        }
        // A 2 MB password never reaches the hasher: the body is refused as too large.
        let r = accept(&"x".repeat(2 * 1024 * 1024)).await;
        assert_eq!((r.status, r.code()), (413, "payload_too_large"));
        let r = accept("violet tractor mango quietly").await;
        assert_eq!(r.status, 200, "{}", r.text);

        // A stricter policy: character classes.
        app.patch("/api/v1/security", admin, json!({ "password_complexity": "classes", "password_min_length": 12 }))
            .await;
        // Through the service, as the console's account page calls it.
        let principal = steward_core::authz::Principal::session(
            org.id.parse().unwrap(),
            steward_core::ids::SessionId::new(),
            invited.json["user"]["id"].as_str().unwrap().parse().unwrap(),
            steward_core::people::OrgRole::Member,
            "nia@acme.example".into(),
        );
        let ctx =
            steward_server::services::Ctx { principal, meta: Default::default(), now: app.clock_now(), identity: None };
        let e = steward_server::services::people::change_own_password(
            app.db(),
            &ctx,
            "violet tractor mango quietly",
            "violet tractor mango",
        )
        .await
        .unwrap_err();
        assert_eq!(e.errors[0].code, "missing_character_classes");
        steward_server::services::people::change_own_password(
            app.db(),
            &ctx,
            "violet tractor mango quietly",
            "Violet tractor mango 7",
        )
        .await
        .unwrap();
        assert_eq!(app.login("nia@acme.example", "Violet tractor mango 7").await.status, 201);
    }
}

#[tokio::test]
async fn repeated_failures_slow_down_then_lock_known_and_unknown_emails_alike() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        for email in [org.admin_email.as_str(), "nobody@nowhere.example"] {
            // Two typos cost nothing; the third failure makes the next try wait.
            for _ in 0..3 {
                assert_eq!(app.login(email, "wrong password!!").await.code(), "invalid_credentials");
            }
            let r = app.login(email, PASSWORD).await;
            assert_eq!((r.status, r.code()), (429, "too_many_attempts"), "{email}");
            assert_eq!(r.headers["retry-after"], "2");
            for _ in 3..10 {
                app.clock.advance_seconds(10);
                assert_eq!(app.login(email, "wrong password!!").await.code(), "invalid_credentials");
            }
            // Ten failures within 15 minutes: locked, even with the right password.
            app.clock.advance_seconds(10);
            let r = app.login(email, PASSWORD).await;
            assert_eq!((r.status, r.code()), (429, "account_locked"), "{email}");
            assert!(r.json["detail"].as_str().unwrap().contains("Try again in 15 minutes"));
            app.clock.advance_seconds(15 * 60);
        }
        assert_eq!(app.login(&org.admin_email, PASSWORD).await.status, 201, "the lock ends");
        let actions = app.actions(&org.id).await;
        assert!(actions.contains(&"session.locked".to_owned()));
        assert!(actions.iter().filter(|a| *a == "session.failed").count() >= 10);
    }
}

#[tokio::test]
async fn sensitive_actions_need_a_fresh_proof_and_sessions_can_be_ended() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let ws =
            app.post("/api/v1/workspaces", Auth::Bearer(&org.admin_key), json!({ "name": "Client" })).await.json["id"]
                .as_str()
                .unwrap()
                .to_owned();
        // Eleven minutes after signing in (the session is kept alive meanwhile).
        let admin = Auth::Bearer(&org.admin_token);
        for _ in 0..11 {
            app.clock.advance_seconds(60);
            assert_eq!(app.get("/api/v1/me", admin).await.status, 200);
        }
        let sensitive = [
            app.delete(&format!("/api/v1/workspaces/{ws}?confirm=client"), admin).await,
            app.patch("/api/v1/security", admin, json!({ "password_min_length": 12 })).await,
            app.post("/api/v1/api-keys", admin, json!({ "name": "k", "scopes": ["read"] })).await,
            app.patch(&format!("/api/v1/users/{}", org.member_id), admin, json!({ "role": "super_admin" })).await,
        ];
        for r in &sensitive {
            assert_eq!((r.status, r.code()), (403, "reauthentication_required"), "{}", r.text);
        }
        // Not sensitive: still fine.
        assert_eq!(
            app.patch(&format!("/api/v1/users/{}", org.member_id), admin, json!({ "name": "Max M." })).await.status,
            200
        );
        let r =
            app.post("/api/v1/sessions/current/reauthenticate", admin, json!({ "password": "nope nope nope" })).await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("password")));
        assert_eq!(
            app.post("/api/v1/sessions/current/reauthenticate", admin, json!({ "password": PASSWORD })).await.status,
            204
        );
        assert_eq!(app.patch("/api/v1/security", admin, json!({ "password_min_length": 12 })).await.status, 200);
        assert_eq!(app.delete(&format!("/api/v1/workspaces/{ws}?confirm=client"), admin).await.status, 204);
        // API keys are their own proof.
        assert_eq!(
            app.post("/api/v1/api-keys", Auth::Bearer(&org.admin_key), json!({ "name": "k2", "scopes": ["read"] }))
                .await
                .status,
            201
        );

        // Sessions: see them, end one, end the others; a Super Admin ends someone's.
        let second = app.login(&org.admin_email, PASSWORD).await.json["token"].as_str().unwrap().to_owned();
        let third = app.login(&org.admin_email, PASSWORD).await.json["token"].as_str().unwrap().to_owned();
        let list = app.get("/api/v1/me/sessions", admin).await;
        let rows = list.json["data"].as_array().unwrap().clone();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows.iter().filter(|r| r["current"] == true).count(), 1);
        assert!(rows.iter().all(|r| r["user_agent"] == "steward-tests" && r["ip"] == "203.0.113.7"));
        let other = rows.iter().find(|r| r["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();
        assert_eq!(app.delete(&format!("/api/v1/me/sessions/{other}"), admin).await.status, 204);
        let r = app.post("/api/v1/me/sessions/end-others", admin, json!({})).await;
        assert_eq!(r.json["sessions_ended"], 1);
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&second)).await.status, 401);
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&third)).await.status, 401);
        assert_eq!(app.get("/api/v1/me", admin).await.status, 200, "the current session stays");
        // Someone else's session id is not found.
        let member_sessions = app.get("/api/v1/me/sessions", Auth::Bearer(&org.member_token)).await;
        let member_session = member_sessions.json["data"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(app.delete(&format!("/api/v1/me/sessions/{member_session}"), admin).await.status, 404);
        let r = app.post(&format!("/api/v1/users/{}/sessions/end", org.member_id), admin, json!({})).await;
        assert_eq!((r.status, r.json["sessions_ended"].as_i64()), (200, Some(1)));
        assert_eq!(app.get("/api/v1/me", Auth::Bearer(&org.member_token)).await.status, 401);
        let other_org = app.org("globex").await;
        let r = app
            .post(
                &format!("/api/v1/users/{}/sessions/end", org.member_id),
                Auth::Bearer(&other_org.admin_token),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 404);
        let actions = app.actions(&org.id).await;
        for a in ["session.reauthenticated", "session.ended", "user.sessions_ended"] {
            assert!(actions.contains(&a.to_owned()), "{a} missing");
        }
    }
}
