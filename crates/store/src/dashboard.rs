//! The organization dashboard's numbers (ORG-2, ORG-3), each one indexed count.

use steward_core::ids::OrgId;
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::Conn;

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

async fn count(c: &mut Conn, sql: &'static str, org: &OrgId, since: Option<Timestamp>) -> StoreResult<i64> {
    let q = sqlx::query_as::<_, (i64,)>(sql).bind(org.as_str());
    let q = match since {
        Some(t) => q.bind(t.millis()),
        None => q,
    };
    Ok(q.fetch_one(c).await?.0)
}

pub async fn figures(c: &mut Conn, org: &OrgId, month_start: Timestamp, week_start: Timestamp) -> StoreResult<Figures> {
    Ok(Figures {
        total_workspaces: count(
            c,
            "SELECT COUNT(*) FROM workspaces WHERE org_id = $1 AND status = 'active'",
            org,
            None,
        )
        .await?,
        total_users: count(c, "SELECT COUNT(*) FROM users WHERE org_id = $1 AND status = 'active'", org, None).await?,
        active_campaigns: count(c, "SELECT COUNT(*) FROM campaigns WHERE org_id = $1 AND status = 'active'", org, None)
            .await?,
        campaigns_created_this_month: count(
            c,
            "SELECT COUNT(*) FROM campaigns WHERE org_id = $1 AND created_at >= $2",
            org,
            Some(month_start),
        )
        .await?,
        content_published_this_week: count(
            c,
            "SELECT COUNT(*) FROM content_items WHERE org_id = $1 AND published_at >= $2 AND deleted_at IS NULL",
            org,
            Some(week_start),
        )
        .await?,
        active_platform_connections: count(
            c,
            "SELECT COUNT(*) FROM platform_connections WHERE org_id = $1 AND status = 'active'",
            org,
            None,
        )
        .await?,
        storage_bytes_used: count(
            c,
            "SELECT CAST(COALESCE(SUM(storage_bytes), 0) AS BIGINT) FROM workspaces WHERE org_id = $1",
            org,
            None,
        )
        .await?,
    })
}
