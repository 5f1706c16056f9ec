//! One-time codes and tokens: made from the OS's CSPRNG, stored only as hashes.
//! Six-digit codes are keyed (HMAC with the app's secret, bound to their purpose and
//! subject), so a database dump alone does not reveal them: six digits are trivial
//! to brute-force from a plain hash. Long random tokens need only SHA-256.

use hmac::{Hmac, Mac};
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

/// What a code proves; part of its hash, so a code for one purpose never passes for
/// another.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    PasswordRecovery,
    EmailVerification,
    Invitation,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::PasswordRecovery => "password-recovery",
            Purpose::EmailVerification => "email-verification",
            Purpose::Invitation => "invitation",
        }
    }
}

/// Makes and hashes codes with the app's key.
#[derive(Clone)]
pub struct Codes {
    key: Vec<u8>,
}

impl Codes {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    /// A fresh 6-digit code (leading zeros kept).
    pub fn new_code() -> String {
        format!("{:06}", rand::rng().random_range(0..1_000_000u32))
    }

    /// The stored form of `code`, issued for `purpose` to `subject` (an account id or
    /// an address).
    pub fn hash(&self, purpose: Purpose, subject: &str, code: &str) -> String {
        hex::encode(self.mac(&format!("{}:{subject}:{}", purpose.label(), code.trim())))
    }

    /// A secret derived from the key alone: the same on every instance sharing it.
    pub fn derived(&self, label: &str) -> String {
        hex::encode(&self.mac(label)[..16])
    }

    /// A 256-bit key derived from the app's key for `label` (sealing, fingerprints).
    pub fn derived_key(&self, label: &str) -> [u8; 32] {
        let mut key = [0u8; 32];
        key.copy_from_slice(&self.mac(label));
        key
    }

    fn mac(&self, message: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(message.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// 256 random bits, hex-encoded; store only [`token_hash`].
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_bind_purpose_subject_and_key() {
        let codes = Codes::new(b"key one");
        let code = Codes::new_code();
        assert_eq!(code.len(), 6);
        let hash = codes.hash(Purpose::EmailVerification, "7", &code);
        assert_eq!(hash, codes.hash(Purpose::EmailVerification, "7", &code));
        assert_ne!(hash, codes.hash(Purpose::PasswordRecovery, "7", &code));
        assert_ne!(hash, codes.hash(Purpose::EmailVerification, "8", &code));
        assert_ne!(
            hash,
            Codes::new(b"key two").hash(Purpose::EmailVerification, "7", &code)
        );
        assert_ne!(new_token(), new_token());
        assert_eq!(token_hash(" abc "), token_hash("abc"));
    }
}
