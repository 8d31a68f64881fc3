//! PEOPLE-1 and TROUBLE-2: invitations, roles, deactivation, the last Super Admin.

mod common;

use common::{Auth, PASSWORD, TestApp};
use serde_json::json;

fn token_of(invite_url: &str) -> String {
    invite_url.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn invite_accept_sign_in() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);
        let res = app
            .post("/api/v1/users", admin, json!({ "email": "Nia@Acme.example", "name": "Nia", "role": "super_admin" }))
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        assert_eq!(res.json["user"]["status"], "invited");
        assert_eq!(res.json["user"]["email"], "nia@acme.example");
        let url = res.json["invite_url"].as_str().unwrap();
        assert!(url.starts_with("http://steward.test/invitations/"));
        let nia = res.json["user"]["id"].as_str().unwrap().to_owned();

        // Not active yet: can't sign in, can't be set active by hand.
        assert_eq!(app.login("nia@acme.example", PASSWORD).await.status, 401);
        let r = app.patch(&format!("/api/v1/users/{nia}"), admin, json!({ "status": "active" })).await;
        assert_eq!((r.status, r.code()), (409, "invitation_pending"));

        // The invitation page shows who is invited.
        let page = app.get(&format!("/invitations/{}", token_of(url)), Auth::None).await;
        assert!(page.status == 200 && page.text.contains("nia@acme.example") && page.text.contains("Org acme"));

        let weak = app
            .post(&format!("/api/v1/invitations/{}/accept", token_of(url)), Auth::None, json!({ "password": "short" }))
            .await;
        assert_eq!((weak.status, weak.json["errors"][0]["field"].as_str()), (422, Some("password")));
        let ok = app
            .post(
                &format!("/api/v1/invitations/{}/accept", token_of(url)),
                Auth::None,
                json!({ "password": PASSWORD, "name": "Nia N." }),
            )
            .await;
        assert_eq!(ok.status, 200, "{}", ok.text);
        assert_eq!(
            (ok.json["user"]["status"].as_str(), ok.json["user"]["name"].as_str()),
            (Some("active"), Some("Nia N."))
        );
        let again = app
            .post(&format!("/api/v1/invitations/{}/accept", token_of(url)), Auth::None, json!({ "password": PASSWORD }))
            .await;
        assert_eq!((again.status, again.code()), (404, "invitation_not_found"));
        let login = app.login("nia@acme.example", PASSWORD).await;
        assert_eq!((login.status, login.json["user"]["role"].as_str()), (201, Some("super_admin")));

        // Duplicate and invalid invitations.
        let dup = app.post("/api/v1/users", admin, json!({ "email": "nia@acme.example" })).await;
        assert_eq!((dup.status, dup.code()), (409, "email_taken"));
        let bad = app.post("/api/v1/users", admin, json!({ "email": "not-an-email", "role": "owner" })).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.json["errors"].as_array().unwrap().len(), 2);

        let list = app.get("/api/v1/users?limit=2", admin).await;
        assert_eq!(list.json["data"].as_array().unwrap().len(), 2);
        let next = list.json["next_cursor"].as_str().unwrap();
        let rest = app.get(&format!("/api/v1/users?limit=2&cursor={next}"), admin).await;
        assert_eq!(rest.json["data"].as_array().unwrap().len(), 1);
        assert!(rest.json["next_cursor"].is_null());

        let actions = app.actions(&org.id).await;
        assert!(
            actions.ends_with(&["user.invited".into(), "invitation.accepted".into(), "session.created".into()]),
            "{actions:?}"
        );
    }
}

#[tokio::test]
async fn expired_and_resent_invitations() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);
        let res = app.post("/api/v1/users", admin, json!({ "email": "late@acme.example" })).await;
        let id = res.json["user"]["id"].as_str().unwrap().to_owned();
        let old = token_of(res.json["invite_url"].as_str().unwrap());
        app.clock.advance_seconds(73 * 3600);
        let late =
            app.post(&format!("/api/v1/invitations/{old}/accept"), Auth::None, json!({ "password": PASSWORD })).await;
        assert_eq!((late.status, late.code()), (410, "invitation_expired"));
        let page = app.get(&format!("/invitations/{old}"), Auth::None).await;
        assert!(page.status == 410 && page.text.contains("has expired"));

        // The admin signs in again (their session expired too) and resends.
        let admin_token = app.login(&org.admin_email, PASSWORD).await.json["token"].as_str().unwrap().to_owned();
        let resent = app.post(&format!("/api/v1/users/{id}/invitation"), Auth::Bearer(&admin_token), json!({})).await;
        assert_eq!(resent.status, 201, "{}", resent.text);
        let new = token_of(resent.json["invite_url"].as_str().unwrap());
        assert_eq!(
            app.post(&format!("/api/v1/invitations/{old}/accept"), Auth::None, json!({ "password": PASSWORD }))
                .await
                .status,
            404
        );
        assert_eq!(
            app.post(&format!("/api/v1/invitations/{new}/accept"), Auth::None, json!({ "password": PASSWORD }))
                .await
                .status,
            200
        );
        let r = app.post(&format!("/api/v1/users/{id}/invitation"), Auth::Bearer(&admin_token), json!({})).await;
        assert_eq!((r.status, r.code()), (409, "not_invited"));
    }
}

#[tokio::test]
async fn roles_deactivation_and_the_last_super_admin() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let admin = Auth::Bearer(&org.admin_token);
        let me = format!("/api/v1/users/{}", org.admin_id);

        for body in [json!({ "role": "member" }), json!({ "status": "deactivated" })] {
            let r = app.patch(&me, admin, body).await;
            assert_eq!((r.status, r.code()), (409, "last_super_admin"), "{}", r.text);
        }
        let r = app.delete(&me, admin).await;
        assert_eq!((r.status, r.code()), (409, "last_super_admin"));

        // Promote the member; now the first admin may step down.
        let member = format!("/api/v1/users/{}", org.member_id);
        let r = app.patch(&member, admin, json!({ "role": "super_admin" })).await;
        assert_eq!((r.status, r.json["role"].as_str()), (200, Some("super_admin")));
        // A privilege change ends the person's sessions; the next one (a new token) has the new role.
        assert_eq!(app.get("/api/v1/organization", Auth::Bearer(&org.member_token)).await.status, 401);
        let promoted = app.login("member@acme.example", PASSWORD).await.json["token"].as_str().unwrap().to_owned();
        assert_eq!(app.get("/api/v1/organization", Auth::Bearer(&promoted)).await.status, 200);
        let r = app.patch(&me, admin, json!({ "role": "member" })).await;
        assert_eq!(r.status, 200);
        assert_eq!(app.get("/api/v1/organization", admin).await.status, 401, "the demoted admin's session ended too");
        let demoted = app.login(&org.admin_email, PASSWORD).await.json["token"].as_str().unwrap().to_owned();
        assert_eq!(app.get("/api/v1/organization", Auth::Bearer(&demoted)).await.code(), "super_admin_required");
        let admin = Auth::Bearer(&demoted);

        // Deactivating someone ends their sessions at once.
        let new_admin = Auth::Bearer(&promoted);
        let r = app.patch(&me, new_admin, json!({ "status": "deactivated" })).await;
        assert_eq!((r.status, r.json["status"].as_str()), (200, Some("deactivated")));
        let locked = app.get("/api/v1/me", admin).await;
        assert_eq!(locked.status, 401);
        let login = app.login(&org.admin_email, PASSWORD).await;
        assert_eq!((login.status, login.code()), (401, "account_inactive"));

        // Reactivate, then delete.
        assert_eq!(app.patch(&me, new_admin, json!({ "status": "active" })).await.json["status"], "active");
        assert_eq!(app.delete(&me, new_admin).await.status, 204);
        assert_eq!(app.get(&me, new_admin).await.status, 404);
        let r = app.patch(&member, new_admin, json!({ "status": "suspended" })).await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("status")));

        let actions = app.actions(&org.id).await;
        for a in ["user.role_changed", "user.deactivated", "user.reactivated", "user.deleted"] {
            assert!(actions.contains(&a.to_owned()), "{a} missing");
        }
    }
}
