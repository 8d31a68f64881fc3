//! Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30 s steps,
//! ±1 step) and recovery codes. Each step is accepted once per person: the
//! caller stores the last used step and refuses anything at or before it.

use base64::Engine;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::tokens::hash_secret;
use crate::{Error, Result};

pub const STEP_SECS: u64 = 30;
pub const RECOVERY_CODES: usize = 10;

/// A new random secret (160 bits), base32 as authenticator apps expect.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::fill(&mut bytes[..]);
    Secret::from(bytes).to_base32()
}

fn totp(secret_b32: &str, issuer: &str, account: &str) -> Result<Totp> {
    let secret = Secret::try_from_base32(secret_b32).map_err(|_| Error::internal())?;
    // totp-rs refuses secrets under 128 bits; ours are 160.
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_SECS)
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(issuer))
        .build()
        .map_err(|_| Error::internal())
}

/// The `otpauth://` URL and a QR code of it (SVG) for enrollment.
pub fn enrollment(secret_b32: &str, issuer: &str, account: &str) -> Result<(String, String)> {
    let url = totp(secret_b32, issuer, account)?.to_url().map_err(|_| Error::internal())?;
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|_| Error::internal())?;
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build();
    Ok((url, svg))
}

/// The QR code as a `data:` URL, for an `<img>` under a strict CSP.
pub fn svg_data_url(svg: &str) -> String {
    format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(svg))
}

/// A code as typed: six digits, spaces allowed.
pub fn parse_code(field: &str, code: &str) -> Result<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::field(field, &crate::messages::rule::NOT_A_TOTP_CODE, &[]));
    }
    Ok(digits)
}

/// The step a valid `code` belongs to (now, or one step either side), if it
/// is later than `last_used_step`; `None` when wrong or replayed.
pub fn verify(secret_b32: &str, code: &str, unix_secs: u64, last_used_step: i64) -> Option<i64> {
    let t = totp(secret_b32, "steward", "check").ok()?;
    let now_step = (unix_secs / STEP_SECS) as i64;
    [now_step - 1, now_step, now_step + 1]
        .into_iter()
        .filter(|s| *s > last_used_step && *s >= 0)
        .find(|s| constant_time_eq(t.generate(*s as u64 * STEP_SECS).to_string().as_bytes(), code.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The code for a given time (tests and the enrollment check use it).
pub fn code_at(secret_b32: &str, unix_secs: u64) -> Result<String> {
    Ok(totp(secret_b32, "steward", "check")?.generate(unix_secs).to_string())
}

/// Ten recovery codes such as `k3f9-x2mq-7tza`, and their hashes to store.
pub fn new_recovery_codes() -> Vec<(String, String)> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 12];
            rand::fill(&mut bytes[..]);
            let chars: String = bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
            let code = format!("{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12]);
            let hash = recovery_hash(&code);
            (code, hash)
        })
        .collect()
}

/// Recovery codes compare without case, spaces or dashes.
pub fn recovery_hash(code: &str) -> String {
    let normal: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    hash_secret(&normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_verify_within_one_step_and_only_once() {
        let secret = new_secret();
        let t = 1_800_000_000u64;
        let code = code_at(&secret, t).unwrap();
        let step = (t / 30) as i64;
        assert_eq!(verify(&secret, &code, t, 0), Some(step));
        assert_eq!(verify(&secret, &code, t + 30, 0), Some(step), "one step late is fine");
        assert_eq!(verify(&secret, &code, t - 30, 0), Some(step), "one step early is fine");
        assert_eq!(verify(&secret, &code, t + 61, 0), None, "two steps late is not");
        assert_eq!(verify(&secret, &code, t, step), None, "a used step is refused (replay)");
        assert_eq!(verify(&new_secret(), &code, t, 0), None);
    }

    #[test]
    fn enrollment_gives_an_otpauth_url_and_a_qr_svg() {
        let secret = new_secret();
        let (url, svg) = enrollment(&secret, "Acme", "ana@acme.example").unwrap();
        assert!(url.starts_with("otpauth://totp/Acme:ana%40acme.example?secret=") && url.contains(&secret));
        assert!(svg.contains("<svg"));
        assert!(svg_data_url(&svg).starts_with("data:image/svg+xml;base64,"));
    }

    #[test]
    fn codes_and_recovery_codes() {
        assert_eq!(parse_code("code", " 123 456 ").unwrap(), "123456");
        assert!(parse_code("code", "12345").is_err() && parse_code("code", "abcdef").is_err());
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let (code, hash) = &codes[0];
        assert_eq!(&recovery_hash(&code.to_uppercase().replace('-', " ")), hash);
        assert_ne!(codes[0].0, codes[1].0);
    }
}
