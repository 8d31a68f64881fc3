//! Usage reports (BILL-4): a Super Admin asks for one (type, range, CSV or
//! PDF); a job counts it from the usage rollups, writes the file through the
//! file storage, and marks it ready with its progress along the way. The file
//! can be downloaded for [`KEEP_DAYS`] days, then the hourly pass removes it.
//! Asking and each outcome are audited.

mod pdf;

use serde::Deserialize;
use serde_json::json;
use steward_core::ids::ReportId;
use steward_core::messages::problem;
use steward_core::pagination::{self, Page};
use steward_core::permissions::Permission;
use steward_core::reports::{KEEP_DAYS, KEEP_MS, Line, MAX_PENDING, ReportFormat, ReportStatus, ReportType, share};
use steward_core::time::Timestamp;
use steward_core::{Error, Result};
use steward_store::credits::usage::{self, Dimension};
use steward_store::reports::{self as store, Report, Written};
use steward_store::scope::OrgScope;
use steward_store::{Db, audit, organizations};

use super::{Ctx, EventExt};
use crate::charts::UsageChart;
use crate::console::format;
use crate::files::Files;
use crate::jobs::{self, Enqueue};
use crate::services::credits::{GroupBy, every_period};

const TARGET: &str = "report";

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    #[serde(rename = "type")]
    pub report_type: ReportType,
    pub format: ReportFormat,
    /// The range's start (RFC 3339).
    pub from: Timestamp,
    /// The range's end (RFC 3339), after `from` and at most two years later.
    pub to: Timestamp,
}

/// Queues a report; the job writes it.
pub async fn request(db: &Db, ctx: &Ctx, input: ReportRequest) -> Result<Report> {
    let org = ctx.authorize(Permission::ReportsCreate)?;
    steward_core::credits::range(input.from, input.to)?;
    let mut tx = db.write(&org).await?;
    if store::count_pending(&mut tx, &org).await? >= MAX_PENDING {
        return Err(Error::conflict(&problem::TOO_MANY_REPORTS, &[("max", &MAX_PENDING)]));
    }
    let r = Report {
        id: ReportId::new(),
        org_id: org.id().clone(),
        report_type: input.report_type,
        format: input.format,
        from: input.from,
        to: input.to,
        status: ReportStatus::Queued,
        progress: 0,
        lines: None,
        total_used: None,
        bytes: None,
        file_key: None,
        error: None,
        requested_by: ctx.principal.actor().id,
        created_at: ctx.now,
        finished_at: None,
        expires_at: None,
    };
    store::insert(&mut tx, &org, &r).await?;
    let job = crate::jobs::reports::Generate { report_id: r.id.clone() };
    jobs::enqueue(&mut tx, &job, Enqueue { org: Some(org.id().clone()), ..Enqueue::default() }, ctx.now).await?;
    let event = ctx.event(&org, "report.requested", TARGET, &r.id).metadata(json!({
        "type": r.report_type, "format": r.format, "from": r.from, "to": r.to,
    }));
    let done = audit::append(&mut tx, event).await?;
    tx.commit(done).await?;
    Ok(r)
}

pub async fn get(db: &Db, ctx: &Ctx, id: &ReportId) -> Result<Report> {
    let org = ctx.authorize(Permission::BillingRead)?;
    let mut c = db.conn().await?;
    store::get(&mut c, &org, id).await?.ok_or_else(|| Error::not_found("report"))
}

/// Newest first.
pub async fn list(db: &Db, ctx: &Ctx, page: &Page) -> Result<(Vec<Report>, Option<String>)> {
    let org = ctx.authorize(Permission::BillingRead)?;
    let mut c = db.conn().await?;
    let rows = store::list(&mut c, &org, page.after.as_deref(), i64::from(page.limit) + 1).await?;
    Ok(pagination::finish(rows, page, |r| r.id.to_string()))
}

/// The file's name as a download offers it.
pub fn filename(r: &Report) -> String {
    format!(
        "{}-{}-{}.{}",
        r.report_type.as_str().replace('_', "-"),
        r.from.utc_date(),
        r.to.utc_date(),
        r.format.as_str()
    )
}

/// A ready report's record and bytes: `409 report_not_ready` while it is
/// written, `410 report_expired` after its keeping time.
pub async fn download(db: &Db, ctx: &Ctx, files: &Files, id: &ReportId) -> Result<(Report, Vec<u8>)> {
    let r = get(db, ctx, id).await?;
    let key = match (r.status, &r.file_key) {
        (_, Some(key)) if r.downloadable(ctx.now) => key.clone(),
        (ReportStatus::Ready | ReportStatus::Expired, _) => {
            return Err(Error::new(410, &problem::REPORT_EXPIRED, &[("days", &KEEP_DAYS)]));
        }
        (ReportStatus::Failed, _) => return Err(Error::conflict(&problem::REPORT_FAILED, &[])),
        _ => return Err(Error::conflict(&problem::REPORT_NOT_READY, &[("progress", &r.progress)])),
    };
    let bytes = files.get(&key).await?.ok_or_else(|| {
        tracing::error!(report = %r.id, key, "a ready report's file is missing from storage");
        Error::internal()
    })?;
    Ok((r, bytes))
}

/// What a report's file shows, gathered before it is written.
pub struct Contents {
    pub report_type: ReportType,
    pub org_name: String,
    pub range_text: String,
    pub generated_text: String,
    /// One sentence: the total and what it covers.
    pub summary: String,
    pub chart: UsageChart,
    pub lines: Vec<Line>,
    pub total: i64,
}

/// Days up to two months, weeks up to half a year, months beyond.
pub fn period_for(from: Timestamp, to: Timestamp) -> GroupBy {
    let days = (to.millis() - from.millis()) / 86_400_000;
    if days <= 62 {
        GroupBy::Day
    } else if days <= 183 {
        GroupBy::Week
    } else {
        GroupBy::Month
    }
}

pub fn x_name(g: GroupBy) -> &'static str {
    match g {
        GroupBy::Week => "Week starting",
        GroupBy::Month => "Month",
        _ => "Day",
    }
}

/// Counts the report's lines from the usage rollups and labels them.
pub async fn contents(db: &Db, org: &OrgScope, r: &Report, now: Timestamp) -> Result<Contents> {
    let mut c = db.conn().await?;
    let org_name = organizations::get(&mut c, org).await?.map(|o| o.name).unwrap_or_else(|| org.to_string());
    let dimension = match r.report_type {
        ReportType::UsageByWorkspace => Dimension::Workspace,
        ReportType::UsageByUser => Dimension::User,
        ReportType::CampaignCosts => Dimension::Campaign,
    };
    let counted = usage::by_key(&mut c, org, dimension, r.from, r.to).await?;
    let ids: Vec<String> = counted.iter().map(|(id, _)| id.clone()).collect();
    let labels = store::labels(&mut c, org, r.report_type, &ids).await?;
    let names: std::collections::HashMap<&str, (&str, &str)> =
        labels.iter().map(|(id, name, detail)| (id.as_str(), (name.as_str(), detail.as_str()))).collect();
    let lines: Vec<Line> = counted
        .into_iter()
        .map(|(id, used)| {
            let (name, detail) =
                names.get(id.as_str()).map_or((id.clone(), String::new()), |(n, d)| ((*n).to_owned(), (*d).to_owned()));
            Line { id, name, detail, used }
        })
        .collect();
    let total: i64 = lines.iter().map(|l| l.used).sum();
    let days = usage::by_day(&mut c, org, r.from, r.to).await?;
    let org_total: i64 = days.iter().map(|(_, used)| used).sum();
    let group = period_for(r.from, r.to);
    let what = match r.report_type {
        ReportType::UsageByWorkspace => "workspaces",
        ReportType::UsageByUser => "members",
        ReportType::CampaignCosts => "campaigns",
    };
    let mut summary = format!("{} credits used by {} {what}.", format::int(total), format::int(lines.len() as i64));
    if total != org_total {
        summary.push_str(&format!(
            " The organization used {} in all; the rest was not attributed to one.",
            format::int(org_total)
        ));
    }
    Ok(Contents {
        report_type: r.report_type,
        org_name,
        range_text: format!("{} to {} (UTC)", r.from.utc_date(), Timestamp::from_millis(r.to.millis() - 1).utc_date()),
        generated_text: format!("{} UTC", now.to_rfc3339().get(..16).unwrap_or_default().replace('T', " ")),
        summary,
        chart: UsageChart {
            periods: every_period(&days, group, r.from, r.to),
            projected: Vec::new(),
            x_name: x_name(group).into(),
        },
        lines,
        total,
    })
}

/// The report as CSV (RFC 4180): a header, then one line per row, most used first.
pub fn csv(c: &Contents) -> Vec<u8> {
    let mut out = String::with_capacity(64 * (c.lines.len() + 1));
    let header: &[&str] = match c.report_type {
        ReportType::UsageByWorkspace => &["workspace_id", "workspace", "credits_used", "share_percent"],
        ReportType::UsageByUser => &["user_id", "user", "email", "credits_used", "share_percent"],
        ReportType::CampaignCosts => &["campaign_id", "campaign", "workspace", "credits_used", "share_percent"],
    };
    steward_core::csv::push_row(&mut out, header);
    for l in &c.lines {
        let mut cells = vec![l.id.clone(), l.name.clone()];
        if c.report_type != ReportType::UsageByWorkspace {
            cells.push(l.detail.clone());
        }
        cells.push(l.used.to_string());
        cells.push(share(l.used, c.total));
        steward_core::csv::push_row(&mut out, &cells);
    }
    out.into_bytes()
}

/// The file's bytes in the report's format (the PDF drawn off the async threads).
pub async fn render(format: ReportFormat, c: Contents) -> Result<Vec<u8>> {
    match format {
        ReportFormat::Csv => Ok(csv(&c)),
        ReportFormat::Pdf => tokio::task::spawn_blocking(move || pdf::render(&c))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "drawing a PDF report panicked");
                Error::internal()
            })?
            .ok_or_else(Error::internal),
    }
}

/// Moves a running report's progress bar (nobody's action: not audited).
pub async fn progress(db: &Db, org: &OrgScope, id: &ReportId, percent: i64) -> Result<bool> {
    let mut tx = db.write_deployment().await?;
    let pending = store::set_progress(&mut tx, org, id, percent).await?;
    tx.commit_unaudited().await?;
    Ok(pending)
}

pub fn file_key(org: &OrgScope, r: &Report) -> String {
    format!("reports/{}/{}.{}", org.as_str(), r.id, r.format.as_str())
}

/// Marks the report ready with its file, audited as the system's.
pub async fn finish(db: &Db, ctx: &Ctx, r: &Report, w: Written) -> Result<bool> {
    let org = ctx.authorize(Permission::BillingRead)?;
    let mut tx = db.write(&org).await?;
    if !store::mark_ready(&mut tx, &org, &r.id, &w, ctx.now).await? {
        tx.commit_unaudited().await?;
        return Ok(false);
    }
    let event = ctx.event(&org, "report.generated", TARGET, &r.id).metadata(json!({
        "type": r.report_type, "format": r.format, "lines": w.lines, "bytes": w.bytes, "expires_at": w.expires_at,
    }));
    let done = audit::append(&mut tx, event).await?;
    tx.commit(done).await?;
    Ok(true)
}

/// Marks the report failed, audited as the system's.
pub async fn fail(db: &Db, ctx: &Ctx, r: &Report, why: &str) -> Result<()> {
    let org = ctx.authorize(Permission::BillingRead)?;
    let mut tx = db.write(&org).await?;
    if !store::mark_failed(&mut tx, &org, &r.id, why, ctx.now).await? {
        tx.commit_unaudited().await?;
        return Ok(());
    }
    let event = ctx.event(&org, "report.failed", TARGET, &r.id).metadata(json!({ "error": why }));
    let done = audit::append(&mut tx, event).await?;
    Ok(tx.commit(done).await?)
}

/// A report not written an hour after it was asked for has failed (its job
/// died with its worker every time): it stops counting as in progress.
pub const STALE_MS: i64 = 3_600_000;

/// Ready reports past their keeping time: files removed, rows marked
/// expired. Reports stuck pending for an hour are marked failed.
pub async fn expire_old(db: &Db, ctx: &Ctx, files: &Files) -> Result<usize> {
    let org = ctx.authorize(Permission::BillingRead)?;
    let mut c = db.conn().await?;
    let due = store::past_keeping(&mut c, &org, ctx.now).await?;
    let stale = store::stale_pending(&mut c, &org, Timestamp::from_millis(ctx.now.millis() - STALE_MS)).await?;
    drop(c);
    for r in &stale {
        fail(db, ctx, r, "it was not written within an hour; ask for it again").await?;
    }
    let mut expired = 0;
    for r in due {
        let mut tx = db.write(&org).await?;
        if !store::mark_expired(&mut tx, &org, &r.id).await? {
            tx.commit_unaudited().await?;
            continue;
        }
        let event = ctx.event(&org, "report.expired", TARGET, &r.id).metadata(json!({ "days": KEEP_DAYS }));
        let done = audit::append(&mut tx, event).await?;
        tx.commit(done).await?;
        expired += 1;
        if let Some(key) = &r.file_key
            && let Err(e) = files.delete(key).await
        {
            tracing::warn!(error = %e, report = %r.id, "could not remove an expired report's file");
        }
    }
    Ok(expired)
}

/// When a report finished now is removed.
pub fn expiry(now: Timestamp) -> Timestamp {
    Timestamp::from_millis(now.millis() + KEEP_MS)
}
