//! Usage: credits used in a range, by workspace, user or campaign (most first,
//! a page at a time) or by day, week or month, from the daily rollups.

use serde::Deserialize;
use steward_core::Result;
use steward_core::credits as rules;
use steward_core::pagination::{self, Page};
use steward_core::permissions::Permission;
use steward_core::time::Timestamp;
use steward_store::Db;
use steward_store::credits::usage::{self, Dimension};

use crate::services::Ctx;

/// What usage is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Workspace,
    User,
    Campaign,
    Day,
    Week,
    Month,
}

impl GroupBy {
    /// The rollup a by-key grouping reads; `None` for day, week and month.
    fn dimension(self) -> Option<Dimension> {
        match self {
            GroupBy::Workspace => Some(Dimension::Workspace),
            GroupBy::User => Some(Dimension::User),
            GroupBy::Campaign => Some(Dimension::Campaign),
            GroupBy::Day | GroupBy::Week | GroupBy::Month => None,
        }
    }
}

/// Credits the organization used each day from `from` to `to`: (day's first millisecond, used).
pub async fn daily_usage(db: &Db, ctx: &Ctx, from: Timestamp, to: Timestamp) -> Result<Vec<(i64, i64)>> {
    let org = ctx.authorize(Permission::CreditsRead)?;
    rules::range(from, to)?;
    let mut c = db.conn().await?;
    Ok(usage::by_day(&mut c, &org, from, to).await?)
}

/// Credits used from `from` to `to`, per group (most first, or in time order).
pub async fn usage(
    db: &Db,
    ctx: &Ctx,
    group_by: GroupBy,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(String, i64)>> {
    let org = ctx.authorize(Permission::CreditsRead)?;
    rules::range(from, to)?;
    let mut c = db.conn().await?;
    match group_by.dimension() {
        Some(dimension) => Ok(usage::by_key(&mut c, &org, dimension, from, to).await?),
        None => Ok(bucket_days(&usage::by_day(&mut c, &org, from, to).await?, group_by)),
    }
}

/// One page of usage (a workspace, user or campaign per line, most first;
/// by day, week or month every period at once), the next page's cursor, and
/// the total of every line.
pub async fn usage_page(
    db: &Db,
    ctx: &Ctx,
    group_by: GroupBy,
    (from, to): (Timestamp, Timestamp),
    page: &Page,
) -> Result<(Vec<(String, i64)>, Option<String>, i64)> {
    let Some(dimension) = group_by.dimension() else {
        let rows = usage(db, ctx, group_by, from, to).await?;
        let total = rows.iter().map(|(_, used)| used).sum();
        return Ok((rows, None, total));
    };
    let org = ctx.authorize(Permission::CreditsRead)?;
    rules::range(from, to)?;
    // The cursor is the last line's `used:key`.
    let after = match page.after.as_deref() {
        Some(c) => {
            let parsed = c.split_once(':').and_then(|(used, key)| Some((used.parse::<i64>().ok()?, key)));
            Some(parsed.ok_or_else(|| pagination::invalid_cursor(""))?)
        }
        None => None,
    };
    let mut c = db.conn().await?;
    let (rows, total) =
        usage::by_key_page(&mut c, &org, dimension, (from, to), after, i64::from(page.limit) + 1).await?;
    let (rows, next) = pagination::finish(rows, page, |(key, used)| format!("{used}:{key}"));
    Ok((rows, next, total))
}

/// The first day of the day, ISO week (its Monday) or month `date` falls in.
fn period_start(date: time::Date, group_by: GroupBy) -> time::Date {
    match group_by {
        GroupBy::Week => date - time::Duration::days(i64::from(date.weekday().number_days_from_monday())),
        GroupBy::Month => date.replace_day(1).unwrap_or(date),
        _ => date,
    }
}

/// Every period from `from` to `to` with its usage, none left out (a chart's bars).
pub fn every_period(days: &[(i64, i64)], group_by: GroupBy, from: Timestamp, to: Timestamp) -> Vec<(String, i64)> {
    let used: std::collections::HashMap<String, i64> = bucket_days(days, group_by).into_iter().collect();
    let last = Timestamp::from_millis(to.millis() - 1).to_datetime().date();
    let mut at = period_start(from.to_datetime().date(), group_by);
    let mut out = Vec::new();
    // At most 731 days: the range is checked before usage is read.
    while at <= last && out.len() <= 800 {
        let label = at.to_string();
        out.push((label.clone(), used.get(&label).copied().unwrap_or(0)));
        at = next_start(at, group_by);
    }
    out
}

/// The first day of the period after the one starting on `start`.
fn next_start(start: time::Date, group_by: GroupBy) -> time::Date {
    match group_by {
        GroupBy::Week => start + time::Duration::days(7),
        GroupBy::Month => period_start(start + time::Duration::days(32), GroupBy::Month),
        _ => start + time::Duration::days(1),
    }
}

/// The `n` periods after the one named `label` (its first day, `2026-11-30`), named the same way.
pub fn periods_after(label: &str, group_by: GroupBy, n: usize) -> Vec<String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let Ok(mut at) = time::Date::parse(label, format) else { return Vec::new() };
    (0..n)
        .map(|_| {
            at = next_start(at, group_by);
            at.to_string()
        })
        .collect()
}

/// Daily usage summed into days, ISO weeks (by their Monday) or months, named by their first day.
pub fn bucket_days(days: &[(i64, i64)], group_by: GroupBy) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = Vec::new();
    for (day, used) in days {
        let date = Timestamp::from_millis(*day).to_datetime().date();
        let label = period_start(date, group_by).to_string();
        match out.last_mut() {
            Some((l, total)) if *l == label => *total += used,
            _ => out.push((label, *used)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{GroupBy, periods_after};

    #[test]
    fn the_periods_after_one_are_the_next_days_weeks_and_months() {
        assert_eq!(periods_after("2026-12-31", GroupBy::Day, 2), ["2027-01-01", "2027-01-02"]);
        assert_eq!(periods_after("2026-11-30", GroupBy::Week, 2), ["2026-12-07", "2026-12-14"]);
        // A 31-day month, then February: each the next month's first day.
        assert_eq!(periods_after("2026-12-01", GroupBy::Month, 3), ["2027-01-01", "2027-02-01", "2027-03-01"]);
        assert!(periods_after("not a day", GroupBy::Day, 3).is_empty());
    }
}
