//! Integrations → Webhooks in the console: add an endpoint with chosen events,
//! see its secret once, send a test, read the delivery, disable, delete.

mod common;

use axum::http::Method;
use common::{Auth, TestApp, csrf_of};

#[tokio::test]
async fn a_super_admin_adds_tests_and_removes_an_endpoint_in_the_console() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let cookie = Auth::Cookie { token: &org.admin_token, csrf: None };
        let page = app.get("/settings/integrations/webhooks", cookie).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains("No endpoints yet") && page.text.contains("workspace.suspended"));
        let csrf = csrf_of(&page.text);
        let form = |path: &str, body: String| {
            let app = &app;
            let path = path.to_owned();
            async move { app.raw(Method::POST, &path, cookie, Some(&body), "application/x-www-form-urlencoded").await }
        };

        let bad =
            form("/settings/integrations/webhooks", format!("csrf_token={csrf}&url=ftp%3A%2F%2Fx.example&events=all"))
                .await;
        assert_eq!(bad.status, 422);
        assert!(bad.text.contains("URL is not an https:// address with a host"), "{}", bad.text);

        let made = form(
            "/settings/integrations/webhooks",
            format!(
                "csrf_token={csrf}&url=http%3A%2F%2F127.0.0.1%3A9%2Fhook&description=Billing&events=chosen\
                 &event_type=workspace.suspended&event_type=user.invited"
            ),
        )
        .await;
        assert_eq!(made.status, 200, "{}", made.text);
        assert!(
            made.text.contains("id=\"new-webhook-secret\"") && made.text.contains("whsec_"),
            "the secret shows once"
        );
        assert!(made.text.contains("workspace.suspended, user.invited"));
        let list = app.get("/api/v1/webhooks", Auth::Bearer(&org.admin_key)).await;
        let id = list.json["data"][0]["id"].as_str().unwrap().to_owned();
        let again = app.get("/settings/integrations/webhooks", cookie).await;
        assert!(!again.text.contains("whsec_"), "never again");
        assert!(again.text.contains(&format!("id=\"delete-webhook-{id}\"")), "deleting asks first");

        let tested = form(&format!("/settings/integrations/webhooks/{id}/test"), format!("csrf_token={csrf}")).await;
        assert_eq!(tested.status, 303);
        app.run_jobs().await;
        let endpoint = app.get(&format!("/settings/integrations/webhooks/{id}"), cookie).await;
        // Nothing listens on port 9: the attempt is logged with why, and another is coming.
        assert!(endpoint.text.contains("<code>webhook.test</code>"), "{}", endpoint.text);
        assert!(endpoint.text.contains("Pending") && endpoint.text.contains("1 attempt<"), "{}", endpoint.text);

        let off = form(&format!("/settings/integrations/webhooks/{id}/disable"), format!("csrf_token={csrf}")).await;
        assert_eq!(off.status, 303);
        assert_eq!(
            app.get(&format!("/api/v1/webhooks/{id}"), Auth::Bearer(&org.admin_key)).await.json["enabled"],
            false
        );
        let gone = form(&format!("/settings/integrations/webhooks/{id}/delete"), format!("csrf_token={csrf}")).await;
        assert_eq!(gone.status, 303);
        assert_eq!(app.get(&format!("/api/v1/webhooks/{id}"), Auth::Bearer(&org.admin_key)).await.status, 404);

        let member = Auth::Cookie { token: &org.member_token, csrf: None };
        assert_eq!(app.get("/settings/integrations/webhooks", member).await.status, 403);
    }
}
