//! Secrets handed to clients: session tokens, API keys, invitation and setup
//! tokens. All are ≥ 128 bits from the OS CSPRNG and are stored only as SHA-256
//! digests; a high-entropy secret needs no slow hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// The prefix that makes Steward API keys recognisable to people and to secret
/// scanners.
pub const API_KEY_PREFIX: &str = "stw_live_";
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const API_KEY_RANDOM_CHARS: usize = 32; // 32 base62 chars ≈ 190 bits
const API_KEY_CHECKSUM_CHARS: usize = 6;

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    rand::fill(&mut buf[..]);
    buf
}

/// A URL-safe random token of 256 bits.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// Hex SHA-256 of a secret, the only form in which secrets are stored.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn base62_fixed(mut n: u64, width: usize) -> String {
    let mut chars = vec![b'0'; width];
    for slot in chars.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(chars).unwrap_or_default()
}

/// A new API key: `stw_live_` + 32 random base62 characters + a 6-character
/// base62 CRC32 of the random part, so a typo or a scanner's false positive is
/// caught without a database lookup.
pub fn new_api_key() -> String {
    let bytes = random_bytes::<API_KEY_RANDOM_CHARS>();
    // Rejection-free mapping: 256 % 62 leaves a tiny bias, irrelevant at 190 bits.
    let body: String = bytes.iter().map(|b| BASE62[(*b as usize) % 62] as char).collect();
    let checksum = base62_fixed(u64::from(crc32fast::hash(body.as_bytes())), API_KEY_CHECKSUM_CHARS);
    format!("{API_KEY_PREFIX}{body}{checksum}")
}

/// Whether a string has the shape and checksum of a Steward API key.
pub fn is_well_formed_api_key(key: &str) -> bool {
    let Some(rest) = key.strip_prefix(API_KEY_PREFIX) else { return false };
    if rest.len() != API_KEY_RANDOM_CHARS + API_KEY_CHECKSUM_CHARS || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (body, checksum) = rest.split_at(API_KEY_RANDOM_CHARS);
    base62_fixed(u64::from(crc32fast::hash(body.as_bytes())), API_KEY_CHECKSUM_CHARS) == checksum
}

/// What a key list shows: enough to recognise a key, never enough to use it.
pub fn api_key_display_prefix(key: &str) -> String {
    key.chars().take(API_KEY_PREFIX.len() + 4).collect()
}

pub fn api_key_last4(key: &str) -> String {
    let n = key.chars().count();
    key.chars().skip(n.saturating_sub(4)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_carry_a_checksum() {
        let key = new_api_key();
        assert!(key.starts_with("stw_live_"));
        assert_eq!(key.len(), 9 + 32 + 6);
        assert!(is_well_formed_api_key(&key));
        // One changed character breaks the checksum.
        let mut broken: Vec<char> = key.chars().collect();
        broken[12] = if broken[12] == 'a' { 'b' } else { 'a' };
        assert!(!is_well_formed_api_key(&broken.into_iter().collect::<String>()));
        assert!(!is_well_formed_api_key("stw_live_short"));
        assert_ne!(new_api_key(), key);
    }

    #[test]
    fn secrets_hash_to_hex_sha256() {
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(random_token().len(), 43);
    }
}
