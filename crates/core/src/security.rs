//! An organization's security settings and the password policy they define
//! (SEC-1, SEC-2), plus login throttling (growing delays, then a lock).

use serde::{Deserialize, Serialize};
use zxcvbn::matching::patterns::MatchPattern;

use crate::messages::{Rule, rule};
use crate::people::string_enum;
use crate::{Error, FieldError, Result};

string_enum!(
    /// `off`: length and the always-on checks; `strength`: also a zxcvbn score of
    /// at least 3 of 4; `classes`: also three of lower case, upper case, digits
    /// and symbols (for compliance regimes that ask for it).
    Complexity { Off = "off", Strength = "strength", Classes = "classes" }
);

string_enum!(TwoFactorMode { Required = "required", Optional = "optional", Disabled = "disabled" });

/// Bounds every organization's settings stay within.
pub const MIN_LENGTH_RANGE: (i64, i64) = (8, 128);
pub const IDLE_MINUTES_RANGE: (i64, i64) = (5, 720);
pub const ABSOLUTE_HOURS_RANGE: (i64, i64) = (1, 720);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub password_min_length: i64,
    pub password_complexity: Complexity,
    pub session_idle_timeout_minutes: i64,
    pub session_absolute_timeout_hours: i64,
    pub two_factor: TwoFactorMode,
}

impl Default for Settings {
    /// Safe defaults: 15 characters when a password is the only factor
    /// (NIST 800-63B rev 4), no composition rules, idle 30 min, absolute 12 h.
    fn default() -> Self {
        Self {
            password_min_length: 15,
            password_complexity: Complexity::Off,
            session_idle_timeout_minutes: 30,
            session_absolute_timeout_hours: 12,
            two_factor: TwoFactorMode::Optional,
        }
    }
}

impl Settings {
    /// Checks the bounds; names every field out of them.
    pub fn validate(&self) -> Result<()> {
        let mut errors = Vec::new();
        let mut range = |field: &str, v: i64, (lo, hi): (i64, i64), unit: &str| {
            if !(lo..=hi).contains(&v) {
                let range = format!("{lo} to {hi} {unit}");
                errors.push(FieldError::new(field, &rule::OUT_OF_RANGE, &[("range", &range)]));
            }
        };
        range("password_min_length", self.password_min_length, MIN_LENGTH_RANGE, "characters");
        range("session_idle_timeout_minutes", self.session_idle_timeout_minutes, IDLE_MINUTES_RANGE, "minutes");
        range("session_absolute_timeout_hours", self.session_absolute_timeout_hours, ABSOLUTE_HOURS_RANGE, "hours");
        if errors.is_empty() && self.session_idle_timeout_minutes > self.session_absolute_timeout_hours * 60 {
            errors.push(FieldError::new("session_idle_timeout_minutes", &rule::IDLE_OVER_LIFETIME, &[]));
        }
        if errors.is_empty() { Ok(()) } else { Err(Error::validation(errors)) }
    }

    pub fn idle_secs(&self) -> i64 {
        self.session_idle_timeout_minutes * 60
    }

    pub fn absolute_secs(&self) -> i64 {
        self.session_absolute_timeout_hours * 3600
    }
}

fn refuse(field: &str, rule: &Rule) -> Error {
    Error::field(field, rule, &[])
}

/// Whether `password` may be set under `settings`. `own_words` are the
/// organization's name and slug and the person's name and email: a password
/// built mostly from them is refused. The message says exactly why.
pub fn check_password(settings: &Settings, field: &str, password: &str, own_words: &[&str]) -> Result<()> {
    let chars = password.chars().count();
    let min = settings.password_min_length.clamp(MIN_LENGTH_RANGE.0, MIN_LENGTH_RANGE.1) as usize;
    if chars < min {
        return Err(Error::field(field, &rule::TOO_SHORT, &[("min", &min)]));
    }
    if chars > crate::password::MAX_LENGTH {
        return Err(Error::field(field, &rule::TOO_LONG, &[("max", &crate::password::MAX_LENGTH)]));
    }
    // Words of the person and organization, split so "Acme Agency" gives "acme" and "agency".
    let mut words: Vec<String> = Vec::new();
    for w in own_words {
        let lower = w.to_lowercase();
        words.push(lower.clone());
        words.extend(lower.split(|c: char| !c.is_alphanumeric()).filter(|p| p.len() >= 3).map(str::to_owned));
    }
    let inputs: Vec<&str> = words.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    let sequence = estimate.sequence();
    // zxcvbn doesn't export its dictionary type; its Debug name is stable enough.
    let dictionary = |m: &zxcvbn::Match| match &m.pattern {
        MatchPattern::Dictionary(d) => Some(format!("{:?}", d.dictionary_name)),
        _ => None,
    };
    let from_own_words: usize = sequence
        .iter()
        .filter(|m| dictionary(m).as_deref() == Some("UserInputs"))
        .map(|m| m.token.chars().count())
        .sum();
    if let [only] = sequence
        && dictionary(only).as_deref() == Some("Passwords")
    {
        return Err(refuse(field, &rule::COMMON_PASSWORD));
    }
    if from_own_words * 2 >= chars {
        return Err(refuse(field, &rule::PERSONAL_WORDS));
    }
    // Fewer than a million guesses (zxcvbn score 0 or 1): sequences, repeats,
    // keyboard walks and dictionary words with a digit, whatever the list says.
    if u8::from(estimate.score()) <= 1 {
        return Err(refuse(field, &rule::TOO_PREDICTABLE));
    }
    match settings.password_complexity {
        Complexity::Off => Ok(()),
        Complexity::Strength => {
            let score = u8::from(estimate.score());
            if score < 3 { Err(Error::field(field, &rule::TOO_WEAK, &[("score", &score)])) } else { Ok(()) }
        }
        Complexity::Classes => {
            let classes = [
                password.chars().any(char::is_lowercase),
                password.chars().any(char::is_uppercase),
                password.chars().any(|c| c.is_ascii_digit()),
                password.chars().any(|c| !c.is_alphanumeric()),
            ];
            if classes.iter().filter(|c| **c).count() < 3 {
                Err(refuse(field, &rule::MISSING_CHARACTER_CLASSES))
            } else {
                Ok(())
            }
        }
    }
}

/// Login throttling, per account (by email, so unknown emails behave alike).
pub mod throttle {
    /// Consecutive failures within this window count toward a lock.
    pub const WINDOW_SECS: i64 = 15 * 60;
    /// Failures in the window that lock the account for [`LOCK_SECS`].
    pub const LOCK_AFTER: i64 = 10;
    pub const LOCK_SECS: i64 = 15 * 60;

    /// How long to wait after `failures` consecutive failures before the next
    /// attempt is even checked: nothing for the first two typos, then growing
    /// (in the spirit of Kanidm's 1 s / 3 s / 5 s / 10 s steps).
    pub fn delay_secs(failures: i64) -> i64 {
        match failures {
            ..=2 => 0,
            3..=5 => 2,
            6..=8 => 5,
            _ => 10,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn off(min: i64) -> Settings {
        Settings { password_min_length: min, ..Settings::default() }
    }

    #[test]
    fn defaults_are_the_safe_ones_and_bounds_hold() {
        let s = Settings::default();
        assert_eq!(
            (s.password_min_length, s.session_idle_timeout_minutes, s.session_absolute_timeout_hours),
            (15, 30, 12)
        );
        assert!(s.validate().is_ok());
        let bad = Settings {
            password_min_length: 3,
            session_idle_timeout_minutes: -5,
            session_absolute_timeout_hours: 5000,
            ..s.clone()
        };
        let e = bad.validate().unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["password_min_length", "session_idle_timeout_minutes", "session_absolute_timeout_hours"]);
        assert!(Settings { password_min_length: 500, ..s.clone() }.validate().is_err());
        let idle_too_long = Settings { session_idle_timeout_minutes: 600, session_absolute_timeout_hours: 2, ..s };
        assert_eq!(idle_too_long.validate().unwrap_err().errors[0].field, "session_idle_timeout_minutes");
    }

    #[test]
    fn passwords_are_refused_with_the_reason() {
        let code = |s: &Settings, p: &str, words: &[&str]| {
            check_password(s, "password", p, words).err().map(|e| e.errors[0].code.clone())
        };
        assert_eq!(code(&off(15), "short passwd", &[]).as_deref(), Some("too_short"));
        assert_eq!(code(&off(8), "password1", &[]).as_deref(), Some("common_password"));
        assert_eq!(code(&off(8), "qwertyuiop", &[]).as_deref(), Some("common_password"));
        assert_eq!(code(&off(15), "1234567890123456", &[]).as_deref(), Some("too_predictable"));
        assert_eq!(code(&off(15), "aaaaaaaaaaaaaaaa", &[]).as_deref(), Some("too_predictable"));
        assert_eq!(
            code(&off(8), "AcmeAgency2026", &["Acme Agency", "ana@acme.example"]).as_deref(),
            Some("personal_words")
        );
        assert_eq!(code(&off(15), "correct horse battery staple", &["Acme Agency"]), None);
        assert_eq!(code(&off(8), &"x".repeat(129), &[]).as_deref(), Some("too_long"));
        // Any Unicode, counted in characters.
        assert_eq!(code(&off(8), "éèêëēėęàá", &[]), None);
        let strength = Settings { password_complexity: Complexity::Strength, ..off(8) };
        assert_eq!(code(&strength, "violetmango", &[]).as_deref(), Some("too_weak"));
        assert_eq!(code(&strength, "violet tractor mango quietly", &[]), None);
        let classes = Settings { password_complexity: Complexity::Classes, ..off(8) };
        assert_eq!(code(&classes, "violet tractor mango", &[]).as_deref(), Some("missing_character_classes"));
        assert_eq!(code(&classes, "Violet tractor mango 7", &[]), None);
        let e = check_password(&off(15), "password", "password", &[]).unwrap_err();
        assert_eq!(
            e.errors[0].message,
            "`password` is shorter than 15 characters. Make it at least 15 characters long."
        );
    }

    #[test]
    fn throttling_grows() {
        use throttle::delay_secs;
        assert_eq!([0, 2, 3, 6, 9, 30].map(delay_secs), [0, 0, 2, 5, 10, 10]);
    }
}
