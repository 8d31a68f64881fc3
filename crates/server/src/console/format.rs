//! How numbers, sizes and dates read on a page.

use steward_core::time::Timestamp;

/// `1234567` → `1,234,567`.
pub fn int(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// `1536` → `1.5 KB` (powers of 1,000, as storage is sold).
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{} bytes", int(n)) } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// A status as a badge reads: one word, capitalized, for every kind of thing
/// (workspaces, people, campaigns, content, connections, keys).
pub fn status(s: &str) -> &'static str {
    match s {
        "active" => "Active",
        "suspended" => "Suspended",
        "archived" => "Archived",
        "invited" => "Invited",
        "deactivated" => "Deactivated",
        "draft" => "Draft",
        "scheduled" => "Scheduled",
        "published" => "Published",
        "paused" => "Paused",
        "completed" => "Completed",
        "failed" => "Failed",
        "expired" => "Expired",
        "revoked" => "Revoked",
        "connected" => "Connected",
        "disconnected" => "Disconnected",
        "error" => "Error",
        _ => "Unknown",
    }
}

/// What an action group is called in the log: `api_key` → "API key".
pub fn action_group(group: &str) -> String {
    let noun = match group {
        "api_key" => "API key",
        "audit" => "Audit log",
        "demo" => "Demo data",
        "session" => "Sign-in",
        "two_factor" => "Two-factor",
        "user" => "Person",
        "security" => "Security settings",
        other => return sentence_case(&other.replace('_', " ")),
    };
    noun.to_owned()
}

/// An audit action as the log reads it: `workspace.deleted` → "Workspace deleted".
pub fn action(action: &str) -> String {
    let words = match action {
        "session.created" => "Signed in",
        "session.ended" => "Signed out",
        "session.failed" => "Sign-in failed",
        "session.locked" => "Sign-ins locked after failures",
        "session.reauthenticated" => "Identity confirmed",
        "security.settings_updated" => "Security settings updated",
        _ => {
            let (group, verb) = action.split_once('.').unwrap_or((action, ""));
            return format!("{} {}", action_group(group), verb.replace('_', " ")).trim_end().to_owned();
        }
    };
    words.to_owned()
}

fn sentence_case(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// An organization role as people read it.
pub fn role(r: steward_core::people::OrgRole) -> &'static str {
    match r {
        steward_core::people::OrgRole::SuperAdmin => "Super Admin",
        steward_core::people::OrgRole::Member => "Member",
    }
}

/// A date in the organization's time zone, and the UTC instant for the hover title.
pub fn date(t: Timestamp, tz: &str) -> (String, String) {
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let utc = t.to_rfc3339();
    match jiff::Timestamp::from_millisecond(t.millis()) {
        Ok(ts) => (ts.to_zoned_datetime(zone).strftime("%b %-d, %Y").to_string(), utc),
        Err(_) => (utc.clone(), utc),
    }
}

/// A day picked in a form (`2026-12-01`) in time zone `tz`, `plus_days`
/// later, as the instant it starts.
pub fn day_start(day: &str, tz: &str, plus_days: i64) -> Option<Timestamp> {
    let date: jiff::civil::Date = day.trim().parse().ok()?;
    let date = date.checked_add(jiff::Span::new().days(plus_days)).ok()?;
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let ts = date.to_zoned_datetime(zone).ok()?.timestamp();
    Some(Timestamp::from_millis(ts.as_millisecond()))
}

/// "3 days ago", for when recency matters.
pub fn ago(t: Timestamp, now: Timestamp) -> String {
    let secs = (now.millis() - t.millis()) / 1000;
    let (n, unit) = match secs {
        s if s < 60 => return "just now".into(),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3600, "hour"),
        s if s < 30 * 86_400 => (s / 86_400, "day"),
        s if s < 365 * 86_400 => (s / (30 * 86_400), "month"),
        s => (s / (365 * 86_400), "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_audit_action_reads_as_words() {
        for a in steward_core::audit::ACTIONS {
            let w = action(a);
            assert!(!w.contains(['_', '.']) && w.starts_with(char::is_uppercase), "{a} reads {w:?}");
        }
        assert_eq!(action("workspace.deleted"), "Workspace deleted");
        assert_eq!(action("api_key.created"), "API key created");
        assert_eq!(action("user.role_changed"), "Person role changed");
        assert_eq!(action_group("two_factor"), "Two-factor");
    }

    #[test]
    fn formats() {
        assert_eq!(int(1_204), "1,204");
        assert_eq!(int(999), "999");
        assert_eq!(int(-1_000_000), "-1,000,000");
        assert_eq!(bytes(512), "512 bytes");
        assert_eq!(bytes(1_536), "1.5 KB");
        assert_eq!(bytes(2_500_000_000), "2.5 GB");
        let t = Timestamp::parse_rfc3339("2026-11-29T23:30:00Z").unwrap();
        assert_eq!(date(t, "UTC").0, "Nov 29, 2026");
        assert_eq!(date(t, "Europe/Paris").0, "Nov 30, 2026");
        assert_eq!(ago(t, t.plus_seconds(3 * 86_400)), "3 days ago");
        assert_eq!(ago(t, t.plus_seconds(3_600)), "1 hour ago");
    }
}
