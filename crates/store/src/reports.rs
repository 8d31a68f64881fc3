//! Usage reports: the row that tracks each one from request to download, and
//! the names its lines are labelled with.

use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use steward_core::ids::{OrgId, ReportId};
use steward_core::reports::{ReportFormat, ReportStatus, ReportType};
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::row::{Arg, Sql, bind_all, int, opt_text, opt_time, parsed, text, time};
use crate::scope::OrgScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: ReportId,
    pub org_id: OrgId,
    pub report_type: ReportType,
    pub format: ReportFormat,
    pub from: Timestamp,
    pub to: Timestamp,
    pub status: ReportStatus,
    pub progress: i64,
    pub lines: Option<i64>,
    pub total_used: Option<i64>,
    pub bytes: Option<i64>,
    pub file_key: Option<String>,
    pub error: Option<String>,
    pub requested_by: Option<String>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
}

impl Report {
    /// Ready and within its keeping time: its file can be downloaded.
    pub fn downloadable(&self, now: Timestamp) -> bool {
        self.status == ReportStatus::Ready && self.file_key.is_some() && self.expires_at.is_none_or(|t| t > now)
    }
}

const COLUMNS: &str = "id, org_id, report_type, format, range_from, range_to, status, progress, line_count, total_used, \
    bytes, file_key, error, requested_by, created_at, finished_at, expires_at";

fn from_row(r: &AnyRow) -> StoreResult<Report> {
    use sqlx::Row;
    Ok(Report {
        id: ReportId::from_trusted(text(r, "id")?),
        org_id: OrgId::from_trusted(text(r, "org_id")?),
        report_type: parsed(r, "report_type", ReportType::parse)?,
        format: parsed(r, "format", ReportFormat::parse)?,
        from: time(r, "range_from")?,
        to: time(r, "range_to")?,
        status: parsed(r, "status", ReportStatus::parse)?,
        progress: int(r, "progress")?,
        lines: r.try_get::<Option<i64>, _>("line_count")?,
        total_used: r.try_get::<Option<i64>, _>("total_used")?,
        bytes: r.try_get::<Option<i64>, _>("bytes")?,
        file_key: opt_text(r, "file_key")?,
        error: opt_text(r, "error")?,
        requested_by: opt_text(r, "requested_by")?,
        created_at: time(r, "created_at")?,
        finished_at: opt_time(r, "finished_at")?,
        expires_at: opt_time(r, "expires_at")?,
    })
}

pub async fn insert(tx: &mut WriteTx, org: &OrgScope, x: &Report) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO reports (id, org_id, report_type, format, range_from, range_to, status, progress, requested_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)",
    )
    .bind(x.id.as_str())
    .bind(org.as_str())
    .bind(x.report_type.as_str())
    .bind(x.format.as_str())
    .bind(x.from.millis())
    .bind(x.to.millis())
    .bind(x.status.as_str())
    .bind(&x.requested_by)
    .bind(x.created_at.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn get(c: &mut Conn, org: &OrgScope, id: &ReportId) -> StoreResult<Option<Report>> {
    let sql = format!("SELECT {COLUMNS} FROM reports WHERE org_id = $1 AND id = $2");
    crate::row::one(c, sql, vec![org.as_str().into(), id.as_str().into()], from_row).await
}

/// Newest first.
pub async fn list(c: &mut Conn, org: &OrgScope, before: Option<&str>, limit: i64) -> StoreResult<Vec<Report>> {
    let sql = format!("SELECT {COLUMNS} FROM reports WHERE org_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3");
    // Ids sort by time and start with `rpt_`; `rpt_g` sorts after every one.
    let before = before.unwrap_or("rpt_g");
    crate::row::all(c, sql, vec![org.as_str().into(), before.into(), limit.into()], from_row).await
}

/// Reports of the organization still to be written.
pub async fn count_pending(c: &mut Conn, org: &OrgScope) -> StoreResult<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM reports WHERE org_id = $1 AND status IN ('queued', 'running')")
            .bind(org.as_str())
            .fetch_one(c)
            .await?;
    Ok(n)
}

/// Marks a pending report running at `progress` percent; false when it is
/// no longer pending (finished by an earlier attempt).
pub async fn set_progress(tx: &mut WriteTx, org: &OrgScope, id: &ReportId, progress: i64) -> StoreResult<bool> {
    let res = sqlx::query(
        "UPDATE reports SET status = 'running', progress = $3 WHERE org_id = $1 AND id = $2 AND status IN ('queued', 'running')",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .bind(progress)
    .execute(&mut **tx)
    .await?;
    Ok(res.rows_affected() == 1)
}

/// What a finished report's file holds.
#[derive(Debug, Clone)]
pub struct Written {
    pub file_key: String,
    pub bytes: i64,
    pub lines: i64,
    pub total_used: i64,
    pub expires_at: Timestamp,
}

pub async fn mark_ready(
    tx: &mut WriteTx,
    org: &OrgScope,
    id: &ReportId,
    w: &Written,
    now: Timestamp,
) -> StoreResult<bool> {
    let res = sqlx::query(
        "UPDATE reports SET status = 'ready', progress = 100, file_key = $3, bytes = $4, line_count = $5, total_used = $6, \
         finished_at = $7, expires_at = $8 WHERE org_id = $1 AND id = $2 AND status IN ('queued', 'running')",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .bind(&w.file_key)
    .bind(w.bytes)
    .bind(w.lines)
    .bind(w.total_used)
    .bind(now.millis())
    .bind(w.expires_at.millis())
    .execute(&mut **tx)
    .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn mark_failed(
    tx: &mut WriteTx,
    org: &OrgScope,
    id: &ReportId,
    error: &str,
    now: Timestamp,
) -> StoreResult<bool> {
    let res = sqlx::query(
        "UPDATE reports SET status = 'failed', error = $3, finished_at = $4 WHERE org_id = $1 AND id = $2 AND status IN ('queued', 'running')",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .bind(error)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(res.rows_affected() == 1)
}

/// Ready reports of the organization whose keeping time is over.
pub async fn past_keeping(c: &mut Conn, org: &OrgScope, now: Timestamp) -> StoreResult<Vec<Report>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM reports WHERE org_id = $1 AND status = 'ready' AND expires_at <= $2 ORDER BY id"
    );
    crate::row::all(c, sql, vec![org.as_str().into(), now.millis().into()], from_row).await
}

/// Reports of the organization asked for before `before` and still not written.
pub async fn stale_pending(c: &mut Conn, org: &OrgScope, before: Timestamp) -> StoreResult<Vec<Report>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM reports WHERE org_id = $1 AND status IN ('queued', 'running') AND created_at < $2 ORDER BY id"
    );
    crate::row::all(c, sql, vec![org.as_str().into(), before.millis().into()], from_row).await
}

pub async fn mark_expired(tx: &mut WriteTx, org: &OrgScope, id: &ReportId) -> StoreResult<bool> {
    let res = sqlx::query(
        "UPDATE reports SET status = 'expired', file_key = NULL WHERE org_id = $1 AND id = $2 AND status = 'ready'",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(res.rows_affected() == 1)
}

/// The names a report labels its lines with: (id, name, detail) for the
/// given workspace, user or campaign ids of the organization. A user's
/// detail is their email; a campaign's, its workspace's name.
pub async fn labels(
    c: &mut Conn,
    org: &OrgScope,
    t: ReportType,
    ids: &[String],
) -> StoreResult<Vec<(String, String, String)>> {
    let mut out = Vec::with_capacity(ids.len());
    // In chunks: SQLite takes a bounded number of parameters.
    for chunk in ids.chunks(500) {
        let mut sql = Sql::new(match t {
            ReportType::UsageByWorkspace => "SELECT id, name, '' AS detail FROM workspaces w WHERE w.org_id = ",
            ReportType::UsageByUser => "SELECT id, name, email AS detail FROM users w WHERE w.org_id = ",
            ReportType::CampaignCosts => {
                "SELECT c.id AS id, c.name AS name, w.name AS detail FROM campaigns c JOIN workspaces w ON w.id = c.workspace_id WHERE c.org_id = "
            }
        });
        sql.push("?", [Arg::Text(org.to_string())]);
        let column = if t == ReportType::CampaignCosts { " AND c.id IN " } else { " AND w.id IN " };
        sql.push_list(column, chunk.iter().map(|id| Arg::Text(id.clone())));
        let (query, args) = sql.query();
        let rows = bind_all(sqlx::query(AssertSqlSafe(query)), args).fetch_all(&mut *c).await?;
        for r in &rows {
            out.push((text(r, "id")?, text(r, "name")?, text(r, "detail")?));
        }
    }
    Ok(out)
}
