//! Field rules shared by every form and API body. Each check appends to a
//! [`Fields`] collector so one response names every bad field at once.

use crate::messages::{Args, Rule, rule};
use crate::time::Timestamp;
use crate::{Error, FieldError, Result};

pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 1000;
pub const URL_MAX: usize = 2048;
pub const EMAIL_MAX: usize = 254;
pub const SLUG_MIN: usize = 2;
pub const SLUG_MAX: usize = 63;

/// Slugs that would collide with Steward's own routes or confuse people.
const RESERVED_SLUGS: &[&str] =
    &["api", "admin", "setup", "console", "static", "login", "logout", "settings", "new", "steward"];

#[derive(Debug, Default)]
pub struct Fields(Vec<FieldError>);

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, field: &str, rule: &Rule, args: Args<'_>) {
        self.0.push(FieldError::new(field, rule, args));
    }

    /// Records the error of a single-field check, if any.
    pub fn check<T>(&mut self, result: Result<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.extend(e.errors);
                None
            }
        }
    }

    /// An RFC 3339 time from a query or form field; blank is none, and a
    /// value that is not a time is recorded against `field`.
    pub fn time(&mut self, field: &str, value: Option<&str>) -> Option<Timestamp> {
        let v = value.filter(|v| !v.is_empty())?;
        let t = Timestamp::parse_rfc3339(v);
        if t.is_none() {
            self.push(field, &rule::INVALID_DATE_TIME, &[]);
        }
        t
    }

    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::validation(self.0)) }
    }
}

fn has_control_chars(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

/// A display name: trimmed, 1–100 characters, no control characters. The
/// length counts what was sent, as the API document's `maxLength` does.
pub fn name(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::field(field, &rule::REQUIRED, &[]));
    }
    if value.chars().count() > NAME_MAX {
        return Err(Error::field(field, &rule::TOO_LONG, &[("max", &NAME_MAX)]));
    }
    if has_control_chars(v) {
        return Err(Error::field(field, &rule::CONTROL_CHARACTERS, &[("where_", &"")]));
    }
    Ok(v.to_owned())
}

/// Optional free text: trimmed, empty becomes none, at most 1000 characters.
pub fn description(field: &str, value: Option<&str>) -> Result<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    if value.is_some_and(|raw| raw.chars().count() > DESCRIPTION_MAX) {
        return Err(Error::field(field, &rule::TOO_LONG, &[("max", &DESCRIPTION_MAX)]));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(Error::field(field, &rule::CONTROL_CHARACTERS, &[("where_", &"")]));
    }
    Ok(Some(v.to_owned()))
}

/// A URL-friendly identifier: 2–63 characters of `a-z`, `0-9` and single hyphens,
/// starting and ending with a letter or digit.
pub fn slug(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    let len = v.len();
    let ok_chars = v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ok_ends = !v.starts_with('-') && !v.ends_with('-');
    if !(SLUG_MIN..=SLUG_MAX).contains(&len) || !ok_chars || !ok_ends || v.contains("--") {
        return Err(Error::field(field, &rule::INVALID_SLUG, &[]));
    }
    if RESERVED_SLUGS.contains(&v) {
        return Err(Error::field(field, &rule::RESERVED, &[("value", &v)]));
    }
    Ok(v.to_owned())
}

/// Derives a slug from a name: transliterated to ASCII, lower-case, runs of other
/// characters become one hyphen, cut to the maximum length.
pub fn slugify(name: &str) -> String {
    let ascii = deunicode::deunicode(name).to_ascii_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out: String = out.trim_end_matches('-').chars().take(SLUG_MAX).collect();
    while out.ends_with('-') {
        out.pop();
    }
    match out.len() {
        0 => "org".to_owned(),
        1 => format!("{out}-1"),
        _ if RESERVED_SLUGS.contains(&out.as_str()) => format!("{out}-1"),
        _ => out,
    }
}

/// An optional website: an absolute `http` or `https` URL with a host.
pub fn website(field: &str, value: Option<&str>) -> Result<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    if v.len() > URL_MAX {
        return Err(Error::field(field, &rule::TOO_LONG, &[("max", &URL_MAX)]));
    }
    let parsed = url::Url::parse(v).map_err(|_| Error::field(field, &rule::INVALID_URL, &[]))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::field(field, &rule::INVALID_URL, &[]));
    }
    Ok(Some(parsed.to_string()))
}

/// An email address, normalised to lower case. Deliberately simple: one `@`, a
/// non-empty local part, a domain with a dot, no spaces; the invitation mail is
/// the real proof.
pub fn email(field: &str, value: &str) -> Result<String> {
    let v = value.trim().to_lowercase();
    let bad = || Error::field(field, &rule::INVALID_EMAIL, &[]);
    if v.len() > EMAIL_MAX {
        return Err(Error::field(field, &rule::TOO_LONG, &[("max", &EMAIL_MAX)]));
    }
    let (local, domain) = v.split_once('@').ok_or_else(bad)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    if local.is_empty()
        || local.len() > 64
        || domain.contains('@')
        || !domain_ok
        || v.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("slug", "acme-inc").unwrap(), "acme-inc");
        for bad in ["a", "Acme", "-acme", "acme-", "ac--me", "acme inc", "api", &"a".repeat(64)] {
            assert!(slug("slug", bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn slugify_transliterates() {
        assert_eq!(slugify("Café Crème — Zürich"), "cafe-creme-zurich");
        assert_eq!(slugify("  ***  "), "org");
        assert_eq!(slugify("API"), "api-1");
        assert!(slug("s", &slugify(&"x".repeat(200))).is_ok());
    }

    #[test]
    fn websites() {
        assert_eq!(website("w", Some("https://acme.example")).unwrap().as_deref(), Some("https://acme.example/"));
        assert_eq!(website("w", Some("  ")).unwrap(), None);
        assert!(website("w", Some("javascript:alert(1)")).is_err());
        assert!(website("w", Some("ftp://acme.example")).is_err());
        assert!(website("w", Some("acme.example")).is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(email("e", " Ana@Example.COM ").unwrap(), "ana@example.com");
        for bad in
            ["ana", "ana@", "@example.com", "ana@example", "a b@example.com", "ana@@example.com", "ana@exa mple.com"]
        {
            assert!(email("e", bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn names() {
        assert_eq!(name("n", "  Acme ").unwrap(), "Acme");
        assert_eq!(name("n", "").unwrap_err().errors[0].code, "required");
        assert_eq!(name("n", &"x".repeat(101)).unwrap_err().errors[0].code, "too_long");
        assert!(name("n", "a\u{0}b").is_err());
    }
}
