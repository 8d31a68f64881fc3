//! The credit usage and report benchmark of issue 14, for `bench/reports`:
//! an organization with `--entries` ledger entries (default 10,000,000) over
//! 90 days across 1,000 workspaces, inserted in bulk with their daily rollups,
//! then timed: the first page (50 lines, most first, and the total) of usage
//! by workspace over 30, 90 and 365 days (what
//! `GET /api/v1/credits/usage?group_by=workspace` runs), and a PDF report of
//! all 1,000 workspaces (counted, charted, drawn). Prints one line per figure:
//!
//!   usage_by_workspace_first_page days=90 rows=50 p50_ms=… max_ms=…
//!
//! Run: `cargo run --release -p steward-server --example reports_bench -- [DATABASE_URL] [--entries N] [--out report.pdf]`
//! (no URL: a fresh SQLite file in a temporary folder).

use std::time::Instant;

use steward_core::ids::{OrgId, ReportId};
use steward_core::permissions::Permission;
use steward_core::reports::{ReportFormat, ReportStatus, ReportType};
use steward_core::time::Timestamp;
use steward_server::services::credits::{self, GroupBy};
use steward_server::services::setup::{self, NewOrganization};
use steward_server::services::{Ctx, reports};
use steward_store::reports::Report;
use steward_store::{Db, Engine};

const DAY_MS: i64 = 86_400_000;
const WORKSPACES: i64 = 1_000;
const CHUNK: i64 = 500_000;

fn arg_value(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn entries_arg() -> i64 {
    arg_value("--entries").and_then(|v| v.parse().ok()).unwrap_or(10_000_000)
}

fn percentile(mut ms: Vec<f64>, p: f64) -> f64 {
    ms.sort_by(f64::total_cmp);
    ms[((ms.len() as f64 - 1.0) * p).round() as usize]
}

/// Ledger entries `from..to` of `org`: debits of 1–50 credits, a workspace each
/// (round robin), spread over the 90 days before `now`.
fn insert_sql(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => {
            "WITH RECURSIVE n(i) AS (SELECT $2 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $3) \
             INSERT INTO credit_entries (id, org_id, kind, amount, balance_after, workspace_id, refunded, reason, metadata, actor_type, occurred_at) \
             SELECT printf('cre_%032x', i), $1, 'debit', -(i % 50 + 1), 0, printf('ws_%032x', i % 1000), 0, 'bench', '{}', 'api_key', \
             $4 - (i * 7919 % (90 * 86400)) * 1000 FROM n"
        }
        Engine::Postgres => {
            "INSERT INTO credit_entries (id, org_id, kind, amount, balance_after, workspace_id, refunded, reason, metadata, actor_type, occurred_at) \
             SELECT 'cre_' || lpad(to_hex(i), 32, '0'), $1, 'debit', -(i % 50 + 1), 0, 'ws_' || lpad(to_hex(i % 1000), 32, '0'), 0, 'bench', '{}', 'api_key', \
             $4 - (i * 7919 % (90 * 86400)) * 1000 FROM generate_series($2::bigint, $3::bigint - 1) AS i"
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let entries = entries_arg();
    let dir = tempfile::tempdir()?;
    let url = std::env::args()
        .nth(1)
        .filter(|a| !a.starts_with("--"))
        .unwrap_or_else(|| steward_store::db::sqlite_url(dir.path()));
    let db = Db::connect(&url).await?;
    steward_store::migrations::run(&db).await?;
    let now = Timestamp::now_utc();
    let slug = format!("bench-{}", now.millis());
    let org = NewOrganization {
        name: "Bench Agency".into(),
        slug: Some(slug),
        admin_email: format!("admin-{}@bench.example", now.millis()),
        admin_name: None,
        admin_password: None,
    };
    let created = setup::create(&db, &Ctx::operator(now), None, org, 72).await?;
    let org_id: OrgId = created.organization.id.clone();

    let started = Instant::now();
    let mut at = 0;
    while at < entries {
        let end = (at + CHUNK).min(entries);
        sqlx::query(sqlx::AssertSqlSafe(insert_sql(db.engine())))
            .bind(org_id.as_str())
            .bind(at)
            .bind(end)
            .bind(now.millis())
            .execute(db.pool())
            .await?;
        at = end;
    }
    // The rollups the debits would have kept, in one pass over the ledger.
    // In day order, as debits write them day after day.
    for (dimension, key) in [("org", "''"), ("workspace", "workspace_id")] {
        let sql = format!(
            "INSERT INTO credit_usage (org_id, dimension, key, day, used) \
             SELECT org_id, '{dimension}', k, d, CAST(-SUM(amount) AS BIGINT) FROM \
             (SELECT org_id, {key} AS k, (occurred_at / {DAY_MS}) * {DAY_MS} AS d, amount FROM credit_entries WHERE org_id = $1) e \
             GROUP BY org_id, k, d ORDER BY d, k"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id.as_str()).execute(db.pool()).await?;
    }
    if db.engine() == Engine::Postgres {
        sqlx::query("ANALYZE").execute(db.pool()).await?;
    }
    println!(
        "engine={} entries={entries} workspaces={WORKSPACES} load_seconds={:.0}",
        db.engine().name(),
        started.elapsed().as_secs_f64()
    );

    let ctx = Ctx::operator(now).in_org(&org_id);
    let to = Timestamp::from_millis(now.millis() + 1);
    for days in [30, 90, 365] {
        let from = Timestamp::from_millis(to.millis() - days * DAY_MS);
        let mut ms = Vec::new();
        let mut rows = 0;
        for _ in 0..30 {
            let t = Instant::now();
            let first = steward_core::pagination::Page { limit: 50, after: None };
            let (page, next, _total) = credits::usage_page(&db, &ctx, GroupBy::Workspace, (from, to), &first).await?;
            assert!(next.is_some(), "1,000 workspaces make more than one page");
            rows = page.len();
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "usage_by_workspace_first_page days={days} rows={rows} p50_ms={:.2} max_ms={:.2}",
            percentile(ms.clone(), 0.5),
            percentile(ms, 1.0)
        );
    }

    let scope = ctx.authorize(Permission::BillingRead)?;
    let report = Report {
        id: ReportId::new(),
        org_id: org_id.clone(),
        report_type: ReportType::UsageByWorkspace,
        format: ReportFormat::Pdf,
        from: Timestamp::from_millis(to.millis() - 90 * DAY_MS),
        to,
        status: ReportStatus::Running,
        progress: 0,
        lines: None,
        total_used: None,
        bytes: None,
        file_key: None,
        error: None,
        requested_by: None,
        created_at: now,
        finished_at: None,
        expires_at: None,
    };
    let mut ms = Vec::new();
    let (mut bytes, mut lines) = (0, 0);
    for _ in 0..5 {
        let t = Instant::now();
        let contents = reports::contents(&db, &scope, &report, now).await?;
        lines = contents.lines.len();
        let pdf = reports::render(ReportFormat::Pdf, contents).await?;
        bytes = pdf.len();
        // `--out FILE` keeps the PDF to look at.
        if let Some(out) = arg_value("--out") {
            std::fs::write(out, &pdf)?;
        }
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "pdf_report workspaces={lines} bytes={bytes} p50_ms={:.0} max_ms={:.0}",
        percentile(ms.clone(), 0.5),
        percentile(ms, 1.0)
    );
    Ok(())
}
