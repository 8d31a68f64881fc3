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
        assert!(t.contains("<figure class=\"chart\"") && t.contains("<svg"), "the chart");
        assert!(t.contains("Credits used") && t.contains("\nDay\n</text>"), "its axes are named");
        assert!(
            t.contains("4,000 credits used") && t.contains("the balance lasts about"),
            "its summary, with the projection"
        );
        let today = app.clock_now().to_rfc3339()[..10].to_owned();
        let debits_today =
            app.get(&format!("/settings/billing/credits?kind=debit&from={today}&to={today}"), cookie).await.text;
        assert!(
            debits_today.contains("−3,000") && !debits_today.contains("+10,000"),
            "the history filtered by type and day"
        );
        let long_ago = app.get("/settings/billing/credits?from=2001-01-01&to=2001-01-31", cookie).await.text;
        assert!(long_ago.contains("No transactions") && !long_ago.contains("−3,000"), "nothing then");
        let by_name = app.get("/settings/billing/credits?sort=name", cookie).await.text;
        let (c, n) = (by_name.find(">Contoso<").unwrap(), by_name.find(">Northwind<").unwrap());
        assert!(c < n && by_name.contains("aria-sort=\"ascending\""), "sorted by name");
        let (c, n) = (t.find(">Contoso<").unwrap(), t.find(">Northwind<").unwrap());
        assert!(n < c, "most used first by default");
        for (period, axis) in [("week", "Week starting"), ("month", "\nMonth\n</text>")] {
            let p = app.get(&format!("/settings/billing/credits?period={period}"), cookie).await;
            assert!(p.text.contains(axis) && p.text.contains("4,000 credits used"), "by {period}: {axis}");
            assert!(p.text.contains(&format!("?period={period}\" aria-current=\"page\"")), "{period} is marked chosen");
        }
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

#[tokio::test]
async fn budgets_are_set_in_the_console_and_reports_are_asked_for_and_listed() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        common::grant(&app, &org, 10_000).await;
        let ws = common::create_ws(&app, &org, json!({ "name": "Northwind", "slug": "northwind" })).await;
        let key = Auth::Bearer(&org.admin_key);
        let r = app
            .post("/api/v1/credits/debits", key, json!({ "workspace_id": ws["id"], "amount": 250, "reason": "run" }))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let cookie = Auth::Cookie { token: &org.admin_token, csrf: None };
        let csrf = csrf_of(&app.get("/settings/billing/credits", cookie).await.text);
        let form = |path: &'static str, body: String| {
            let app = &app;
            async move { app.raw(Method::POST, path, cookie, Some(&body), "application/x-www-form-urlencoded").await }
        };
        let bad =
            form("/settings/billing/credits/budgets", format!("csrf_token={csrf}&workspace=nowhere&monthly=1000"))
                .await;
        assert_eq!(bad.status, 422, "{}", bad.text);
        assert!(bad.text.contains("id=\"workspace-error\""), "the workspace field is named");
        let ok =
            form("/settings/billing/credits/budgets", format!("csrf_token={csrf}&workspace=northwind&monthly=1%2C000"))
                .await;
        assert_eq!(ok.status, 303, "{}", ok.text);
        let budgets = app.get("/api/v1/credits/budgets", key).await;
        assert_eq!(
            (budgets.json["data"][0]["monthly"].as_i64(), budgets.json["data"][0]["used_this_month"].as_i64()),
            (Some(1000), Some(250))
        );
        let page = app.get("/settings/billing/credits", cookie).await.text;
        assert!(
            page.contains("Budgets by workspace") && page.contains("25 % of the budget"),
            "the budget's use is shown"
        );
        let cleared =
            form("/settings/billing/credits/budgets", format!("csrf_token={csrf}&workspace=northwind&monthly=")).await;
        assert_eq!(cleared.status, 303);
        assert_eq!(
            app.get("/api/v1/credits/budgets", key).await.json["data"].as_array().unwrap().len(),
            0,
            "empty removes it"
        );

        let reports = app.get("/settings/billing/reports", cookie).await;
        assert_eq!(reports.status, 200, "{}", reports.text);
        assert!(reports.text.contains("No reports yet"));
        let inverted = form(
            "/settings/billing/reports",
            format!("csrf_token={csrf}&type=usage_by_workspace&format=pdf&from=2026-11-10&to=2026-11-01"),
        )
        .await;
        assert_eq!(inverted.status, 422, "{}", inverted.text);
        assert!(inverted.text.contains("id=\"to-error\""), "the end is named");
        let day = |ms: i64| steward_core::time::Timestamp::from_millis(ms).to_rfc3339()[..10].to_owned();
        let now = app.clock_now().millis();
        let body = format!(
            "csrf_token={csrf}&type=usage_by_workspace&format=csv&from={}&to={}",
            day(now - 86_400_000),
            day(now)
        );
        let asked = form("/settings/billing/reports", body).await;
        assert_eq!(asked.status, 303, "{}", asked.text);
        let pending = app.get("/settings/billing/reports", cookie).await.text;
        assert!(
            pending.contains("data-report-pending=") && pending.contains("<progress"),
            "a pending report shows its progress"
        );
        app.run_jobs().await;
        let ready = app.get("/settings/billing/reports", cookie).await.text;
        assert!(!ready.contains("data-report-pending="), "written");
        let link =
            ready.split("href=\"/api/v1/reports/").nth(1).and_then(|s| s.split('"').next()).expect("a download link");
        let file = app.get(&format!("/api/v1/reports/{link}"), cookie).await;
        assert_eq!(file.status, 200, "the console's session downloads it");
        assert!(file.text.contains("Northwind,250,100.0"), "{}", file.text);
        let member = Auth::Cookie { token: &org.member_token, csrf: None };
        let refused = app.get("/settings/billing/reports", member).await;
        assert!(!refused.text.contains("New report"), "members don't see billing reports");
    }
}
