//! `Idempotency-Key` of debits: the first request with a key claims it; its
//! answer is stored for replay; a request with the key but another body, or
//! while the first still runs, is told so. Keys are kept at least 24 hours.

use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::scope::OrgScope;

/// How long a claim may run before another request may take the key over
/// (the first one died between claiming and finishing).
pub const ABANDONED_AFTER_MS: i64 = 60_000;
/// How long finished keys are kept.
pub const KEPT_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This request has the key: go on, then [`finish`].
    Claimed,
    /// The first request's answer, to send again.
    Replay { status: u16, response: String },
    /// The key was used with another body.
    Reused,
    /// The first request with the key is still running.
    InUse,
}

/// Claims `key` for a request whose body hashes to `hash`.
pub async fn claim(tx: &mut WriteTx, org: &OrgScope, key: &str, hash: &str, now: Timestamp) -> StoreResult<Claim> {
    let inserted = sqlx::query(
        "INSERT INTO credit_idempotency (org_id, key, request_hash, started_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(org.as_str())
    .bind(key)
    .bind(hash)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::Claimed);
    }
    let row: Option<(String, Option<i64>, Option<String>, i64)> = sqlx::query_as(
        "SELECT request_hash, status, response, started_at FROM credit_idempotency WHERE org_id = $1 AND key = $2",
    )
    .bind(org.as_str())
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((stored_hash, status, response, started_at)) = row else { return Ok(Claim::InUse) };
    if stored_hash != hash {
        return Ok(Claim::Reused);
    }
    match (status, response) {
        (Some(status), Some(response)) => Ok(Claim::Replay { status: status as u16, response }),
        _ if now.millis() - started_at > ABANDONED_AFTER_MS => {
            let taken = sqlx::query(
                "UPDATE credit_idempotency SET started_at = $3 WHERE org_id = $1 AND key = $2 AND status IS NULL AND started_at = $4",
            )
            .bind(org.as_str())
            .bind(key)
            .bind(now.millis())
            .bind(started_at)
            .execute(&mut **tx)
            .await?;
            Ok(if taken.rows_affected() == 1 { Claim::Claimed } else { Claim::InUse })
        }
        _ => Ok(Claim::InUse),
    }
}

/// Stores the answer to replay for `key`.
pub async fn finish(
    tx: &mut WriteTx,
    org: &OrgScope,
    key: &str,
    status: u16,
    response: &str,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE credit_idempotency SET status = $3, response = $4, finished_at = $5 WHERE org_id = $1 AND key = $2",
    )
    .bind(org.as_str())
    .bind(key)
    .bind(i64::from(status))
    .bind(response)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Gives the key up (our side failed): the client may try again with it.
pub async fn release(c: &mut Conn, org: &OrgScope, key: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM credit_idempotency WHERE org_id = $1 AND key = $2 AND status IS NULL")
        .bind(org.as_str())
        .bind(key)
        .execute(c)
        .await?;
    Ok(())
}

/// Forgets keys finished more than [`KEPT_MS`] ago; how many.
pub async fn forget_old(c: &mut Conn, now: Timestamp) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM credit_idempotency WHERE finished_at IS NOT NULL AND finished_at < $1")
        .bind(now.millis() - KEPT_MS)
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}
