//! Reading typed values out of `AnyRow`s.

use sqlx::Row;
use sqlx::any::AnyRow;
use steward_core::time::Timestamp;

use crate::db::Conn;
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

/// A value for SQL built at run time (filters, sort orders), bound in order.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
    /// NULL in a text column.
    NullText,
    /// NULL in an integer column (PostgreSQL types parameters).
    NullInt,
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

/// The row `sql` selects, if any, read by `map` (the get-by-key shape every table shares).
pub(crate) async fn one<T>(
    c: &mut Conn,
    sql: String,
    args: Vec<Arg>,
    map: impl Fn(&AnyRow) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), args).fetch_optional(c).await?.as_ref().map(map).transpose()
}

/// Every row `sql` selects, read by `map` (the list shape every table shares).
pub(crate) async fn all<T>(
    c: &mut Conn,
    sql: String,
    args: Vec<Arg>,
    map: impl Fn(&AnyRow) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), args).fetch_all(c).await?.iter().map(map).collect()
}

pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

pub(crate) fn bind_all(mut q: AnyQuery<'_>, args: Vec<Arg>) -> AnyQuery<'_> {
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s),
            Arg::Int(i) => q.bind(i),
            Arg::NullText => q.bind(None::<String>),
            Arg::NullInt => q.bind(None::<i64>),
        };
    }
    q
}

/// Collects SQL text and its arguments with `$n` placeholders numbered in order.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Self { text: text.to_owned(), args: Vec::new() }
    }

    /// Appends text; every `?` in it becomes the next `$n` and takes one argument.
    pub fn push(&mut self, text: &str, args: impl IntoIterator<Item = Arg>) -> &mut Self {
        for ch in text.chars() {
            if ch == '?' {
                self.args.push(Arg::Int(0)); // placeholder, replaced below
                let n = self.args.len();
                self.text.push_str(&format!("${n}"));
            } else {
                self.text.push(ch);
            }
        }
        let added: Vec<Arg> = args.into_iter().collect();
        let start = self.args.len() - added.len();
        for (i, a) in added.into_iter().enumerate() {
            self.args[start + i] = a;
        }
        self
    }

    /// Appends `text` and a parenthesized placeholder per value: `IN (?, ?, …)`.
    pub fn push_list(&mut self, text: &str, values: impl IntoIterator<Item = Arg>) -> &mut Self {
        let values: Vec<Arg> = values.into_iter().collect();
        let marks = vec!["?"; values.len()].join(", ");
        self.push(&format!("{text}({marks})"), values)
    }

    pub fn query(self) -> (String, Vec<Arg>) {
        (self.text, self.args)
    }
}

/// `%` and `_` are literal in a user's search text.
pub(crate) fn like_pattern(q: &str) -> String {
    let escaped = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}
