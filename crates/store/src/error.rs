//! Storage errors. Use cases see them as `steward_core::Error::internal()` unless
//! they ask whether a uniqueness rule was hit, or the database can't be reached
//! (then `503 database_unavailable`, which a client may retry).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub type StoreResult<T> = Result<T, StoreError>;

/// When the database was last found away (Unix ms; 0: never). Process-wide:
/// it only makes pools check idle connections for a while (see `Db::connect`).
static LAST_UNAVAILABLE_MS: AtomicI64 = AtomicI64::new(0);

/// How long after an outage idle connections are pinged before use.
const SUSPECT_FOR_MS: i64 = 30_000;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

pub(crate) fn note_unavailable() {
    LAST_UNAVAILABLE_MS.store(now_ms(), Ordering::Relaxed);
}

/// Whether the database was away within the last 30 s.
pub(crate) fn recently_unavailable() -> bool {
    let at = LAST_UNAVAILABLE_MS.load(Ordering::Relaxed);
    at != 0 && now_ms() - at < SUSPECT_FOR_MS
}

/// What a client is told to wait before trying again while the database is away.
pub const RETRY_AFTER_SECS: i64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the statement broke a UNIQUE constraint (on either engine).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }

    /// Whether the database could not be reached or dropped the connection,
    /// as opposed to refusing a statement: the same request may work later.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed,
            ) => true,
            // PostgreSQL's SQLSTATE classes for a lost or refused connection:
            // 08 connection exception, 57P0x shutdown/starting up, 53300 too
            // many connections. SQLite's codes are numbers and never match.
            StoreError::Db(sqlx::Error::Database(e)) => {
                e.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P0") || c == "53300")
            }
            _ => false,
        }
    }
}

/// The answer while the database is away: `503` with `Retry-After`.
pub fn database_unavailable() -> steward_core::Error {
    steward_core::Error::new(503, &steward_core::messages::problem::DATABASE_UNAVAILABLE, &[])
        .with_extension("retry_after", RETRY_AFTER_SECS)
}

impl From<StoreError> for steward_core::Error {
    fn from(e: StoreError) -> Self {
        // The detail stays in the log; the caller gets a generic answer.
        if e.is_unavailable() {
            note_unavailable();
            tracing::warn!(error = %e, "database unavailable");
            return database_unavailable();
        }
        tracing::error!(error = %e, "storage error");
        steward_core::Error::internal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_that_is_away_is_a_503_to_retry() {
        let away = [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed")),
            sqlx::Error::PoolClosed,
        ];
        for e in away {
            let e: steward_core::Error = StoreError::Db(e).into();
            assert_eq!((e.status, e.code), (503, "database_unavailable"));
            assert_eq!(e.extensions.get("retry_after").and_then(|v| v.as_i64()), Some(RETRY_AFTER_SECS));
        }
        let e: steward_core::Error = StoreError::Db(sqlx::Error::RowNotFound).into();
        assert_eq!(e.status, 500, "a bug is not an outage");
        let e: steward_core::Error = StoreError::Corrupt("x".into()).into();
        assert_eq!(e.status, 500);
    }
}
