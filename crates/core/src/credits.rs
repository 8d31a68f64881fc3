//! Credits (BILL-2): whole-number amounts, the kinds of ledger entry, the
//! order a debit draws from grants in, and when an alert threshold is crossed.

use serde::{Deserialize, Serialize};

use crate::messages::rule;
use crate::time::Timestamp;
use crate::{Error, Result};

/// The largest amount one entry may move.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;
/// The longest range a usage query or report may span.
pub const MAX_RANGE_DAYS: i64 = 731;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Paid,
    Promotional,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Paid => "paid",
            Category::Promotional => "promotional",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "paid" => Some(Category::Paid),
            "promotional" => Some(Category::Promotional),
            _ => None,
        }
    }
}

/// What a ledger entry did to the balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Grant,
    Debit,
    Refund,
    Expiry,
    Adjustment,
}

impl EntryKind {
    pub const ALL: [EntryKind; 5] =
        [EntryKind::Grant, EntryKind::Debit, EntryKind::Refund, EntryKind::Expiry, EntryKind::Adjustment];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Grant => "grant",
            EntryKind::Debit => "debit",
            EntryKind::Refund => "refund",
            EntryKind::Expiry => "expiry",
            EntryKind::Adjustment => "adjustment",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// An amount of credits: a whole number from 1 to 10^12.
pub fn amount(field: &str, value: i64) -> Result<i64> {
    if (1..=MAX_AMOUNT).contains(&value) {
        Ok(value)
    } else {
        Err(Error::field(field, &rule::OUT_OF_RANGE, &[("range", &"1 to 1,000,000,000,000 credits")]))
    }
}

/// A grant as a debit sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    pub id: String,
    pub category: Category,
    pub priority: i64,
    pub remaining: i64,
    pub effective_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl Lot {
    /// Whether a debit at `now` may draw from it.
    pub fn usable(&self, now: Timestamp) -> bool {
        self.remaining > 0 && self.effective_at <= now && self.expires_at.is_none_or(|t| t > now)
    }
}

/// The order debits draw in: priority (lower first), then the soonest expiry
/// (never-expiring last), then promotional before paid, then the oldest.
pub fn burn_order(lots: &mut [Lot]) {
    lots.sort_by_key(|l| {
        (
            l.priority,
            l.expires_at.map_or(i64::MAX, Timestamp::millis),
            l.category != Category::Promotional,
            l.created_at.millis(),
            l.id.clone(),
        )
    });
}

/// How much of `amount` each lot gives, in burn order; `None` when the
/// usable lots hold less than `amount`.
pub fn allocate(lots: &[Lot], amount: i64, now: Timestamp) -> Option<Vec<(String, i64)>> {
    let mut ordered: Vec<Lot> = lots.iter().filter(|l| l.usable(now)).cloned().collect();
    burn_order(&mut ordered);
    let mut left = amount;
    let mut taken = Vec::new();
    for lot in ordered {
        if left == 0 {
            break;
        }
        let take = lot.remaining.min(left);
        taken.push((lot.id, take));
        left -= take;
    }
    (left == 0).then_some(taken)
}

/// Whether a balance moving from `before` to `after` goes below `threshold`
/// (fires) or back above it (re-arms). Equal to the threshold is below it.
pub fn crossed_down(threshold: i64, before: i64, after: i64) -> bool {
    before > threshold && after <= threshold
}

pub fn crossed_up(threshold: i64, before: i64, after: i64) -> bool {
    before <= threshold && after > threshold
}

/// Days the balance lasts at `burn_per_day`; `None` when nothing is burned.
pub fn days_left(balance: i64, burn_per_day: f64) -> Option<f64> {
    (burn_per_day > 0.0).then(|| balance as f64 / burn_per_day)
}

/// A `from`–`to` range: `from` before `to`, at most two years.
pub fn range(from: Timestamp, to: Timestamp) -> Result<(Timestamp, Timestamp)> {
    if to <= from {
        return Err(Error::field("to", &rule::BEFORE_START, &[]));
    }
    if to.millis() - from.millis() > MAX_RANGE_DAYS * DAY_MS {
        return Err(Error::field("to", &rule::RANGE_TOO_LONG, &[("days", &MAX_RANGE_DAYS)]));
    }
    Ok((from, to))
}

/// The first millisecond of the UTC month `t` falls in (budgets are monthly).
pub fn month_of(t: Timestamp) -> i64 {
    let date = t.to_datetime().date();
    let first = date.replace_day(1).unwrap_or(date);
    first.midnight().assume_utc().unix_timestamp() * 1000
}

/// The UTC day a time falls in, as the millisecond its day starts.
pub fn day_of(t: Timestamp) -> i64 {
    t.millis().div_euclid(DAY_MS) * DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lot(id: &str, category: Category, priority: i64, remaining: i64, expires: Option<i64>, created: i64) -> Lot {
        Lot {
            id: id.into(),
            category,
            priority,
            remaining,
            effective_at: Timestamp::from_millis(0),
            expires_at: expires.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(created),
        }
    }

    #[test]
    fn debits_draw_by_priority_then_expiry_then_promotional_then_age() {
        use Category::*;
        let now = Timestamp::from_millis(1_000);
        let lots = [
            lot("paid-old", Paid, 5, 10, None, 1),
            lot("promo-new", Promotional, 5, 10, None, 9),
            lot("paid-expiring", Paid, 5, 10, Some(5_000), 5),
            lot("urgent", Paid, 1, 10, None, 8),
            lot("paid-expiring-later", Paid, 5, 10, Some(9_000), 4),
            lot("expired", Promotional, 0, 10, Some(900), 0),
            lot("future", Promotional, 0, 10, None, 0),
        ];
        let mut lots = lots.to_vec();
        lots[6].effective_at = Timestamp::from_millis(2_000);
        let taken = allocate(&lots, 45, now).unwrap();
        let order: Vec<&str> = taken.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(order, ["urgent", "paid-expiring", "paid-expiring-later", "promo-new", "paid-old"]);
        assert_eq!(taken.last().unwrap().1, 5, "the last lot gives only what is left");
        assert_eq!(allocate(&lots, 51, now), None, "expired and future lots are not usable");
        assert_eq!(allocate(&lots, 50, now).unwrap().len(), 5);
    }

    #[test]
    fn thresholds_fire_once_and_re_arm_above() {
        assert!(crossed_down(100, 150, 100));
        assert!(!crossed_down(100, 100, 50), "already below: no second alert");
        assert!(crossed_up(100, 100, 101));
        assert!(!crossed_up(100, 150, 200));
        assert_eq!(days_left(300, 10.0), Some(30.0));
        assert_eq!(days_left(300, 0.0), None);
    }

    #[test]
    fn amounts_and_ranges_are_checked() {
        assert!(
            amount("amount", 0).is_err() && amount("amount", -5).is_err() && amount("amount", MAX_AMOUNT + 1).is_err()
        );
        assert_eq!(amount("amount", 7).unwrap(), 7);
        let t = Timestamp::from_millis;
        assert_eq!(range(t(5), t(1)).unwrap_err().errors[0].field, "to");
        assert!(range(t(0), t(800 * DAY_MS)).is_err());
        assert_eq!(day_of(t(DAY_MS + 5)), DAY_MS);
        let mid_march = Timestamp::parse_rfc3339("2027-03-17T13:00:00Z").unwrap();
        assert_eq!(Timestamp::from_millis(month_of(mid_march)).to_rfc3339(), "2027-03-01T00:00:00.000Z");
    }
}
