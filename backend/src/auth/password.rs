//! argon2id hashing and verification, always on the blocking pool and never more at
//! once than the machine has cores, so a burst of logins queues instead of starving
//! the async workers or exhausting memory (each hash takes 19 MiB).
//!
//! Accounts imported from the old app may still hold any hash passlib's default
//! schemes write (see [`formats`]). They verify here, and [`needs_rehash`] tells the
//! login to replace them with argon2id once the password is known.

use std::sync::Arc;

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use super::formats::{self, Format};

/// Why a hash could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every slot stayed busy for the whole wait: the caller should retry shortly.
    #[error("password hashing is saturated")]
    Saturated,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// A hash of a random password nobody knows, with the production parameters. Verifying
/// against it when the username is unknown spends the same time as a real check.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$1knYRyyS+D4eO8MuUYhzlg$I7BATZe35293MzMc92MFAUWdDB1qZomdZoM+UfKw5ag";

/// How long a request waits for a hashing slot before it gets a 503: under a flood,
/// requests fail fast instead of queueing without bound.
const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// OWASP's first recommended argon2id configuration: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Whether `stored` should be replaced by a fresh argon2id hash of the same secret
/// (a legacy bcrypt hash, or argon2 with other parameters).
pub fn needs_rehash(stored: &str) -> bool {
    !stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
}

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
}

impl Passwords {
    pub fn new(max_concurrent: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
        }
    }

    /// Sized to the machine: hashing is CPU-bound, more threads only add memory.
    pub fn for_this_machine() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// A PHC-format argon2id hash of `secret` with a fresh random salt.
    pub async fn hash(&self, secret: SecretString) -> Result<String, HashError> {
        self.run(move || {
            let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
            argon2()
                .hash_password(secret.expose_secret().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
        })
        .await
    }

    /// Whether `secret` matches `stored`. With no stored hash (unknown user) it checks
    /// against a dummy so the answer takes as long and is always `false`.
    pub async fn verify(
        &self,
        secret: SecretString,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        self.run(move || {
            let known = stored.is_some();
            let stored = stored.as_deref().unwrap_or(DUMMY_HASH);
            let secret = secret.expose_secret().as_bytes();
            let matches = match formats::recognize(stored) {
                Some(Format::Argon2) => {
                    let parsed = PasswordHash::new(stored)
                        .map_err(|e| anyhow::anyhow!("stored password hash is malformed: {e}"))?;
                    argon2().verify_password(secret, &parsed).is_ok()
                }
                Some(format) => formats::verify(format, secret, stored)?,
                None => anyhow::bail!("the stored password hash has no known format"),
            };
            Ok(known && matches)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = tokio::time::timeout(QUEUE_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| HashError::Saturated)?
            .context("password hashing pool closed")?;
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .context("password hashing task failed")??;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let passwords = Passwords::new(2);
        let hash = passwords
            .hash("correct horse".to_owned().into())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            passwords
                .verify("correct horse".to_owned().into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify("wrong horse".to_owned().into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify("anything".to_owned().into(), None)
                .await
                .unwrap(),
            "the dummy hash never matches"
        );
    }

    #[tokio::test]
    async fn legacy_bcrypt_hashes_verify_and_ask_for_a_rehash() {
        let passwords = Passwords::new(2);
        for version in [
            bcrypt::Version::TwoA,
            bcrypt::Version::TwoB,
            bcrypt::Version::TwoY,
        ] {
            let hash = bcrypt::hash_with_result("old secret", 4)
                .unwrap()
                .format_for_version(version);
            let check = |guess: &str| passwords.verify(guess.to_owned().into(), Some(hash.clone()));
            assert!(check("old secret").await.unwrap(), "{hash}");
            assert!(!check("other secret").await.unwrap());
            assert!(needs_rehash(&hash));
        }
        let fresh = passwords.hash("x".to_owned().into()).await.unwrap();
        assert!(!needs_rehash(&fresh));
    }
}
