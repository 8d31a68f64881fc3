//! The organization dashboard's numbers (ORG-2, ORG-3). Each is one indexed
//! count over a small set, or a sum over the rollups of [`crate::activity`].

use steward_core::ids::OrgId;
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::activity::{self, Metric};
use crate::db::Conn;
use crate::scope::OrgScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    pub total_workspaces: i64,
    pub total_users: i64,
    pub active_campaigns: i64,
    pub campaigns_created_this_month: i64,
    pub content_published_this_week: i64,
    pub active_platform_connections: i64,
    pub storage_bytes_used: i64,
}

async fn scalar(c: &mut Conn, sql: &'static str, org: &OrgId) -> StoreResult<i64> {
    Ok(sqlx::query_as::<_, (i64,)>(sql).bind(org.as_str()).fetch_one(c).await?.0)
}

pub async fn figures(
    c: &mut Conn,
    org: &OrgScope,
    month_start: Timestamp,
    week_start: Timestamp,
) -> StoreResult<Figures> {
    // One pass over the organization's workspaces gives three figures.
    let (total_workspaces, active_campaigns, storage_bytes_used): (i64, i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                CAST(COALESCE(SUM(active_campaign_count), 0) AS BIGINT), \
                CAST(COALESCE(SUM(storage_bytes), 0) AS BIGINT) FROM workspaces WHERE org_id = $1",
    )
    .bind(org.as_str())
    .fetch_one(&mut *c)
    .await?;
    Ok(Figures {
        total_workspaces,
        total_users: scalar(c, "SELECT COUNT(*) FROM users WHERE org_id = $1 AND status = 'active'", org).await?,
        active_campaigns,
        campaigns_created_this_month: activity::sum_since(c, org, month_start, Metric::CampaignsCreated).await?,
        content_published_this_week: activity::sum_since(c, org, week_start, Metric::ContentPublished).await?,
        active_platform_connections: scalar(
            c,
            "SELECT COUNT(*) FROM platform_connections WHERE org_id = $1 AND status = 'active'",
            org,
        )
        .await?,
        storage_bytes_used,
    })
}
