//! Secrets the server must read back (stored answers that may hold a new key, TOTP
//! secrets) are kept sealed: ChaCha20-Poly1305 under a key derived from the app's
//! secret, so a copy of the database alone does not reveal them, and every instance
//! sharing `JWT_SECRET` opens them.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

const NONCE_LEN: usize = 12;

#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(&Key::from(key)),
        }
    }

    /// A random nonce and the ciphertext, base64.
    pub fn seal(&self, plain: &str) -> String {
        use base64::Engine;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), plain.as_bytes())
            .expect("sealing a buffer in memory does not fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    /// The plain text, or `None` when `sealed` was not sealed under this key (or was
    /// altered).
    pub fn open(&self, sealed: &str) -> Option<String> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .ok()?;
        let (nonce, data) = bytes.split_at_checked(NONCE_LEN)?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let plain = self.cipher.decrypt(&Nonce::from(nonce), data).ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_under_its_key() {
        let sealed = Sealer::new([1; 32]).seal("{\"secret\":\"umk_x\"}");
        assert!(!sealed.contains("umk_x"));
        assert_eq!(
            Sealer::new([1; 32]).open(&sealed).as_deref(),
            Some("{\"secret\":\"umk_x\"}")
        );
        assert_eq!(Sealer::new([2; 32]).open(&sealed), None);
        assert_eq!(Sealer::new([1; 32]).open("not base64"), None);
    }
}
