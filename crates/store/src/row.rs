//! Reading typed values out of `AnyRow`s.

use sqlx::Row;
use sqlx::any::AnyRow;
use steward_core::time::Timestamp;

use crate::{StoreError, StoreResult};

pub(crate) fn text(row: &AnyRow, col: &str) -> StoreResult<String> {
    Ok(row.try_get::<String, _>(col)?)
}

pub(crate) fn opt_text(row: &AnyRow, col: &str) -> StoreResult<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

pub(crate) fn int(row: &AnyRow, col: &str) -> StoreResult<i64> {
    Ok(row.try_get::<i64, _>(col)?)
}

pub(crate) fn time(row: &AnyRow, col: &str) -> StoreResult<Timestamp> {
    Ok(Timestamp::from_millis(int(row, col)?))
}

pub(crate) fn opt_time(row: &AnyRow, col: &str) -> StoreResult<Option<Timestamp>> {
    Ok(row.try_get::<Option<i64>, _>(col)?.map(Timestamp::from_millis))
}

/// A stored enum value that must parse; anything else means the data is corrupt.
pub(crate) fn parsed<T>(row: &AnyRow, col: &str, parse: impl Fn(&str) -> Option<T>) -> StoreResult<T> {
    let raw = text(row, col)?;
    parse(&raw).ok_or_else(|| StoreError::Corrupt(format!("unexpected {col} value {raw:?}")))
}

pub(crate) fn json(row: &AnyRow, col: &str) -> StoreResult<serde_json::Value> {
    match opt_text(row, col)? {
        None => Ok(serde_json::Value::Null),
        Some(s) => serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))),
    }
}
