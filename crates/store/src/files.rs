//! Files kept in the database: a `stored_files` row per key and the bytes in
//! ordered `stored_file_chunks`, so instances sharing one database share files.
//!
//! Unlike the table modules these take the [`Db`] and run their own short
//! transactions: files are written beside a use case's transaction, never in it
//! (a use case writes the file, then commits the row that points at it).
//! Keys are checked by the server's file boundary; here they are plain text.

use sqlx::Row;

use crate::db::Db;
use crate::{StoreError, StoreResult};

/// Bytes per chunk row: small enough for any driver buffer, large enough that a
/// 25 MiB upload is a hundred rows.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// Stores `bytes` under `key`, replacing whatever was there, in one transaction.
pub async fn put(db: &Db, key: &str, bytes: &[u8], now_millis: i64) -> StoreResult<()> {
    let chunks: Vec<&[u8]> = if bytes.is_empty() { vec![&[]] } else { bytes.chunks(CHUNK_BYTES).collect() };
    let mut tx = db.begin().await?;
    // The upsert first: it locks the key's row, so two writers of one key queue.
    sqlx::query(
        "INSERT INTO stored_files (key, size, chunks, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET size = excluded.size, chunks = excluded.chunks, created_at = excluded.created_at",
    )
    .bind(key)
    .bind(bytes.len() as i64)
    .bind(chunks.len() as i64)
    .bind(now_millis)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM stored_file_chunks WHERE key = $1").bind(key).execute(&mut *tx).await?;
    for (seq, chunk) in chunks.into_iter().enumerate() {
        sqlx::query("INSERT INTO stored_file_chunks (key, seq, data) VALUES ($1, $2, $3)")
            .bind(key)
            .bind(seq as i64)
            .bind(chunk.to_vec())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The bytes stored under `key`, if any. One statement, so a concurrent `put`
/// is seen whole or not at all.
pub async fn get(db: &Db, key: &str) -> StoreResult<Option<Vec<u8>>> {
    let rows = sqlx::query(
        "SELECT f.size, f.chunks, c.data FROM stored_files f JOIN stored_file_chunks c ON c.key = f.key \
         WHERE f.key = $1 ORDER BY c.seq",
    )
    .bind(key)
    .fetch_all(db.pool())
    .await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let size: i64 = first.try_get("size")?;
    let chunks: i64 = first.try_get("chunks")?;
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    for r in &rows {
        out.extend_from_slice(&r.try_get::<Vec<u8>, _>("data")?);
    }
    if rows.len() as i64 != chunks || out.len() as i64 != size {
        return Err(StoreError::Corrupt(format!(
            "file {key:?}: {} chunks of {} bytes, expected {chunks} of {size}",
            rows.len(),
            out.len()
        )));
    }
    Ok(Some(out))
}

/// Removes `key`; whether it was there.
pub async fn delete(db: &Db, key: &str) -> StoreResult<bool> {
    let mut tx = db.begin().await?;
    let gone = sqlx::query("DELETE FROM stored_files WHERE key = $1").bind(key).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM stored_file_chunks WHERE key = $1").bind(key).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(gone.rows_affected() > 0)
}

/// Removes every key that starts with `prefix` (compared byte-wise, so `_` and
/// `%` in keys are literal); how many files went.
pub async fn delete_prefix(db: &Db, prefix: &str) -> StoreResult<u64> {
    const UNDER: &str = "substr(key, 1, length($1)) = $1";
    let mut tx = db.begin().await?;
    let gone = sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM stored_files WHERE {UNDER}")))
        .bind(prefix)
        .execute(&mut *tx)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM stored_file_chunks WHERE {UNDER}")))
        .bind(prefix)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(gone.rows_affected())
}

/// Every stored key, sorted byte-wise (for copying files between backends).
pub async fn keys(db: &Db) -> StoreResult<Vec<String>> {
    let rows = sqlx::query("SELECT key FROM stored_files").fetch_all(db.pool()).await?;
    let mut keys = rows.iter().map(|r| r.try_get::<String, _>("key")).collect::<Result<Vec<_>, _>>()?;
    keys.sort_unstable();
    Ok(keys)
}
