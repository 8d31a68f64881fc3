//! Cursor pagination: `?limit=` (default 50, at most 200) and an opaque
//! `?cursor=` that encodes the sort key of the last item returned.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::messages::{problem, rule};
use crate::{Error, Result};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    /// The sort key after which this page starts, decoded from the cursor.
    pub after: Option<String>,
}

impl Page {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=i64::from(MAX_LIMIT)).contains(&n) => n as u32,
            Some(_) => {
                let range = format!("1 to {MAX_LIMIT}");
                return Err(Error::field("limit", &rule::OUT_OF_RANGE, &[("range", &range)]));
            }
        };
        let after = cursor.filter(|c| !c.is_empty()).map(decode_cursor).transpose()?;
        Ok(Self { limit, after })
    }

    /// Fetch one more row than the page holds, to know whether a next page exists.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{key}"))
}

/// A cursor that reads but is not one this list gave out. A 422 like any
/// other query value out of its range, since `limit` is one too.
pub fn invalid_cursor(context: &str) -> Error {
    Error::new(422, &problem::INVALID_CURSOR, &[("context", &context)])
}

pub fn decode_cursor(cursor: &str) -> Result<String> {
    let invalid = || invalid_cursor("");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix("v1:").map(str::to_owned).filter(|k| !k.is_empty() && k.len() <= 200).ok_or_else(invalid)
}

/// Cuts the extra row off and makes the next cursor from the last row kept.
pub fn finish<T>(mut rows: Vec<T>, page: &Page, key: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    if rows.len() > page.limit as usize {
        rows.truncate(page.limit as usize);
        let next = rows.last().map(|r| encode_cursor(&key(r)));
        (rows, next)
    } else {
        (rows, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let c = encode_cursor("usr_123");
        assert_eq!(decode_cursor(&c).unwrap(), "usr_123");
        assert_eq!(decode_cursor("!!!").unwrap_err().code, "invalid_cursor");
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("v2:x")).unwrap_err().code, "invalid_cursor");
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(Page::parse(None, None).unwrap().limit, 50);
        assert_eq!(Page::parse(Some(200), None).unwrap().limit, 200);
        assert!(Page::parse(Some(0), None).is_err());
        assert!(Page::parse(Some(201), None).is_err());
    }

    #[test]
    fn finish_sets_next_cursor_only_when_more_rows_exist() {
        let page = Page { limit: 2, after: None };
        let (rows, next) = finish(vec![1, 2, 3], &page, |r| r.to_string());
        assert_eq!(rows, vec![1, 2]);
        assert_eq!(decode_cursor(&next.unwrap()).unwrap(), "2");
        let (_, next) = finish(vec![1, 2], &page, |r| r.to_string());
        assert!(next.is_none());
    }
}
