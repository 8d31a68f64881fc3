//! Rollups behind the dashboard: campaigns created and content published per
//! organization and 15-minute slot, and each workspace's count of active
//! campaigns. The store functions that change campaigns and content keep them
//! in step, inside the caller's transaction.

use steward_core::ids::{OrgId, WorkspaceId};
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::scope::{OrgScope, WorkspaceScope};

/// 15 minutes: every real time zone's offset is a multiple of it, so a week or
/// month that starts at local midnight starts on a slot boundary.
pub const BUCKET_MS: i64 = 15 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    CampaignsCreated,
    ContentPublished,
}

impl Metric {
    fn column(self) -> &'static str {
        match self {
            Metric::CampaignsCreated => "campaigns_created",
            Metric::ContentPublished => "content_published",
        }
    }
}

pub fn bucket_of(t: Timestamp) -> i64 {
    t.millis().div_euclid(BUCKET_MS) * BUCKET_MS
}

/// Adds `delta` to the slot holding `at`.
pub(crate) async fn bump(c: &mut Conn, org: &OrgId, at: Timestamp, metric: Metric, delta: i64) -> StoreResult<()> {
    let col = metric.column();
    let sql = format!(
        "INSERT INTO activity_buckets (org_id, bucket, {col}) VALUES ($1, $2, $3) \
         ON CONFLICT (org_id, bucket) DO UPDATE SET {col} = activity_buckets.{col} + excluded.{col}"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org.as_str()).bind(bucket_of(at)).bind(delta).execute(c).await?;
    Ok(())
}

/// The total of a metric from `since` on.
pub(crate) async fn sum_since(c: &mut Conn, org: &OrgId, since: Timestamp, metric: Metric) -> StoreResult<i64> {
    let col = metric.column();
    let sql = format!(
        "SELECT CAST(COALESCE(SUM({col}), 0) AS BIGINT) FROM activity_buckets WHERE org_id = $1 AND bucket >= $2"
    );
    let (n,): (i64,) =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(org.as_str()).bind(since.millis()).fetch_one(c).await?;
    Ok(n)
}

/// Moves a workspace's active-campaign counter.
pub(crate) async fn adjust_active(c: &mut Conn, ws: &WorkspaceId, delta: i64) -> StoreResult<()> {
    if delta != 0 {
        sqlx::query("UPDATE workspaces SET active_campaign_count = active_campaign_count + $2 WHERE id = $1")
            .bind(ws.as_str())
            .bind(delta)
            .execute(c)
            .await?;
    }
    Ok(())
}

const CAMPAIGNS_BY_SLOT: &str = "SELECT (created_at / 900000) * 900000 AS b, COUNT(*) AS n FROM campaigns";
const CONTENT_BY_SLOT: &str = "SELECT (published_at / 900000) * 900000 AS b, COUNT(*) AS n FROM content_items";

async fn add_grouped(
    c: &mut Conn,
    org: &OrgId,
    select: String,
    key: &str,
    metric: Metric,
    sign: i64,
) -> StoreResult<()> {
    let rows: Vec<(i64, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(select)).bind(key.to_owned()).fetch_all(&mut *c).await?;
    for (bucket, n) in rows {
        bump(c, org, Timestamp::from_millis(bucket), metric, sign * n).await?;
    }
    Ok(())
}

/// Before a workspace is deleted: what it contributed stops counting.
pub async fn forget_workspace(c: &mut WriteTx, ws: &WorkspaceScope) -> StoreResult<()> {
    let org = ws.org_id();
    add_grouped(
        c,
        org,
        format!("{CAMPAIGNS_BY_SLOT} WHERE workspace_id = $1 GROUP BY b"),
        ws.as_str(),
        Metric::CampaignsCreated,
        -1,
    )
    .await?;
    let content = format!(
        "{CONTENT_BY_SLOT} WHERE workspace_id = $1 AND published_at IS NOT NULL AND deleted_at IS NULL GROUP BY b"
    );
    add_grouped(c, org, content, ws.as_str(), Metric::ContentPublished, -1).await
}

/// Recomputes an organization's rollups from its rows (after a bulk load, or to repair).
pub async fn rebuild(c: &mut WriteTx, org: &OrgScope) -> StoreResult<()> {
    sqlx::query("DELETE FROM activity_buckets WHERE org_id = $1").bind(org.as_str()).execute(&mut **c).await?;
    add_grouped(
        c,
        org,
        format!("{CAMPAIGNS_BY_SLOT} WHERE org_id = $1 GROUP BY b"),
        org.as_str(),
        Metric::CampaignsCreated,
        1,
    )
    .await?;
    let content =
        format!("{CONTENT_BY_SLOT} WHERE org_id = $1 AND published_at IS NOT NULL AND deleted_at IS NULL GROUP BY b");
    add_grouped(c, org, content, org.as_str(), Metric::ContentPublished, 1).await?;
    sqlx::query(
        "UPDATE workspaces SET active_campaign_count = \
         (SELECT COUNT(*) FROM campaigns c WHERE c.workspace_id = workspaces.id AND c.status = 'active') WHERE org_id = $1",
    )
    .bind(org.as_str())
    .execute(&mut **c)
    .await?;
    Ok(())
}

/// Drops an organization's slots that start before `before`: the dashboard
/// reads at most the current month, so older slots are never summed.
pub async fn prune(c: &mut WriteTx, org: &OrgScope, before: Timestamp) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM activity_buckets WHERE org_id = $1 AND bucket < $2")
        .bind(org.as_str())
        .bind(before.millis())
        .execute(&mut **c)
        .await?;
    Ok(done.rows_affected())
}
