//! The password hash formats an account may hold: argon2id (ours), and every format
//! passlib's default schemes write, which accounts imported from the old app keep
//! until their first login replaces them (`password::needs_rehash`).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

/// A recognised stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `$argon2id$`, `$argon2i$`, `$argon2d$` (PHC strings; passlib's `argon2`).
    Argon2,
    /// `$2a$`, `$2b$`, `$2y$` (passlib's `bcrypt`).
    Bcrypt,
    /// `$bcrypt-sha256$v=2,t=2b,r=12$salt$checksum` (passlib 1.7.3+) and the v1 form
    /// `$bcrypt-sha256$2b,12$salt$checksum`.
    BcryptSha256,
    /// `$pbkdf2-sha256$rounds$salt$checksum` in passlib's adapted base64.
    Pbkdf2Sha256,
    /// `$pbkdf2-sha512$rounds$salt$checksum`.
    Pbkdf2Sha512,
    /// `$5$rounds=N$salt$hash` (SHA-crypt).
    Sha256Crypt,
    /// `$6$rounds=N$salt$hash`.
    Sha512Crypt,
}

/// The format of `stored`, when it is one of ours and well formed.
pub fn recognize(stored: &str) -> Option<Format> {
    let format = if stored.starts_with("$argon2") {
        Format::Argon2
    } else if ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|p| stored.starts_with(p))
    {
        Format::Bcrypt
    } else if stored.starts_with("$bcrypt-sha256$") {
        Format::BcryptSha256
    } else if stored.starts_with("$pbkdf2-sha256$") {
        Format::Pbkdf2Sha256
    } else if stored.starts_with("$pbkdf2-sha512$") {
        Format::Pbkdf2Sha512
    } else if stored.starts_with("$5$") {
        Format::Sha256Crypt
    } else if stored.starts_with("$6$") {
        Format::Sha512Crypt
    } else {
        return None;
    };
    well_formed(format, stored).then_some(format)
}

fn well_formed(format: Format, stored: &str) -> bool {
    match format {
        Format::Argon2 => argon2::password_hash::PasswordHash::new(stored).is_ok(),
        Format::Bcrypt => stored.parse::<bcrypt::HashParts>().is_ok(),
        Format::BcryptSha256 => bcrypt_sha256_parts(stored).is_some(),
        Format::Pbkdf2Sha256 | Format::Pbkdf2Sha512 => pbkdf2_parts(stored).is_some(),
        Format::Sha256Crypt | Format::Sha512Crypt => {
            // `$5$[rounds=N$]salt$hash`: the hash is 43 (SHA-256) or 86 characters.
            let hash = stored.rsplit('$').next().unwrap_or_default();
            let expected = if format == Format::Sha256Crypt {
                43
            } else {
                86
            };
            hash.len() == expected && stored.matches('$').count() >= 3
        }
    }
}

/// Whether a value that is not a recognised hash still looks like one (another
/// scheme, a truncated hash): an import must not take it for a plain-text password.
pub fn looks_like_a_hash(value: &str) -> bool {
    let value = value.trim();
    let hexish = value.len() >= 32 && value.bytes().all(|b| b.is_ascii_hexdigit());
    let base64ish = value.len() >= 32
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=.".contains(&b));
    let modular = value.starts_with('$') && value[1..].contains('$');
    // Other libraries' layouts (`pbkdf2:sha256:600000$salt$hash`): long, no spaces,
    // separated by `$` or `:`.
    let structured =
        value.len() >= 40 && !value.contains(char::is_whitespace) && value.contains(['$', ':']);
    hexish || base64ish || modular || structured
}

/// Checks `secret` against a stored hash of a recognised legacy format (not argon2,
/// which the caller checks with its own parameters).
pub fn verify(format: Format, secret: &[u8], stored: &str) -> anyhow::Result<bool> {
    match format {
        Format::Argon2 => anyhow::bail!("argon2 is checked by the caller"),
        Format::Bcrypt => Ok(bcrypt::verify(secret, stored)?),
        Format::BcryptSha256 => {
            let (ident, cost, salt, checksum, v2) = bcrypt_sha256_parts(stored)
                .ok_or_else(|| anyhow::anyhow!("malformed bcrypt-sha256 hash"))?;
            // passlib: bcrypt(base64(HMAC-SHA256(key = salt, secret))) for v2, of
            // base64(SHA-256(secret)) for v1.
            let digest = if v2 {
                let mut mac = Hmac::<Sha256>::new_from_slice(salt.as_bytes())?;
                mac.update(secret);
                mac.finalize().into_bytes().to_vec()
            } else {
                Sha256::digest(secret).to_vec()
            };
            let key = STANDARD.encode(digest);
            let inner = format!("${ident}${cost:02}${salt}{checksum}");
            Ok(bcrypt::verify(key, &inner)?)
        }
        Format::Pbkdf2Sha256 | Format::Pbkdf2Sha512 => {
            let (rounds, salt, checksum) =
                pbkdf2_parts(stored).ok_or_else(|| anyhow::anyhow!("malformed pbkdf2 hash"))?;
            let mut derived = vec![0u8; checksum.len()];
            if format == Format::Pbkdf2Sha256 {
                pbkdf2::pbkdf2_hmac::<Sha256>(secret, &salt, rounds, &mut derived);
            } else {
                pbkdf2::pbkdf2_hmac::<Sha512>(secret, &salt, rounds, &mut derived);
            }
            Ok(same(&derived, &checksum))
        }
        Format::Sha256Crypt => {
            Ok(sha_crypt::sha256_check(std::str::from_utf8(secret)?, stored).is_ok())
        }
        Format::Sha512Crypt => {
            Ok(sha_crypt::sha512_check(std::str::from_utf8(secret)?, stored).is_ok())
        }
    }
}

/// Constant-time comparison of equal-length digests.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// (ident, cost, salt, checksum, v2) of a `$bcrypt-sha256$` hash.
fn bcrypt_sha256_parts(stored: &str) -> Option<(String, u32, &str, &str, bool)> {
    let rest = stored.strip_prefix("$bcrypt-sha256$")?;
    let mut parts = rest.split('$');
    let settings = parts.next()?;
    let salt = parts.next()?;
    let checksum = parts.next()?;
    if parts.next().is_some() || salt.len() != 22 || checksum.len() != 31 {
        return None;
    }
    let (ident, cost, v2) = if let Some(v2) = settings.strip_prefix("v=2,") {
        // `t=2b,r=12`
        let mut ident = None;
        let mut cost = None;
        for pair in v2.split(',') {
            match pair.split_once('=')? {
                ("t", t) => ident = Some(t.to_owned()),
                ("r", r) => cost = r.parse().ok(),
                _ => return None,
            }
        }
        (ident?, cost?, true)
    } else {
        // v1: `2b,12`
        let (ident, cost) = settings.split_once(',')?;
        (ident.to_owned(), cost.parse().ok()?, false)
    };
    matches!(ident.as_str(), "2a" | "2b" | "2y").then_some((ident, cost, salt, checksum, v2))
}

/// (rounds, salt, checksum) of a passlib pbkdf2 hash.
fn pbkdf2_parts(stored: &str) -> Option<(u32, Vec<u8>, Vec<u8>)> {
    let mut parts = stored.split('$').skip(2);
    let rounds = parts.next()?.parse().ok().filter(|r| *r > 0)?;
    let salt = ab64_decode(parts.next()?)?;
    let checksum = ab64_decode(parts.next()?)?;
    (parts.next().is_none() && !checksum.is_empty()).then_some((rounds, salt, checksum))
}

/// passlib's "adapted base64": standard base64 with `.` for `+` and no padding.
fn ab64_decode(raw: &str) -> Option<Vec<u8>> {
    STANDARD_NO_PAD.decode(raw.replace('.', "+")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by passlib 1.7.4 for the password "old secret 42":
    /// `from passlib.hash import ...; h.using(rounds=...).hash("old secret 42")`.
    const PASSLIB: &[(Format, &str)] = &[
        (
            Format::Bcrypt,
            "$2b$04$1jFXvsV7Ee12awUORzgmr.IaHeEyzOX1A6ARAHSUNcjNaqSEkxgQa",
        ),
        (
            Format::BcryptSha256,
            "$bcrypt-sha256$v=2,t=2b,r=4$YiPnRhCj7pxqmG9Ku.AYKe$FhdFczSwIQpy6318po3mkd4wTwLmHcy",
        ),
        (
            Format::Pbkdf2Sha256,
            "$pbkdf2-sha256$1000$hHBubW2N8f4fozSmdA7BWA$BQVWrthPdsZk3Tg.Wl2kqXr4zvuH9Zm9RZX/wVw7eVI",
        ),
        (
            Format::Pbkdf2Sha512,
            "$pbkdf2-sha512$1000$e0/pnbP2/n.vtfa.99577w$BsxPwNkTKlI3bxrRlHX3ZUbnoMWspc7pE24.yh891HQMq0Uya/r.XJ.XmeCtjCq4b.QOmvefCCM1Mi.UfHT9Xg",
        ),
        (
            Format::Sha256Crypt,
            "$5$rounds=1000$fOVdcwOO22ke/PIs$oU9o9wzSlgs7V0xBTy0fx/r6ECbyR0I279p2Z9nbM37",
        ),
        (
            Format::Sha512Crypt,
            "$6$rounds=1000$5oiFYfJRhspDZhTx$Ny/DEO2mVhg.hKdmopNVtrSMv.mKtqBAwqC/Q9MR.qjVMndCBLcEgaWsKXRQgXbhn9l4fKVqkc/5h558FOBxQ/",
        ),
    ];

    #[test]
    fn every_passlib_default_scheme_verifies() {
        for (format, stored) in PASSLIB {
            assert_eq!(recognize(stored), Some(*format), "{stored}");
            assert!(
                verify(*format, b"old secret 42", stored).unwrap(),
                "{stored}"
            );
            assert!(
                !verify(*format, b"old secret 43", stored).unwrap(),
                "{stored}"
            );
        }
        let argon2 = "$argon2id$v=19$m=65536,t=3,p=4$DUHovTcG4LxXSgnBOKfUug$hQ9AiOv0UDfoj4pJio9P0oUnqgdB7yV4JBbGlxsVlJc";
        assert_eq!(recognize(argon2), Some(Format::Argon2));
    }

    #[test]
    fn other_hash_shapes_are_not_taken_for_passwords() {
        for shaped in [
            "$pbkdf2-sha256$29000$trunc",
            "$2b$12$tooshort",
            "$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaA",
            "5f4dcc3b5aa765d61d8327deb882cf99",
            "pbkdf2:sha256:600000$Gq0QmYxW3xS2$e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b",
            "aGVsbG8gd29ybGQgdGhpcyBpcyBhIGxvbmcgYmFzZTY0IHN0cmluZw==",
        ] {
            assert_eq!(recognize(shaped), None, "{shaped}");
            assert!(looks_like_a_hash(shaped), "{shaped}");
        }
        for plain in ["hunter2", "correct horse battery staple", "Tr0ub4dor&3"] {
            assert!(!looks_like_a_hash(plain), "{plain}");
        }
    }
}
