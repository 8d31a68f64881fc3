//! Secrets at rest (TOTP seeds): sealed with XChaCha20-Poly1305 under the
//! deployment's key. Each sealed value is bound to where it belongs (the
//! associated data, e.g. `totp:usr_…`), so a value copied to another row or
//! read with another deployment's key does not open.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

/// Marks a sealed value and its format: `v1.` + base64url(nonce ‖ ciphertext).
const PREFIX: &str = "v1.";
const NONCE_LEN: usize = 24;

/// The deployment's sealing key.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(…)") // never the key
    }
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Self {
        Self { cipher: XChaCha20Poly1305::new(&Key::from(key)) }
    }

    /// A key written as standard base64 of 32 bytes (what `generate_key` makes).
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| "is not base64".to_owned())?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|b: Vec<u8>| format!("must be 32 bytes of base64, not {}", b.len()))?;
        Ok(Self::new(key))
    }

    /// A new random key, in the form `from_base64` reads.
    pub fn generate_key() -> String {
        let mut key = [0u8; 32];
        rand::fill(&mut key[..]);
        STANDARD.encode(key)
    }

    /// Seals `plaintext` for the place named by `context`.
    pub fn seal(&self, plaintext: &str, context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce[..]);
        let payload = Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() };
        // Encryption fails only for messages near 256 GiB; secrets are bytes long.
        let sealed = self.cipher.encrypt(&XNonce::from(nonce), payload).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// The plaintext, if `sealed` was sealed by this key for `context` and not altered.
    pub fn open(&self, sealed: &str, context: &str) -> Option<String> {
        let raw = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if raw.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let payload = Payload { msg: ciphertext, aad: context.as_bytes() };
        let plain = self.cipher.decrypt(&XNonce::from(nonce), payload).ok()?;
        String::from_utf8(plain).ok()
    }

    /// Whether a stored value is sealed (older rows may still hold plaintext).
    pub fn is_sealed(value: &str) -> bool {
        value.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::Sealer;

    #[test]
    fn seals_for_one_place_and_one_key() {
        let key = Sealer::generate_key();
        let s = Sealer::from_base64(&key).unwrap();
        let sealed = s.seal("JBSWY3DPEHPK3PXP", "totp:usr_1");
        assert!(Sealer::is_sealed(&sealed) && !sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_ne!(sealed, s.seal("JBSWY3DPEHPK3PXP", "totp:usr_1"), "a new nonce each time");
        assert_eq!(s.open(&sealed, "totp:usr_1").as_deref(), Some("JBSWY3DPEHPK3PXP"));
        assert_eq!(s.open(&sealed, "totp:usr_2"), None, "bound to its place");
        let other = Sealer::from_base64(&Sealer::generate_key()).unwrap();
        assert_eq!(other.open(&sealed, "totp:usr_1"), None, "bound to its key");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(s.open(&String::from_utf8(tampered).unwrap(), "totp:usr_1"), None);
        assert_eq!(s.open("JBSWY3DPEHPK3PXP", "totp:usr_1"), None, "plaintext is not sealed");
        assert_eq!(s.open("v1.", "totp:usr_1"), None);
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(Sealer::from_base64("not base64!").is_err());
        assert!(Sealer::from_base64("c2hvcnQ=").unwrap_err().contains("32 bytes"));
    }
}
