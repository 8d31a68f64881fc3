//! The one-time setup token that creates a deployment's first organization.

use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::Conn;

/// Replaces any earlier token with this one.
pub async fn replace_token(c: &mut Conn, token_hash: &str, now: Timestamp) -> StoreResult<()> {
    sqlx::query("DELETE FROM setup_tokens").execute(&mut *c).await?;
    sqlx::query("INSERT INTO setup_tokens (token_hash, created_at) VALUES ($1, $2)")
        .bind(token_hash)
        .bind(now.millis())
        .execute(c)
        .await?;
    Ok(())
}

/// Deletes the token if it matches; true when it did. Inside the setup
/// transaction this makes the token single-use even under concurrent requests.
pub async fn consume(c: &mut Conn, token_hash: &str) -> StoreResult<bool> {
    let res = sqlx::query("DELETE FROM setup_tokens WHERE token_hash = $1").bind(token_hash).execute(c).await?;
    Ok(res.rows_affected() == 1)
}

pub async fn clear(c: &mut Conn) -> StoreResult<()> {
    sqlx::query("DELETE FROM setup_tokens").execute(c).await?;
    Ok(())
}
