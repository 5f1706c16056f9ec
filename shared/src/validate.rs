//! Parsed input values. Each newtype can only be built through `parse`, so a value of
//! that type has passed the rules; the browser form and the server call the same code
//! and show the same messages.

use std::collections::BTreeMap;
use std::fmt;

/// Field name -> human-readable message, in a stable order.
pub type FieldErrors = BTreeMap<String, String>;

/// Collects per-field results so that one request reports every bad field at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: FieldErrors,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the error (if any) under `field` and returns the value (if any).
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.entry(field.to_owned()).or_insert(message);
                None
            }
        }
    }

    /// Like [`Validator::check`] for a field that may be absent.
    pub fn check_opt<T>(
        &mut self,
        field: &str,
        value: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        value.and_then(|v| self.check(field, parse(v)))
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_owned())
            .or_insert(message.into());
    }

    /// `Ok(value)` when nothing failed. `build` runs only then, so it may unwrap the
    /// options it was handed by `check`.
    pub fn finish<T>(self, build: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.errors.is_empty() {
            Ok(build())
        } else {
            Err(self.errors)
        }
    }
}

fn required(raw: &str) -> Result<&str, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        Err("is required".to_owned())
    } else {
        Ok(trimmed)
    }
}

fn char_len_between(value: &str, min: usize, max: usize) -> Result<(), String> {
    let len = value.chars().count();
    if len < min || len > max {
        Err(format!("must be {min}-{max} characters"))
    } else {
        Ok(())
    }
}

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

macro_rules! display_debug {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

macro_rules! secret_debug {
    ($name:ident) => {
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(***)", stringify!($name))
            }
        }
    };
}

string_newtype!(
    /// A first or last name: 1-50 characters after trimming.
    PersonName
);
display_debug!(PersonName);

impl PersonName {
    pub const MAX: usize = 50;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = required(raw)?;
        char_len_between(value, 1, Self::MAX)?;
        if value.chars().any(char::is_control) {
            return Err("must not contain control characters".to_owned());
        }
        Ok(Self(value.to_owned()))
    }
}

string_newtype!(
    /// 3-32 characters of `[a-z0-9._-]`. Input is lower-cased first, so `Alice` and
    /// `alice` are the same account.
    Username
);
display_debug!(Username);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 32;
    pub const RULE: &'static str =
        "must be 3-32 characters: lowercase letters, digits, '.', '_' or '-'";

    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = required(raw)?.to_lowercase();
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        let len = value.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) || !value.chars().all(allowed) {
            return Err(Self::RULE.to_owned());
        }
        Ok(Self(value))
    }
}

string_newtype!(
    /// An email address (RFC 5322 addr-spec, at most 254 characters), lower-cased so
    /// that `Ada@Example.com` and `ada@example.com` are one address.
    Email
);
display_debug!(Email);

impl Email {
    pub const MAX: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = required(raw)?;
        let invalid = || "is not a valid email address".to_owned();
        if value.chars().count() > Self::MAX {
            return Err(format!("must be at most {} characters", Self::MAX));
        }
        let options = email_address::Options::default()
            .with_required_tld()
            .without_display_text()
            .without_domain_literal();
        email_address::EmailAddress::parse_with_options(value, options).map_err(|_| invalid())?;
        Ok(Self(value.to_lowercase()))
    }
}

string_newtype!(
    /// 7-15 digits with an optional leading `+`. Spaces, dashes, dots and brackets are
    /// accepted as separators and dropped, so `+1 (555) 010-2030` is `+15550102030`.
    Mobile
);
display_debug!(Mobile);

impl Mobile {
    pub const RULE: &'static str = "must be 7-15 digits, optionally starting with +";

    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = required(raw)?;
        let (plus, rest) = match value.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", value),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(Self::RULE.to_owned()),
            }
        }
        if !(7..=15).contains(&digits.len()) {
            return Err(Self::RULE.to_owned());
        }
        Ok(Self(format!("{plus}{digits}")))
    }
}

string_newtype!(
    /// A security question, shown to the user during password recovery.
    SecurityQuestion
);
display_debug!(SecurityQuestion);

impl SecurityQuestion {
    pub const MAX: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = required(raw)?;
        char_len_between(value, 3, Self::MAX)?;
        Ok(Self(value.to_owned()))
    }
}

string_newtype!(
    /// A security answer in normalised form (trimmed, inner whitespace collapsed,
    /// lower-cased), so "  New   York" and "new york" match. Only its hash is stored.
    SecurityAnswer
);
secret_debug!(SecurityAnswer);

impl SecurityAnswer {
    pub const MAX: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let normalized = Self::normalize(raw);
        if normalized.is_empty() {
            return Err("is required".to_owned());
        }
        char_len_between(&normalized, 1, Self::MAX)?;
        Ok(Self(normalized))
    }

    pub fn normalize(raw: &str) -> String {
        raw.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    }
}

string_newtype!(
    /// A password that met the policy when it was chosen: 12-128 characters, no
    /// composition rules, and not guessable (zxcvbn score >= 3, with the user's own
    /// names and addresses counted as known words).
    Password
);
secret_debug!(Password);

/// How hard a password is to guess, for the strength meter and the policy.
/// `POST /auth/password-strength` answers with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Strength {
    /// 0 (guessable) to 4 (very strong); the policy wants at least [`Password::MIN_SCORE`].
    pub score: u8,
    /// zxcvbn's warning and suggestions, if any, as one sentence.
    pub feedback: Option<String>,
}

impl Strength {
    pub fn acceptable(&self) -> bool {
        self.score >= Password::MIN_SCORE
    }

    /// The field error for a password below the policy.
    pub fn too_weak_message(&self) -> String {
        match &self.feedback {
            Some(feedback) => format!("is too easy to guess: {feedback}"),
            None => "is too easy to guess".to_owned(),
        }
    }
}

impl Password {
    pub const MIN: usize = 12;
    pub const MAX: usize = 128;
    pub const MIN_SCORE: u8 = 3;

    pub fn parse(raw: &str, user_inputs: &[&str]) -> Result<Self, String> {
        let len = raw.chars().count();
        if len == 0 {
            return Err("is required".to_owned());
        }
        if len < Self::MIN {
            return Err(format!("must be at least {} characters", Self::MIN));
        }
        Self::within_max(raw)?;
        #[cfg(feature = "strength")]
        {
            let strength = Self::strength(raw, user_inputs);
            if !strength.acceptable() {
                return Err(strength.too_weak_message());
            }
        }
        #[cfg(not(feature = "strength"))]
        let _ = user_inputs;
        Ok(Self(raw.to_owned()))
    }

    /// The upper bound alone, for a password that is checked rather than chosen
    /// (login, the strength meter): refused before any hashing or estimating.
    pub fn within_max(raw: &str) -> Result<(), String> {
        if raw.chars().count() > Self::MAX {
            return Err(format!("must be at most {} characters", Self::MAX));
        }
        Ok(())
    }

    /// Characters the estimator looks at. Its cost grows faster than linearly (34 ms
    /// for 128 characters, a few for 64), and a password whose first 64 characters are
    /// hard to guess is hard to guess.
    pub const ESTIMATED_PREFIX: usize = 64;

    /// zxcvbn's estimate of the first [`Password::ESTIMATED_PREFIX`] characters.
    #[cfg(feature = "strength")]
    pub fn strength(raw: &str, user_inputs: &[&str]) -> Strength {
        let capped: String = raw.chars().take(Self::ESTIMATED_PREFIX).collect();
        if capped.is_empty() {
            return Strength {
                score: 0,
                feedback: None,
            };
        }
        let inputs: Vec<&str> = user_inputs
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        let entropy = zxcvbn::zxcvbn(&capped, &inputs);
        let feedback = entropy.feedback().map(|f| {
            let mut parts: Vec<String> = Vec::new();
            if let Some(warning) = f.warning() {
                parts.push(warning.to_string());
            }
            parts.extend(f.suggestions().iter().map(ToString::to_string));
            parts.join(" ")
        });
        Strength {
            score: u8::from(entropy.score()),
            feedback: feedback.filter(|s| !s.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(PersonName::parse("  Ada ").unwrap().as_str(), "Ada");
        assert_eq!(PersonName::parse("   ").unwrap_err(), "is required");
        assert!(PersonName::parse(&"x".repeat(51)).is_err());
        assert!(PersonName::parse(&"é".repeat(50)).is_ok());
        assert!(PersonName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn usernames() {
        for (input, ok, why) in [
            ("Alice", true, "upper case folds to lower"),
            ("a.b_c-9", true, "all allowed punctuation"),
            ("ab", false, "too short"),
            (&"a".repeat(33), false, "too long"),
            ("al ice", false, "space"),
            ("alïce", false, "non-ascii"),
        ] {
            assert_eq!(Username::parse(input).is_ok(), ok, "{why}: {input}");
        }
        assert_eq!(Username::parse("Alice").unwrap().as_str(), "alice");
    }

    #[test]
    fn emails() {
        for (input, ok, why) in [
            ("ada@example.com", true, "plain"),
            ("Ada.Lovelace+x@Example.org", true, "plus and case"),
            ("ada@localhost", false, "no dot in domain"),
            ("not-an-email", false, "no @"),
            ("Ada <ada@example.com>", false, "display name"),
            ("ada@@example.com", false, "double @"),
        ] {
            assert_eq!(Email::parse(input).is_ok(), ok, "{why}: {input}");
        }
    }

    #[test]
    fn mobiles() {
        assert_eq!(
            Mobile::parse("+1 (555) 010-2030").unwrap().as_str(),
            "+15550102030"
        );
        assert_eq!(Mobile::parse("5550102").unwrap().as_str(), "5550102");
        for bad in [
            "123456",
            "1234567890123456",
            "++1234567",
            "12a4567",
            "1+234567",
        ] {
            assert!(Mobile::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(
            Password::parse("short", &[])
                .unwrap_err()
                .contains("at least 12")
        );
        assert!(
            Password::parse(&"x".repeat(129), &[])
                .unwrap_err()
                .contains("at most 128")
        );
        assert!(Password::parse("correct horse battery staple", &[]).is_ok());
        assert_eq!(
            format!(
                "{:?}",
                Password::parse("correct horse battery staple", &[]).unwrap()
            ),
            "Password(***)"
        );
    }

    #[cfg(feature = "strength")]
    #[test]
    fn guessable_passwords_are_refused() {
        let err = Password::parse("password1234", &[]).unwrap_err();
        assert!(err.starts_with("is too easy to guess"), "{err}");
        assert!(
            Password::parse("adalovelace1815", &["adalovelace"]).is_err(),
            "user inputs count as known words"
        );
        let strength = Password::strength("correct horse battery staple", &[]);
        assert!(strength.acceptable(), "{strength:?}");
    }

    #[test]
    fn security_answers_are_normalised() {
        let a = SecurityAnswer::parse("  New   York ").unwrap();
        assert_eq!(a.as_str(), "new york");
        assert_eq!(format!("{a:?}"), "SecurityAnswer(***)");
        assert!(SecurityAnswer::parse("   ").is_err());
    }
}
