//! Billing → Credits in the console: the balance and its parts, usage by
//! workspace with its share, the consumption chart with its summary, the
//! history, the alert form, and the dashboard's Credit balance tile.

mod common;

use axum::http::Method;
use common::{Auth, TestApp, csrf_of};
use serde_json::json;

#[tokio::test]
async fn a_super_admin_sees_the_balance_usage_and_history_and_sets_alerts() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        common::grant(&app, &org, 10_000).await;
        let key = Auth::Bearer(&org.admin_key);
        for (name, amount) in [("Northwind", 3_000), ("Contoso", 1_000)] {
            let ws = common::create_ws(&app, &org, json!({ "name": name })).await;
            let r = app
                .post(
                    "/api/v1/credits/debits",
                    key,
                    json!({ "workspace_id": ws["id"], "amount": amount, "reason": "run" }),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
        }
        let cookie = Auth::Cookie { token: &org.admin_token, csrf: None };
        let page = app.get("/settings/billing/credits", cookie).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let t = &page.text;
        assert!(t.contains("data-metric=\"balance\">6,000<"), "the balance");
        assert!(
            t.contains("Northwind") && t.contains("75.0 %") && t.contains("25.0 %"),
            "usage by workspace with shares"
        );
        assert!(t.contains("<svg class=\"chart\"") && t.contains("4,000 credits used"), "the chart and its summary");
        assert!(t.contains("−3,000") && t.contains("+10,000"), "the history");
        let dash = app.get("/settings/organization", cookie).await;
        assert!(dash.text.contains("data-metric=\"credit_balance\">6,000<"), "the dashboard tile");
        let api = app.get("/api/v1/organization/dashboard", key).await;
        assert_eq!(api.json["credit_balance"], 6000);

        let csrf = csrf_of(t);
        let post = |body: String| {
            let app = &app;
            async move {
                app.raw(
                    Method::POST,
                    "/settings/billing/credits/alerts",
                    cookie,
                    Some(&body),
                    "application/x-www-form-urlencoded",
                )
                .await
            }
        };
        let bad = post(format!("csrf_token={csrf}&balance_alert=lots&days_alert=")).await;
        assert_eq!(bad.status, 422, "{}", bad.text);
        assert!(
            bad.text.contains("When the balance falls to") && bad.text.contains("aria-invalid=\"true\""),
            "the field is named"
        );
        let ok = post(format!("csrf_token={csrf}&balance_alert=2%2C000&days_alert=14")).await;
        assert_eq!(ok.status, 303, "{}", ok.text);
        let alerts = app.get("/api/v1/credits/alerts", key).await;
        let kinds: Vec<(String, i64)> = alerts.json["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["kind"].as_str().unwrap().to_owned(), a["threshold"].as_i64().unwrap()))
            .collect();
        assert_eq!(kinds, [("balance".to_owned(), 2000), ("days_left".to_owned(), 14)]);
        assert!(!app.get("/settings", cookie).await.text.contains("id=\"credit-alert\""), "above the alert: no banner");
        let ws = common::create_ws(&app, &org, json!({ "name": "Fabrikam" })).await;
        let r = app
            .post("/api/v1/credits/debits", key, json!({ "workspace_id": ws["id"], "amount": 4_500, "reason": "run" }))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let page = app.get("/settings", cookie).await;
        assert!(page.text.contains("the balance is 1500, at or below your alert of 2000"), "the banner: {}", page.text);

        // A member is no Super Admin: they are sent to ask one.
        let member = Auth::Cookie { token: &org.member_token, csrf: None };
        let r = app.get("/settings/billing/credits", member).await;
        assert!(!r.text.contains("data-metric=\"balance\""), "a member does not see the balance");
    }
}
