//! Credit alert thresholds: a balance, or days left at the burn rate. Each
//! remembers whether it has fired since the balance was last above it.

use sqlx::any::AnyRow;
use steward_core::ids::CreditAlertId;
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::row::{all, int, opt_time, text, time};
use crate::scope::OrgScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: CreditAlertId,
    /// `balance` or `days_left`.
    pub kind: String,
    pub threshold: i64,
    /// When it last fired; `None` while armed.
    pub fired_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

fn alert(r: &AnyRow) -> StoreResult<Alert> {
    Ok(Alert {
        id: CreditAlertId::from_trusted(text(r, "id")?),
        kind: text(r, "kind")?,
        threshold: int(r, "threshold")?,
        fired_at: opt_time(r, "fired_at")?,
        created_at: time(r, "created_at")?,
    })
}

pub async fn list(c: &mut Conn, org: &OrgScope) -> StoreResult<Vec<Alert>> {
    let sql = "SELECT id, kind, threshold, fired_at, created_at FROM credit_alerts WHERE org_id = $1 \
               ORDER BY kind, threshold DESC"
        .to_owned();
    all(c, sql, vec![org.as_str().into()], alert).await
}

/// Replaces the organization's thresholds.
pub async fn replace(tx: &mut WriteTx, org: &OrgScope, alerts: &[Alert]) -> StoreResult<()> {
    sqlx::query("DELETE FROM credit_alerts WHERE org_id = $1").bind(org.as_str()).execute(&mut **tx).await?;
    for a in alerts {
        sqlx::query(
            "INSERT INTO credit_alerts (id, org_id, kind, threshold, fired_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(a.id.as_str())
        .bind(org.as_str())
        .bind(a.kind.as_str())
        .bind(a.threshold)
        .bind(a.fired_at.map(Timestamp::millis))
        .bind(a.created_at.millis())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Marks an alert fired (`Some`) or armed again (`None`); whether it changed,
/// so only one of two racing callers acts on a crossing.
pub async fn set_fired(
    tx: &mut WriteTx,
    org: &OrgScope,
    id: &CreditAlertId,
    at: Option<Timestamp>,
) -> StoreResult<bool> {
    let sql = if at.is_some() {
        "UPDATE credit_alerts SET fired_at = $3 WHERE org_id = $1 AND id = $2 AND fired_at IS NULL"
    } else {
        "UPDATE credit_alerts SET fired_at = $3 WHERE org_id = $1 AND id = $2 AND fired_at IS NOT NULL"
    };
    let done = sqlx::query(sql)
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(at.map(Timestamp::millis))
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}
