//! `Idempotency-Key` of debits, kept in the debit's own transaction: the key
//! and its answer commit with the entry or not at all, so a crash never
//! leaves a key claimed without its debit, nor a debit without its key.
//! Keys are kept at least 24 hours.

use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, Engine, WriteTx};
use crate::scope::OrgScope;

/// How long finished keys are kept.
pub const KEPT_MS: i64 = 24 * 3600 * 1000;

/// A key's stored request and answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub request_hash: String,
    pub status: u16,
    pub response: String,
}

/// Holds `key` for this transaction; `false` when another transaction holds
/// it (a request with the key still running). On PostgreSQL an advisory lock
/// taken without waiting; SQLite has one writer, so a second request with the
/// key waits for the first to commit and then finds its answer.
pub async fn hold(tx: &mut WriteTx, org: &OrgScope, key: &str) -> StoreResult<bool> {
    if Engine::of(tx) != Engine::Postgres {
        return Ok(true);
    }
    let (held,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 7))")
        .bind(format!("credit-debit:{}:{key}", org.as_str()))
        .fetch_one(&mut **tx)
        .await?;
    Ok(held)
}

/// The answer stored for `key`, if a request with it finished.
pub async fn stored(c: &mut Conn, org: &OrgScope, key: &str) -> StoreResult<Option<Stored>> {
    let row: Option<(String, Option<i64>, Option<String>)> =
        sqlx::query_as("SELECT request_hash, status, response FROM credit_idempotency WHERE org_id = $1 AND key = $2")
            .bind(org.as_str())
            .bind(key)
            .fetch_optional(c)
            .await?;
    Ok(row.and_then(|(request_hash, status, response)| {
        Some(Stored { request_hash, status: u16::try_from(status?).ok()?, response: response? })
    }))
}

/// Stores the answer to replay for `key`; a key stored meanwhile keeps its own.
pub async fn record(
    tx: &mut WriteTx,
    org: &OrgScope,
    key: &str,
    request_hash: &str,
    status: u16,
    response: &str,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO credit_idempotency (org_id, key, request_hash, status, response, started_at, finished_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
    )
    .bind(org.as_str())
    .bind(key)
    .bind(request_hash)
    .bind(i64::from(status))
    .bind(response)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Forgets the organization's keys finished more than [`KEPT_MS`] ago; how many.
pub async fn forget_old(c: &mut Conn, org: &OrgScope, now: Timestamp) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM credit_idempotency WHERE org_id = $1 AND finished_at < $2")
        .bind(org.as_str())
        .bind(now.millis() - KEPT_MS)
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}
