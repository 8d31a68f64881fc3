//! BILL-4: usage reports are asked for, written by a job with progress,
//! downloaded while kept and gone after; each type as CSV (parsed here) and
//! PDF (read back with poppler's `pdftotext`, drawn with `pdftoppm`).

mod common;

use std::process::Command;

use common::{Auth, Org, TestApp, grant};
use serde_json::{Value, json};

async fn debit(app: &TestApp, org: &Org, idem: &str, body: Value) {
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/credits/debits")
        .header("authorization", format!("Bearer {}", org.admin_key))
        .header("content-type", "application/json")
        .header("idempotency-key", idem)
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

/// Two workspaces, two people, one campaign: 700 + 300 credits used today.
async fn history(app: &TestApp, org: &Org) -> (String, String, String) {
    let a = common::create_ws(app, org, json!({ "name": "=Client A" })).await["id"].as_str().unwrap().to_owned();
    let b = common::create_ws(app, org, json!({ "name": "Client, B" })).await["id"].as_str().unwrap().to_owned();
    let cmp = common::campaign(app, Auth::Bearer(&org.admin_key), &a, "Spring launch", "active").await;
    common::add_member(app, org, &a, &org.admin_id, "admin").await;
    common::add_member(app, org, &b, &org.member_id, "editor").await;
    grant(app, org, 10_000).await;
    let runs =
        [(&a, 600, Some(&org.admin_id), Some(&cmp)), (&b, 300, Some(&org.member_id), None), (&a, 100, None, None)];
    for (i, (ws, amount, user, campaign)) in runs.into_iter().enumerate() {
        let body =
            json!({ "workspace_id": ws, "amount": amount, "user_id": user, "campaign_id": campaign, "reason": "run" });
        debit(app, org, &format!("r-{i}"), body).await;
    }
    (a, b, cmp)
}

fn range(app: &TestApp) -> (String, String) {
    let now = app.clock_now().millis();
    let at = |ms: i64| steward_core::time::Timestamp::from_millis(ms).to_rfc3339();
    (at(now - 7 * 86_400_000), at(now + 86_400_000))
}

/// Asks for a report and runs the job; the finished report's JSON.
async fn report(app: &TestApp, org: &Org, kind: &str, format: &str) -> Value {
    let (from, to) = range(app);
    let body = json!({ "type": kind, "format": format, "from": from, "to": to });
    let r = app.post("/api/v1/reports", Auth::Bearer(&org.admin_token), body).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.json["status"], "queued");
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(r.headers.get("location").unwrap().to_str().unwrap(), format!("/api/v1/reports/{id}"));
    let early = app.get(&format!("/api/v1/reports/{id}/download"), Auth::Bearer(&org.admin_token)).await;
    assert_eq!((early.status, early.code()), (409, "report_not_ready"), "{}", early.text);
    app.run_jobs().await;
    let done = app.get(&format!("/api/v1/reports/{id}"), Auth::Bearer(&org.admin_token)).await;
    assert_eq!(
        (done.json["status"].as_str(), done.json["progress"].as_i64()),
        (Some("ready"), Some(100)),
        "{}",
        done.text
    );
    done.json
}

async fn download(app: &TestApp, org: &Org, report: &Value) -> common::Resp {
    let url = report["download_url"].as_str().expect("a ready report has its link");
    let r = app.get(url, Auth::Bearer(&org.admin_token)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

/// A small RFC 4180 reader for the tests: quoted cells, doubled quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell, mut quoted) = (Vec::new(), Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}

#[tokio::test]
async fn csv_reports_count_each_type_right() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let (a, b, cmp) = history(&app, &org).await;

        let by_ws = report(&app, &org, "usage_by_workspace", "csv").await;
        assert_eq!((by_ws["lines"].as_i64(), by_ws["total_used"].as_i64()), (Some(2), Some(1000)));
        let r = download(&app, &org, &by_ws).await;
        assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(r.headers["content-disposition"].to_str().unwrap().contains("usage-by-workspace-"));
        let rows = parse_csv(&r.text);
        assert_eq!(rows[0], ["workspace_id", "workspace", "credits_used", "share_percent"]);
        assert_eq!(rows[1], [a.as_str(), "'=Client A", "700", "70.0"], "most first; a formula defused");
        assert_eq!(rows[2], [b.as_str(), "Client, B", "300", "30.0"], "a comma quoted");
        assert_eq!(rows.len(), 3);

        let by_user = report(&app, &org, "usage_by_user", "csv").await;
        let rows = parse_csv(&download(&app, &org, &by_user).await.text);
        assert_eq!(rows[0], ["user_id", "user", "email", "credits_used", "share_percent"]);
        assert_eq!(rows[1][..4], [org.admin_id.as_str(), "Ada Admin", org.admin_email.as_str(), "600"]);
        assert_eq!(rows[2][..4], [org.member_id.as_str(), "Max Member", "member@acme.example", "300"]);
        assert_eq!(by_user["total_used"].as_i64(), Some(900), "the debit without a user is in no line");

        let costs = report(&app, &org, "campaign_costs", "csv").await;
        let rows = parse_csv(&download(&app, &org, &costs).await.text);
        assert_eq!(
            rows[1],
            [cmp.as_str(), "Spring launch", "=Client A", "600", "100.0"].map(|c| {
                // The workspace cell is text a spreadsheet would run: defused.
                if c.starts_with('=') { format!("'{c}") } else { c.to_owned() }
            })
        );

        let actions = app.actions(&org.id).await;
        assert_eq!(actions.iter().filter(|a| *a == "report.requested").count(), 3);
        assert_eq!(actions.iter().filter(|a| *a == "report.generated").count(), 3);
        let list = app.get("/api/v1/reports?limit=2", Auth::Bearer(&org.admin_key)).await;
        assert_eq!(list.json["data"].as_array().unwrap().len(), 2);
        assert_eq!(list.json["data"][0]["id"], costs["id"], "newest first");
        assert!(list.json["next_cursor"].is_string());
    }
}

/// poppler's tools, or a skip with the reason (a failure under CI=true).
fn poppler() -> bool {
    let here = Command::new("pdftotext").arg("-v").output().is_ok();
    if !here {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "pdftotext is not installed, and CI=true requires the PDF checks (.ci/run installs poppler-utils)"
        );
        eprintln!("skipping the PDF checks: pdftotext (poppler-utils) is not installed");
    }
    here
}

#[tokio::test]
async fn a_pdf_report_reads_right_and_renders() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        history(&app, &org).await;
        let costs = report(&app, &org, "usage_by_workspace", "pdf").await;
        let r = download(&app, &org, &costs).await;
        assert_eq!(r.headers["content-type"], "application/pdf");
        assert!(r.body.starts_with(b"%PDF-"), "a PDF");
        if !poppler() {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("report.pdf");
        std::fs::write(&file, &r.body).unwrap();
        // To look at one: STEWARD_REPORT_OUT=/tmp/report.pdf.
        if let Ok(out) = std::env::var("STEWARD_REPORT_OUT") {
            std::fs::write(out, &r.body).unwrap();
        }
        let text = Command::new("pdftotext").args(["-layout"]).arg(&file).arg("-").output().unwrap();
        assert!(text.status.success(), "{}", String::from_utf8_lossy(&text.stderr));
        let text = String::from_utf8(text.stdout).unwrap();
        for expected in [
            "Credit usage by workspace",
            "Org acme",
            "Period:",
            "Generated:",
            "=Client A",
            "Client, B",
            "Total",
            "1,000",
            "70.0 %",
            "Credits used",
        ] {
            assert!(text.contains(expected), "{expected:?} in the PDF's text:\n{text}");
        }
        let png = dir.path().join("page");
        let drawn = Command::new("pdftoppm")
            .args(["-png", "-r", "50", "-f", "1", "-l", "1"])
            .arg(&file)
            .arg(&png)
            .output()
            .unwrap();
        assert!(drawn.status.success(), "{}", String::from_utf8_lossy(&drawn.stderr));
        let page = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| e.path().extension().is_some_and(|x| x == "png"));
        assert!(page.is_some_and(|p| p.metadata().unwrap().len() > 1000), "page 1 drawn");
    }
}

#[tokio::test]
async fn reports_refuse_bad_input_stay_in_their_organization_and_expire() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        let other = app.org("globex").await;
        history(&app, &org).await;
        let (from, to) = range(&app);
        let auth = Auth::Bearer(&org.admin_token);
        let bad = [
            (json!({ "type": "xls", "format": "csv", "from": from, "to": to }), "type"),
            (json!({ "type": "usage_by_user", "format": "doc", "from": from, "to": to }), "format"),
            (json!({ "type": "usage_by_user", "format": "csv", "from": to, "to": from }), "to"),
            (
                json!({ "type": "usage_by_user", "format": "csv", "from": "2020-01-01T00:00:00Z", "to": "2023-01-01T00:00:00Z" }),
                "to",
            ),
            (json!({ "type": "usage_by_user", "format": "csv", "from": "yesterday", "to": to }), "from"),
        ];
        for (body, field) in bad {
            let r = app.post("/api/v1/reports", auth, body.clone()).await;
            assert_eq!(r.status, 422, "{body}: {}", r.text);
            assert!(r.text.contains(field), "{body}: names {field}: {}", r.text);
        }
        let r = app
            .post(
                "/api/v1/reports",
                Auth::Bearer(&org.member_token),
                json!({ "type": "usage_by_user", "format": "csv", "from": from, "to": to }),
            )
            .await;
        assert_eq!(r.status, 403, "members don't see billing: {}", r.text);

        let done = report(&app, &org, "usage_by_workspace", "csv").await;
        let id = done["id"].as_str().unwrap();
        for path in [format!("/api/v1/reports/{id}"), format!("/api/v1/reports/{id}/download")] {
            let r = app.get(&path, Auth::Bearer(&other.admin_token)).await;
            assert_eq!(r.status, 404, "another organization's report: {}", r.text);
        }
        let theirs = app.get("/api/v1/reports", Auth::Bearer(&other.admin_token)).await;
        assert_eq!(theirs.json["data"].as_array().unwrap().len(), 0);

        // Kept seven days, then the link is gone and the hourly pass removes the file.
        app.clock.advance_seconds(7 * 86_400 + 1);
        // A key: the sign-in session has timed out meanwhile.
        let auth = Auth::Bearer(&org.admin_key);
        let later = app.get(&format!("/api/v1/reports/{id}"), auth).await;
        assert_eq!((later.json["status"].as_str(), later.json["download_url"].is_null()), (Some("expired"), true));
        let gone = app.get(&format!("/api/v1/reports/{id}/download"), auth).await;
        assert_eq!((gone.status, gone.code()), (410, "report_expired"), "{}", gone.text);
        let key = format!("reports/{}/{id}.csv", org.id);
        assert!(app.state.files.get(&key).await.unwrap().is_some(), "still stored until the pass");
        let system = steward_server::services::Ctx::system("reports", app.clock_now()).in_org(&org.id.parse().unwrap());
        let expired = steward_server::services::reports::expire_old(app.db(), &system, &app.state.files).await.unwrap();
        assert_eq!(expired, 1);
        assert!(app.state.files.get(&key).await.unwrap().is_none(), "the file is removed");
        assert!(app.actions(&org.id).await.contains(&"report.expired".to_owned()));
        let gone = app.get(&format!("/api/v1/reports/{id}/download"), auth).await;
        assert_eq!(gone.status, 410);

        // A report whose job never ran (its worker died each time) fails after an hour.
        let body = json!({ "type": "usage_by_user", "format": "pdf", "from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z" });
        let stuck = app.post("/api/v1/reports", auth, body).await;
        assert_eq!(stuck.status, 202, "{}", stuck.text);
        app.clock.advance_seconds(3_601);
        let system = steward_server::services::Ctx::system("reports", app.clock_now()).in_org(&org.id.parse().unwrap());
        steward_server::services::reports::expire_old(app.db(), &system, &app.state.files).await.unwrap();
        let r = app.get(&format!("/api/v1/reports/{}", stuck.json["id"].as_str().unwrap()), auth).await;
        assert_eq!(r.json["status"], "failed", "{}", r.text);
        assert!(r.json["error"].as_str().unwrap().contains("within an hour"));
        assert!(app.actions(&org.id).await.contains(&"report.failed".to_owned()));
    }
}
