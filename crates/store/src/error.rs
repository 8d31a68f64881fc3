//! Storage errors. Use cases see them as `steward_core::Error::internal()` unless
//! they ask whether a uniqueness rule was hit.

pub type StoreResult<T> = Result<T, StoreError>;

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
}

impl From<StoreError> for steward_core::Error {
    fn from(e: StoreError) -> Self {
        // The detail stays in the log; the caller gets a generic 500.
        tracing::error!(error = %e, "storage error");
        steward_core::Error::internal()
    }
}
