//! Time as stored and shown: whole milliseconds since the Unix epoch in the
//! database (one integer type on every engine, exact to hash and compare),
//! RFC 3339 UTC on the wire. Use cases take the current time from a [`Clock`] so
//! tests can move it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn now_utc() -> Self {
        let now = OffsetDateTime::now_utc();
        Self((now.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    pub fn plus_seconds(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    pub fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    pub fn to_rfc3339(self) -> String {
        let dt = self.to_datetime();
        // Fixed millisecond precision so strings sort like the instants they name.
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        )
    }

    /// The UTC calendar day, `2026-12-01`.
    pub fn utc_date(self) -> String {
        self.to_datetime().date().to_string()
    }

    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let dt = OffsetDateTime::parse(s, &Rfc3339).ok()?;
        Some(Self((dt.unix_timestamp_nanos() / 1_000_000) as i64))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z"))
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime)))
            .into()
    }
}
impl utoipa::ToSchema for Timestamp {}

/// Where "now" comes from.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now_utc()
    }
}

/// A clock that tests move by hand.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self(Arc::new(AtomicI64::new(start.millis())))
    }

    pub fn advance_seconds(&self, secs: i64) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_at_millisecond_precision() {
        let t = Timestamp::from_millis(1_764_000_000_123);
        let s = t.to_rfc3339();
        assert_eq!(s, "2025-11-24T16:00:00.123Z");
        assert_eq!(Timestamp::parse_rfc3339(&s), Some(t));
        assert_eq!(Timestamp::parse_rfc3339("2025-11-24T17:00:00.123+01:00"), Some(t));
        assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn manual_clock_moves() {
        let c = ManualClock::new(Timestamp::from_millis(0));
        c.advance_seconds(61);
        assert_eq!(c.now().millis(), 61_000);
    }
}

/// The start of the current month and of the current week (weeks start on
/// Monday) in the time zone `tz`, as instants. An unknown zone counts as UTC.
pub fn period_starts(now: Timestamp, tz: &str) -> (Timestamp, Timestamp) {
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let Ok(instant) = jiff::Timestamp::from_millisecond(now.millis()) else { return (now, now) };
    let today = instant.to_zoned_datetime(zone.clone()).date();
    let start_of = |d: jiff::civil::Date| {
        d.to_zoned_datetime(zone.clone()).map(|z| Timestamp::from_millis(z.timestamp().as_millisecond())).unwrap_or(now)
    };
    let monday =
        today.checked_sub(jiff::Span::new().days(i64::from(today.weekday().to_monday_zero_offset()))).unwrap_or(today);
    (start_of(today.first_of_month()), start_of(monday))
}

#[cfg(test)]
mod period_tests {
    use super::*;

    #[test]
    fn weeks_start_monday_in_the_org_time_zone() {
        // Sunday 2026-11-29 23:30 UTC is Monday 2026-11-30 00:30 in Paris.
        let now = Timestamp::parse_rfc3339("2026-11-29T23:30:00Z").unwrap();
        let (month, week) = period_starts(now, "UTC");
        assert_eq!(month.to_rfc3339(), "2026-11-01T00:00:00.000Z");
        assert_eq!(week.to_rfc3339(), "2026-11-23T00:00:00.000Z");
        let (month, week) = period_starts(now, "Europe/Paris");
        assert_eq!(week.to_rfc3339(), "2026-11-29T23:00:00.000Z");
        assert_eq!(month.to_rfc3339(), "2026-10-31T23:00:00.000Z");
        let (_, week) = period_starts(now, "America/New_York");
        assert_eq!(week.to_rfc3339(), "2026-11-23T05:00:00.000Z");
    }
}
