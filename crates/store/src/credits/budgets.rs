//! Monthly credit budgets by workspace, and what a workspace used this month.

use sqlx::Row;
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::scope::OrgScope;

/// Every budget of the organization: (workspace id, monthly credits).
pub async fn list(c: &mut Conn, org: &OrgScope) -> StoreResult<Vec<(String, i64)>> {
    let rows = sqlx::query("SELECT workspace_id, monthly FROM credit_budgets WHERE org_id = $1 ORDER BY workspace_id")
        .bind(org.as_str())
        .fetch_all(c)
        .await?;
    rows.iter().map(|r| Ok((r.try_get::<String, _>("workspace_id")?, r.try_get::<i64, _>("monthly")?))).collect()
}

pub async fn get(c: &mut Conn, org: &OrgScope, workspace: &str) -> StoreResult<Option<i64>> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT monthly FROM credit_budgets WHERE org_id = $1 AND workspace_id = $2")
            .bind(org.as_str())
            .bind(workspace)
            .fetch_optional(c)
            .await?;
    Ok(row.map(|(m,)| m))
}

/// Sets (`Some`) or removes (`None`) a workspace's budget.
pub async fn set(
    tx: &mut WriteTx,
    org: &OrgScope,
    workspace: &str,
    monthly: Option<i64>,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM credit_budgets WHERE org_id = $1 AND workspace_id = $2")
        .bind(org.as_str())
        .bind(workspace)
        .execute(&mut **tx)
        .await?;
    if let Some(m) = monthly {
        sqlx::query("INSERT INTO credit_budgets (org_id, workspace_id, monthly, updated_at) VALUES ($1, $2, $3, $4)")
            .bind(org.as_str())
            .bind(workspace)
            .bind(m)
            .bind(now.millis())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Credits a workspace used from `since` (its month's first day) on.
pub async fn used_since(c: &mut Conn, org: &OrgScope, workspace: &str, since: i64) -> StoreResult<i64> {
    let (used,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(used), 0) AS BIGINT) FROM credit_usage \
         WHERE org_id = $1 AND dimension = 'workspace' AND key = $2 AND day >= $3",
    )
    .bind(org.as_str())
    .bind(workspace)
    .bind(since)
    .fetch_one(c)
    .await?;
    Ok(used)
}
