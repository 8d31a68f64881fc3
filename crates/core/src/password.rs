//! Password hashing (Argon2id, OWASP parameters: 19 MiB, t=2, p=1) and the
//! baseline rules every password meets. Organization policies (minimum length,
//! complexity, common-password lists) build on [`check_baseline`].

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::messages::rule;
use crate::{Error, Result};

pub const MIN_LENGTH: usize = 8;
/// Long enough for any passphrase; bounds the hashing work an attacker can cause.
pub const MAX_LENGTH: usize = 128;

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash(password: &str) -> Result<String> {
    hasher().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|_| Error::internal())
}

/// Whether `password` matches the stored PHC hash. A malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Whether a stored hash was made with other parameters than today's (then it
/// is replaced at the next successful sign-in).
pub fn needs_rehash(phc: &str) -> bool {
    !phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
}

/// A hash with the current parameters, computed and thrown away, so that a login
/// for an unknown email costs the same time as one for a known email.
pub fn waste_equal_time(password: &str) {
    let _ = hash(password);
}

/// Length bounds, counted in characters (any Unicode; never truncated).
pub fn check_baseline(field: &str, password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(Error::field(field, &rule::TOO_SHORT, &[("min", &MIN_LENGTH)]));
    }
    if chars > MAX_LENGTH {
        return Err(Error::field(field, &rule::TOO_LONG, &[("max", &MAX_LENGTH)]));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_use_argon2id_owasp_parameters() {
        let h = hash("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery staple", &h));
        assert!(!verify("correct horse battery stapl", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn baseline_counts_characters_not_bytes() {
        assert!(check_baseline("password", "ééééééé").is_err());
        assert!(check_baseline("password", "éééééééé").is_ok());
        assert_eq!(check_baseline("password", &"a".repeat(129)).unwrap_err().errors[0].code, "too_long");
    }
}
