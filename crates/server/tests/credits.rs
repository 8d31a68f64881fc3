//! BILL-2: one balance per organization, an exact ledger, debits from the
//! platform's services exactly once per Idempotency-Key, refunds, grants that
//! only the platform operator makes, expiry, usage and alerts. Every test
//! runs on each engine and ends with the balance equal to the ledger's sum.

mod common;

use axum::body::Body;
use axum::http::{Method, Request};
use common::grant;
use common::{Auth, Org, TestApp};
use serde_json::{Value, json};
use steward_core::credits::Category;
use steward_server::services::Ctx;
use steward_server::services::credits::{self, GrantRequest};

/// A debit with its own Idempotency-Key (or none).
async fn debit(app: &TestApp, key: &str, idem: Option<&str>, body: Value) -> common::Resp {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/credits/debits")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json");
    if let Some(k) = idem {
        req = req.header("idempotency-key", k);
    }
    app.send(req.body(Body::from(body.to_string())).unwrap()).await
}

async fn balance(app: &TestApp, org: &Org) -> i64 {
    let r = app.get("/api/v1/credits", Auth::Bearer(&org.admin_key)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["balance"].as_i64().unwrap()
}

/// The balance is the sum of every entry of the ledger.
async fn assert_ledger_adds_up(app: &TestApp, org: &Org) {
    let mut sum = 0;
    let mut cursor = String::new();
    loop {
        let r = app.get(&format!("/api/v1/credits/transactions?limit=200{cursor}"), Auth::Bearer(&org.admin_key)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        sum += r.json["data"].as_array().unwrap().iter().map(|e| e["amount"].as_i64().unwrap()).sum::<i64>();
        match r.json["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(balance(app, org).await, sum, "the balance equals the ledger's sum");
}

async fn operator_grant(app: &TestApp, org: &Org, amount: i64, category: Category, priority: i64) -> Value {
    let org_id = org.id.parse().unwrap();
    let input =
        GrantRequest { amount, category, priority: Some(priority), effective_at: None, expires_at: None, reason: None };
    let e = credits::grant(app.db(), &Ctx::operator(app.clock_now()).in_org(&org_id), input).await.unwrap();
    serde_json::to_value(e).unwrap()
}

#[tokio::test]
async fn debits_are_exact_and_idempotent() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let other = app.org("globex").await;
        let ws = common::create_ws(&app, &org, json!({ "name": "Client A" })).await["id"].as_str().unwrap().to_owned();
        let theirs =
            common::create_ws(&app, &other, json!({ "name": "Theirs" })).await["id"].as_str().unwrap().to_owned();
        grant(&app, &org, 100).await;
        let key = org.admin_key.as_str();
        let body = json!({ "workspace_id": ws, "amount": 30, "reason": "campaign run", "metadata": { "run": 7 } });

        let r = debit(&app, key, None, body.clone()).await;
        assert_eq!((r.status, r.code()), (400, "idempotency_key_required"), "{}", r.text);
        let first = debit(&app, key, Some("k-1"), body.clone()).await;
        assert_eq!(first.status, 201, "{}", first.text);
        assert_eq!((first.json["amount"].as_i64(), first.json["balance_after"].as_i64()), (Some(-30), Some(70)));
        let again = debit(&app, key, Some("k-1"), body.clone()).await;
        assert_eq!((again.status, again.text.as_str()), (201, first.text.as_str()), "the first answer, replayed");
        assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
        let mut other_body = body.clone();
        other_body["amount"] = json!(31);
        let r = debit(&app, key, Some("k-1"), other_body).await;
        assert_eq!((r.status, r.code()), (422, "idempotency_key_reused"));
        assert_eq!(balance(&app, &org).await, 70, "a replay debits nothing");

        // While a request with the key runs (here: holds its lock), another with it is told so.
        if app.db().engine() == steward_store::db::Engine::Postgres {
            let mut running = app.db().pool().begin().await.unwrap();
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))")
                .bind(format!("credit-debit:{}:k-running", org.id))
                .execute(&mut *running)
                .await
                .unwrap();
            let r = debit(&app, key, Some("k-running"), body.clone()).await;
            assert_eq!((r.status, r.code()), (409, "idempotency_key_in_use"), "{}", r.text);
            running.rollback().await.unwrap();
            let r =
                debit(&app, key, Some("k-running"), json!({ "workspace_id": ws, "amount": 1, "reason": "then" })).await;
            assert_eq!(r.status, 201, "once it is done, the key is free: {}", r.text);
        }
        let have = balance(&app, &org).await;
        let r = debit(&app, key, Some("k-2"), json!({ "workspace_id": ws, "amount": have + 1, "reason": "too much" }))
            .await;
        assert_eq!((r.status, r.code()), (402, "insufficient_credits"), "{}", r.text);
        assert_eq!((r.json["balance"].as_i64(), r.json["shortfall"].as_i64()), (Some(have), Some(1)));
        for (amount, field) in
            [(json!(0), "amount"), (json!(-5), "amount"), (json!(1.5), "amount"), (json!(10_i64.pow(13)), "amount")]
        {
            let r = debit(
                &app,
                key,
                Some(&format!("bad-{amount}")),
                json!({ "workspace_id": ws, "amount": amount, "reason": "x" }),
            )
            .await;
            assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some(field)), "{amount}: {}", r.text);
        }
        let r = debit(&app, key, Some("k-3"), json!({ "workspace_id": theirs, "amount": 1, "reason": "x" })).await;
        assert_eq!(r.status, 404, "another organization's workspace: {}", r.text);
        let stranger = json!({ "workspace_id": ws, "amount": 1, "reason": "x", "user_id": other.admin_id });
        let r = debit(&app, key, Some("k-4"), stranger).await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("user_id")), "{}", r.text);
        let r = app
            .post(&format!("/api/v1/workspaces/{ws}/suspend"), Auth::Bearer(key), json!({ "reason": "unpaid" }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = debit(&app, key, Some("k-5"), json!({ "workspace_id": ws, "amount": 1, "reason": "x" })).await;
        assert_eq!((r.status, r.code()), (403, "workspace_suspended"));
        let r =
            debit(&app, &org.read_key, Some("k-6"), json!({ "workspace_id": ws, "amount": 1, "reason": "x" })).await;
        assert_eq!(r.status, 403, "a read key may not debit");
        assert_eq!(balance(&app, &org).await, have, "no refusal moved the balance");
        assert_eq!(balance(&app, &other).await, 0);

        // The history as CSV: every entry, newest first, a formula defused.
        let formula = json!({ "workspace_id": common::create_ws(&app, &org, json!({ "name": "B" })).await["id"], "amount": 1, "reason": "=HYPERLINK(\"x\")" });
        assert_eq!(debit(&app, key, Some("k-7"), formula).await.status, 201);
        let csv = app.get("/api/v1/credits/transactions/export", Auth::Bearer(key)).await;
        assert_eq!(csv.status, 200, "{}", csv.text);
        let lines: Vec<&str> = csv.text.lines().collect();
        assert!(lines[0].starts_with("id,occurred_at,kind,amount,balance_after"), "{}", lines[0]);
        let entries = if app.db().engine() == steward_store::db::Engine::Postgres { 4 } else { 3 };
        assert_eq!(lines.len(), 1 + entries, "the grant and the debits: {}", csv.text);
        assert!(lines[1].contains(",debit,-1,") && lines[1].contains("\"'=HYPERLINK(\"\"x\"\")\""), "{}", lines[1]);
        let only = app.get("/api/v1/credits/transactions/export?kind=grant", Auth::Bearer(key)).await;
        assert_eq!(only.text.lines().count(), 2, "{}", only.text);

        // A key is kept a day: the hourly pass then forgets it, and it may be used again.
        let mut again = body.clone();
        again["amount"] = json!(2);
        again["workspace_id"] = common::create_ws(&app, &org, json!({ "name": "C" })).await["id"].clone();
        app.clock.advance_seconds(23 * 3600);
        let system = Ctx::system("test", app.clock_now()).in_org(&org.id.parse().unwrap());
        credits::expire(app.db(), &system).await.unwrap();
        assert_eq!(debit(&app, key, Some("k-1"), again.clone()).await.status, 422, "still kept after 23 hours");
        app.clock.advance_seconds(2 * 3600);
        let system = Ctx::system("test", app.clock_now()).in_org(&org.id.parse().unwrap());
        credits::expire(app.db(), &system).await.unwrap();
        assert_eq!(debit(&app, key, Some("k-1"), again).await.status, 201, "forgotten after a day");
        assert_ledger_adds_up(&app, &org).await;
    }
}

#[tokio::test]
async fn racing_debits_take_exactly_the_last_credits() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let ws = common::create_ws(&app, &org, json!({ "name": "Busy" })).await["id"].as_str().unwrap().to_owned();
        grant(&app, &org, 37).await;
        let calls = (0..100).map(|i| {
            let (app, key, ws) = (&app, org.admin_key.clone(), ws.clone());
            async move {
                debit(
                    app,
                    &key,
                    Some(&format!("race-{i}")),
                    json!({ "workspace_id": ws, "amount": 1, "reason": "race" }),
                )
                .await
                .status
            }
        });
        let statuses = futures_util::future::join_all(calls).await;
        let ok = statuses.iter().filter(|s| **s == 201).count();
        let refused = statuses.iter().filter(|s| **s == 402).count();
        assert_eq!((ok, refused), (37, 63), "{statuses:?}");
        assert_eq!(balance(&app, &org).await, 0);
        assert_ledger_adds_up(&app, &org).await;
    }
}

#[tokio::test]
async fn debits_burn_by_priority_then_category_and_refunds_give_back() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let ws = common::create_ws(&app, &org, json!({ "name": "W" })).await["id"].as_str().unwrap().to_owned();
        operator_grant(&app, &org, 50, Category::Paid, 50).await;
        operator_grant(&app, &org, 20, Category::Promotional, 50).await;
        operator_grant(&app, &org, 10, Category::Paid, 1).await;
        let key = org.admin_key.as_str();
        let d = app
            .post(
                "/api/v1/credits/debits",
                Auth::Bearer(key),
                json!({ "workspace_id": ws, "amount": 25, "reason": "r" }),
            )
            .await;
        assert_eq!(d.status, 201, "{}", d.text);
        // Priority 1 first (10 paid), then promotional before paid at equal priority (15 of 20).
        let s = app.get("/api/v1/credits", Auth::Bearer(key)).await;
        assert_eq!((s.json["paid"].as_i64(), s.json["promotional"].as_i64()), (Some(50), Some(5)), "{}", s.text);

        let refund = format!("/api/v1/credits/debits/{}/refund", d.json["id"].as_str().unwrap());
        let r = app.post(&refund, Auth::Bearer(key), json!({ "amount": 10 })).await;
        assert_eq!((r.status, r.json["amount"].as_i64()), (201, Some(10)), "{}", r.text);
        let r = app.post(&refund, Auth::Bearer(key), json!({ "amount": 16 })).await;
        assert_eq!((r.status, r.json["errors"][0]["code"].as_str()), (422, Some("over_refundable")), "{}", r.text);
        let r = app.post(&refund, Auth::Bearer(key), json!({})).await;
        assert_eq!((r.status, r.json["amount"].as_i64()), (201, Some(15)), "the rest: {}", r.text);
        let r = app.post(&refund, Auth::Bearer(key), json!({})).await;
        assert_eq!(r.status, 422, "nothing is left to refund: {}", r.text);
        let s = app.get("/api/v1/credits", Auth::Bearer(key)).await;
        assert_eq!(
            (s.json["balance"].as_i64(), s.json["paid"].as_i64(), s.json["promotional"].as_i64()),
            (Some(80), Some(60), Some(20))
        );
        let day =
            |d: i64| steward_core::time::Timestamp::from_millis(app.clock_now().millis() + d * 86_400_000).to_rfc3339();
        let usage = format!("/api/v1/credits/usage?group_by=workspace&from={}&to={}", day(-1), day(1));
        let u = app.get(&usage, Auth::Bearer(key)).await;
        assert_eq!((u.status, u.json["total"].as_i64()), (200, Some(0)), "refunded usage is not usage: {}", u.text);
        assert_ledger_adds_up(&app, &org).await;
    }
}

#[tokio::test]
async fn grants_are_the_operators_and_audited() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let r = app
            .post("/api/v1/credits/grants", Auth::Bearer(&org.admin_key), json!({ "amount": 5, "category": "paid" }))
            .await;
        assert_eq!(r.status, 403, "a Super Admin's key cannot mint credits: {}", r.text);
        let r = app
            .post("/api/v1/credits/grants", Auth::Bearer(&org.admin_token), json!({ "amount": 5, "category": "paid" }))
            .await;
        assert_eq!(r.status, 403, "nor can a Super Admin: {}", r.text);
        let e = operator_grant(&app, &org, 500, Category::Paid, 50).await;
        assert_eq!(e["balance_after"], 500);
        assert!(app.actions(&org.id).await.contains(&"credits.granted".to_owned()));
        assert_ledger_adds_up(&app, &org).await;
    }
}

#[tokio::test]
async fn an_alert_fires_once_per_crossing_and_expired_credits_are_written_off() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let ws = common::create_ws(&app, &org, json!({ "name": "W" })).await["id"].as_str().unwrap().to_owned();
        let key = org.admin_key.as_str();
        grant(&app, &org, 100).await;
        let r = app
            .call(
                Method::PUT,
                "/api/v1/credits/alerts",
                Auth::Bearer(key),
                Some(json!({ "alerts": [{ "kind": "balance", "threshold": 50 }] })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let spend = |amount: i64| {
            let app = &app;
            let ws = ws.clone();
            async move {
                let r = app
                    .post(
                        "/api/v1/credits/debits",
                        Auth::Bearer(key),
                        json!({ "workspace_id": ws, "amount": amount, "reason": "r" }),
                    )
                    .await;
                assert_eq!(r.status, 201, "{}", r.text);
                app.run_jobs().await;
            }
        };
        let lows = || {
            let (app, org_id) = (&app, org.id.clone());
            async move { app.actions(&org_id).await.iter().filter(|a| *a == "credits.low").count() }
        };
        spend(40).await; // 60: above
        assert_eq!(lows().await, 0);
        spend(15).await; // 45: crossed
        assert_eq!(lows().await, 1);
        spend(5).await; // 40: still below, no second alert
        assert_eq!(lows().await, 1);
        let r = app.get("/api/v1/credits/alerts", Auth::Bearer(key)).await;
        assert!(r.json["alerts"][0]["fired_at"].is_string(), "{}", r.text);
        grant(&app, &org, 100).await; // 140: re-armed
        spend(95).await; // 45: crossed again
        assert_eq!(lows().await, 2);
        let mails =
            app.outbox_messages().iter().filter(|m| String::from_utf8_lossy(m).contains("credits left")).count();
        assert_eq!(mails, 2, "the Super Admin was told at each crossing");

        // A grant that expires: written off by the expiry job, as an entry.
        let org_id = org.id.parse().unwrap();
        let soon = steward_core::time::Timestamp::from_millis(app.clock_now().millis() + 3_600_000);
        let input = GrantRequest {
            amount: 30,
            category: Category::Promotional,
            priority: Some(0),
            effective_at: None,
            expires_at: Some(soon),
            reason: None,
        };
        credits::grant(app.db(), &Ctx::operator(app.clock_now()).in_org(&org_id), input).await.unwrap();
        assert_eq!(balance(&app, &org).await, 75);
        app.clock.advance_seconds(3_601);
        let system = Ctx::system("test", app.clock_now()).in_org(&org_id);
        assert_eq!(credits::expire(app.db(), &system).await.unwrap(), 1);
        assert_eq!(balance(&app, &org).await, 45);
        let t = app.get("/api/v1/credits/transactions?kind=expiry", Auth::Bearer(key)).await;
        assert_eq!(t.json["data"][0]["amount"].as_i64(), Some(-30), "{}", t.text);

        // 45 left after 155 used in 30 days: about 8.7 days. A 10-day alert fires, once.
        let days = json!({ "alerts": [{ "kind": "days_left", "threshold": 10 }] });
        let r = app.call(Method::PUT, "/api/v1/credits/alerts", Auth::Bearer(key), Some(days)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let s = app.get("/api/v1/credits", Auth::Bearer(key)).await;
        assert_eq!(
            (s.json["burn_30_days"].as_i64(), s.json["days_left"].as_f64()),
            (Some(155), Some(8.7)),
            "{}",
            s.text
        );
        assert_eq!(credits::check_days_left(app.db(), &system).await.unwrap(), 1);
        assert_eq!(credits::check_days_left(app.db(), &system).await.unwrap(), 0, "once per crossing");
        app.run_jobs().await;
        assert_eq!(lows().await, 3);
        assert_ledger_adds_up(&app, &org).await;
    }
}

/// A random mix of grants, debits, refunds and expiries, on each engine:
/// after every step the balance is the ledger's sum, never below zero.
#[tokio::test]
async fn the_balance_is_the_ledgers_sum_after_a_random_mix() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let key = org.admin_key.as_str();
        let ws = common::create_ws(&app, &org, json!({ "name": "Mix" })).await["id"].as_str().unwrap().to_owned();
        let org_id: steward_core::ids::OrgId = org.id.parse().unwrap();
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut debits: Vec<String> = Vec::new();
        for step in 0..60 {
            match next(4) {
                0 => {
                    let expires = (next(2) == 0).then(|| {
                        steward_core::time::Timestamp::from_millis(
                            app.clock_now().millis() + 60_000 * (1 + next(5) as i64),
                        )
                    });
                    let category = if next(2) == 0 { Category::Paid } else { Category::Promotional };
                    let input = GrantRequest {
                        amount: 1 + next(200) as i64,
                        category,
                        priority: Some(next(3) as i64),
                        effective_at: None,
                        expires_at: expires,
                        reason: None,
                    };
                    credits::grant(app.db(), &Ctx::operator(app.clock_now()).in_org(&org_id), input).await.unwrap();
                }
                1 => {
                    let body = json!({ "workspace_id": ws, "amount": 1 + next(150), "reason": "mix" });
                    let r = debit(&app, key, Some(&format!("mix-{step}")), body).await;
                    assert!(r.status == 201 || r.status == 402, "{}", r.text);
                    if r.status == 201 {
                        debits.push(r.json["id"].as_str().unwrap().to_owned());
                    }
                }
                2 if !debits.is_empty() => {
                    let d = &debits[next(debits.len() as u64) as usize];
                    let r = app
                        .post(
                            &format!("/api/v1/credits/debits/{d}/refund"),
                            Auth::Bearer(key),
                            json!({ "amount": 1 + next(40) }),
                        )
                        .await;
                    assert!(r.status == 201 || r.status == 422, "{}", r.text);
                }
                _ => {
                    app.clock.advance_seconds(60 * next(4) as i64);
                    let system = Ctx::system("test", app.clock_now()).in_org(&org_id);
                    credits::expire(app.db(), &system).await.unwrap();
                }
            }
            assert!(balance(&app, &org).await >= 0);
        }
        assert_ledger_adds_up(&app, &org).await;
        // And what the grants hold is the balance too.
        let s = app.get("/api/v1/credits", Auth::Bearer(key)).await.json;
        assert_eq!(
            s["paid"].as_i64().unwrap() + s["promotional"].as_i64().unwrap(),
            s["balance"].as_i64().unwrap(),
            "{s}"
        );
    }
}

#[tokio::test]
async fn a_workspace_budget_refuses_debits_past_it_for_the_month() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let other = app.org("globex").await;
        let key = org.admin_key.as_str();
        grant(&app, &org, 10_000).await;
        let ws = common::create_ws(&app, &org, json!({ "name": "Budgeted" })).await["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/credits/budgets/{ws}");
        let r = app.call(Method::PUT, &path, Auth::Bearer(key), Some(json!({ "monthly": 100 }))).await;
        assert_eq!((r.status, r.json["monthly"].as_i64()), (200, Some(100)), "{}", r.text);
        let spend = |amount: i64, idem: String| {
            let (app, ws) = (&app, ws.clone());
            async move { debit(app, key, Some(&idem), json!({ "workspace_id": ws, "amount": amount, "reason": "r" })).await }
        };
        assert_eq!(spend(60, "b-1".into()).await.status, 201);
        let r = spend(41, "b-2".into()).await;
        assert_eq!((r.status, r.code()), (403, "workspace_budget_exceeded"), "{}", r.text);
        assert_eq!((r.json["budget"].as_i64(), r.json["used"].as_i64()), (Some(100), Some(60)));
        assert_eq!(spend(40, "b-3".into()).await.status, 201, "up to the budget exactly");
        assert_eq!(balance(&app, &org).await, 9_900);
        let list = app.get("/api/v1/credits/budgets", Auth::Bearer(key)).await;
        assert_eq!(list.json["data"][0]["used_this_month"].as_i64(), Some(100), "{}", list.text);
        // Another organization cannot see or set it; a read key cannot set it.
        let r = app.call(Method::PUT, &path, Auth::Bearer(&other.admin_key), Some(json!({ "monthly": 1 }))).await;
        assert_eq!(r.status, 404, "{}", r.text);
        let r = app.call(Method::PUT, &path, Auth::Bearer(&org.read_key), Some(json!({ "monthly": 1 }))).await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = app.call(Method::PUT, &path, Auth::Bearer(key), Some(json!({ "monthly": 0 }))).await;
        assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (422, Some("monthly")), "{}", r.text);
        // A new month starts over; removing the budget lifts it.
        let r = app.call(Method::PUT, &path, Auth::Bearer(key), Some(json!({ "monthly": null }))).await;
        assert_eq!(r.status, 204, "{}", r.text);
        assert_eq!(spend(500, "b-4".into()).await.status, 201);
        assert!(app.actions(&org.id).await.contains(&"credits.budget_set".to_owned()));
        assert_ledger_adds_up(&app, &org).await;
    }
}

#[tokio::test]
async fn usage_by_workspace_comes_a_page_at_a_time_most_first() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        grant(&app, &org, 10_000).await;
        let key = org.admin_key.as_str();
        // Two workspaces tie at 20: the tie is broken by id, and no line is lost at a page's edge.
        let mut made = Vec::new();
        for (i, amount) in [10, 20, 20, 5].into_iter().enumerate() {
            let ws = common::create_ws(&app, &org, json!({ "name": format!("W{i}") })).await["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let body = json!({ "workspace_id": ws, "amount": amount, "reason": "r" });
            assert_eq!(debit(&app, key, Some(&format!("p-{i}")), body).await.status, 201);
            made.push((ws, amount));
        }
        let day =
            |d: i64| steward_core::time::Timestamp::from_millis(app.clock_now().millis() + d * 86_400_000).to_rfc3339();
        let base = format!("/api/v1/credits/usage?group_by=workspace&from={}&to={}&limit=3", day(-1), day(1));
        let first = app.get(&base, Auth::Bearer(key)).await;
        assert_eq!(first.status, 200, "{}", first.text);
        assert_eq!(first.json["total"].as_i64(), Some(55), "the total is every line's");
        let cursor = first.json["next_cursor"].as_str().expect("a next page").to_owned();
        let second = app.get(&format!("{base}&cursor={cursor}"), Auth::Bearer(key)).await;
        assert!(second.json["next_cursor"].is_null(), "{}", second.text);
        let lines: Vec<(String, i64)> = [&first, &second]
            .iter()
            .flat_map(|r| r.json["data"].as_array().unwrap().clone())
            .map(|l| (l["key"].as_str().unwrap().to_owned(), l["used"].as_i64().unwrap()))
            .collect();
        let mut want = made.clone();
        want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        assert_eq!(lines, want, "most first, ties by id, each once");
        let bad = app.get(&format!("{base}&cursor=bm90LWEtY3Vyc29y"), Auth::Bearer(key)).await;
        assert_eq!((bad.status, bad.code()), (422, "invalid_cursor"), "{}", bad.text);
    }
}

#[tokio::test]
async fn adjustments_are_the_operators_audited_and_never_overdraw() {
    use steward_server::services::credits::adjustments::{AdjustmentRequest, adjust};
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let r = app
            .post("/api/v1/credits/adjustments", Auth::Bearer(&org.admin_key), json!({ "amount": 5, "reason": "x" }))
            .await;
        assert_eq!(r.status, 403, "a Super Admin's key cannot adjust: {}", r.text);
        operator_grant(&app, &org, 100, Category::Promotional, 10).await;
        let op = Ctx::operator(app.clock_now()).in_org(&org.id.parse().unwrap());
        let add = |amount: i64, reason: &str| AdjustmentRequest { amount, reason: reason.into() };
        let up = adjust(app.db(), &op, add(40, "goodwill")).await.unwrap();
        assert_eq!((up.kind, up.amount, up.balance_after), (steward_core::credits::EntryKind::Adjustment, 40, 140));
        let s = app.get("/api/v1/credits", Auth::Bearer(&org.admin_key)).await;
        assert_eq!((s.json["paid"].as_i64(), s.json["promotional"].as_i64()), (Some(40), Some(100)), "added as paid");
        // Taken away in the order a debit draws: the promotional grant (priority 10) first.
        let down = adjust(app.db(), &op, add(-120, "mistake undone")).await.unwrap();
        assert_eq!((down.amount, down.balance_after), (-120, 20));
        let s = app.get("/api/v1/credits", Auth::Bearer(&org.admin_key)).await;
        assert_eq!((s.json["paid"].as_i64(), s.json["promotional"].as_i64()), (Some(20), Some(0)));
        let over = adjust(app.db(), &op, add(-21, "too much")).await.unwrap_err();
        assert_eq!((over.status, over.code), (402, "insufficient_credits"));
        for bad in [add(0, "nothing"), add(1_000_000_000_001, "huge"), add(5, "")] {
            let e = adjust(app.db(), &op, bad).await.unwrap_err();
            assert_eq!(e.status, 422, "{e:?}");
        }
        assert_eq!(balance(&app, &org).await, 20, "refusals change nothing");
        let actions = app.actions(&org.id).await;
        assert_eq!(actions.iter().filter(|a| *a == "credits.adjusted").count(), 2);
        let usage = format!(
            "/api/v1/credits/usage?group_by=day&from={}&to={}",
            steward_core::time::Timestamp::from_millis(app.clock_now().millis() - 86_400_000).to_rfc3339(),
            steward_core::time::Timestamp::from_millis(app.clock_now().millis() + 86_400_000).to_rfc3339()
        );
        assert_eq!(app.get(&usage, Auth::Bearer(&org.admin_key)).await.json["total"].as_i64(), Some(0), "not usage");
        assert_ledger_adds_up(&app, &org).await;
    }
}
