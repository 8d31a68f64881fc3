//! Integrations → API in the console: create a key with a preset or chosen
//! permissions and a limit, see its secret once, change it, revoke it.

mod common;

use axum::http::Method;
use common::{Auth, TestApp, csrf_of};

fn secret_in(html: &str) -> Option<String> {
    let at = html.find("id=\"new-key-secret\"")?;
    let before = &html[..at];
    let value = before.rfind("value=\"")? + 7;
    Some(before[value..].split('"').next()?.to_owned())
}

#[tokio::test]
async fn a_super_admin_creates_limits_and_revokes_keys_in_the_console() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let cookie = Auth::Cookie { token: &org.admin_token, csrf: None };
        let page = app.get("/settings/integrations/api", cookie).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains("Create key") && page.text.contains("admin key"));
        let csrf = csrf_of(&page.text);
        let form = |path: &str, body: String| {
            let app = &app;
            let path = path.to_owned();
            async move { app.raw(Method::POST, &path, cookie, Some(&body), "application/x-www-form-urlencoded").await }
        };

        // Chosen permissions and a limit; the secret shows once.
        let made = form(
            "/settings/integrations/api",
            format!(
                "csrf_token={csrf}&name=Campaign+service&preset=custom&permission=people%3Aread&permission=audit%3Aread\
                 &rate_limit_per_minute=120&expires="
            ),
        )
        .await;
        assert_eq!(made.status, 200, "{}", made.text);
        let secret = secret_in(&made.text).expect("the new key is on the page");
        assert!(secret.starts_with("stw_live_") && made.text.contains("shown only this once"));
        let me = app.get("/api/v1/organization", Auth::Bearer(&secret)).await;
        assert_eq!(me.status, 403, "people:read and audit:read don't read the organization: {}", me.text);
        let people = app.get("/api/v1/users", Auth::Bearer(&secret)).await;
        assert_eq!(people.status, 200);
        assert_eq!(people.headers["ratelimit-policy"], "\"key\";q=120;w=60");
        let again = app.get("/settings/integrations/api", cookie).await;
        assert!(!again.text.contains(&secret), "the secret is never shown again");
        assert!(again.text.contains("Campaign service") && again.text.contains("120 a minute"));

        // Bad input: named by its label, nothing made.
        let before =
            app.get("/api/v1/api-keys", Auth::Bearer(&org.admin_key)).await.json["data"].as_array().unwrap().len();
        let bad = form(
            "/settings/integrations/api",
            format!("csrf_token={csrf}&name=Too+fast&preset=read&rate_limit_per_minute=0&expires=2001-01-01"),
        )
        .await;
        assert_eq!(bad.status, 422, "{}", bad.text);
        assert!(bad.text.contains("Requests a minute is outside 1 to 100,000 requests a minute"), "{}", bad.text);
        assert!(bad.text.contains("Expires is not in the future"), "{}", bad.text);
        let after =
            app.get("/api/v1/api-keys", Auth::Bearer(&org.admin_key)).await.json["data"].as_array().unwrap().len();
        assert_eq!(before, after);

        // Edit the limit, then revoke: each holds at once.
        let keys = app.get("/api/v1/api-keys", Auth::Bearer(&org.admin_key)).await;
        let id = keys.json["data"].as_array().unwrap().iter().find(|k| k["name"] == "Campaign service").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let saved = form(
            &format!("/settings/integrations/api/{id}"),
            format!("csrf_token={csrf}&name=Campaign+service&rate_limit_per_minute=30&expires="),
        )
        .await;
        assert_eq!(
            (saved.status, saved.headers["location"].to_str().unwrap()),
            (303, "/settings/integrations/api?notice=key_saved")
        );
        let people = app.get("/api/v1/users", Auth::Bearer(&secret)).await;
        assert_eq!(people.headers["ratelimit-policy"], "\"key\";q=30;w=60");
        let page = app.get("/settings/integrations/api", cookie).await;
        assert!(page.text.contains(&format!("id=\"revoke-{id}\"")), "revoking asks first");
        let revoked = form(&format!("/settings/integrations/api/{id}/revoke"), format!("csrf_token={csrf}")).await;
        assert_eq!(revoked.status, 303);
        assert_eq!(app.get("/api/v1/users", Auth::Bearer(&secret)).await.status, 401);

        // A member is sent to a Super Admin.
        let member = Auth::Cookie { token: &org.member_token, csrf: None };
        assert_eq!(app.get("/settings/integrations/api", member).await.status, 403);
    }
}
