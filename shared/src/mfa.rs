//! Two-factor login: an authenticator app (TOTP, RFC 6238), single-use recovery
//! codes, and the second login step (`/auth/mfa/...`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::common::string_enum;
use crate::validate::{FieldErrors, Validator};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Digits of an authenticator-app code.
pub const TOTP_DIGITS: usize = 6;
/// Recovery codes in a set.
pub const RECOVERY_CODES: usize = 10;

/// An account's second factors, on the user object its owner and admins see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MfaSummary {
    /// An authenticator app is set up and confirmed.
    pub totp: bool,
    /// Passkeys registered.
    pub passkeys: u32,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u32,
}

impl MfaSummary {
    /// Whether login asks for a second factor.
    pub fn enabled(&self) -> bool {
        self.totp || self.passkeys > 0
    }
}

string_enum!(
    /// A way to give the second factor at `POST /auth/mfa/verify`.
    MfaMethod {
        /// A code from the authenticator app.
        Totp => "totp",
        /// One of the single-use recovery codes.
        RecoveryCode => "recovery_code",
        /// A passkey.
        Webauthn => "webauthn",
    }
);

string_enum!(
    /// Who must have a second factor (`MFA_REQUIRED`). Until they have one, their
    /// login opens a session that reaches only the enrolment endpoints and logout.
    #[derive(Default)]
    MfaRequired {
        /// Nobody: a second factor is each user's choice.
        #[default]
        Off => "off",
        /// Admins.
        Admins => "admins",
        /// Every account.
        Everyone => "everyone",
    }
);

/// The answer of `POST /auth/login` and `POST /auth/token` (202) when the password
/// was right and the account has a second factor: no session yet.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MfaChallenge {
    /// Always `true`.
    pub mfa_required: bool,
    /// Send it to `POST /auth/mfa/verify` with the second factor: single-use, for 5
    /// minutes and 5 attempts.
    pub mfa_token: String,
    /// The factors this account can give.
    pub methods: Vec<MfaMethod>,
    /// For an account with passkeys: what `navigator.credentials.get()` is given to
    /// sign this step with one (the assertion goes to `mfa/verify` as `webauthn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webauthn: Option<crate::PasskeyOptions>,
}

impl fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MfaChallenge")
            .field("methods", &self.methods)
            .finish_non_exhaustive()
    }
}

/// What `POST /auth/mfa/verify` answers: what the login it completes would have
/// (the account for `POST /auth/login`, a bearer token for `POST /auth/token`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(untagged)]
pub enum CompletedLogin {
    Token(crate::TokenResponse),
    User(Box<crate::User>),
}

/// `POST /auth/mfa/verify`: the token from the login and one second factor.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct MfaVerifyRequest {
    pub mfa_token: String,
    /// The 6 digits the authenticator app shows.
    #[cfg_attr(feature = "openapi", schema(example = "492039"))]
    pub code: Option<String>,
    /// One of the recovery codes, instead of `code`.
    pub recovery_code: Option<String>,
    /// A passkey's assertion (from `navigator.credentials.get`), instead of `code`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub webauthn: Option<serde_json::Value>,
}

impl fmt::Debug for MfaVerifyRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MfaVerifyRequest { .. }")
    }
}

/// A second factor as given, checked for shape only.
#[derive(Clone, PartialEq)]
pub enum SecondFactor {
    Totp(String),
    RecoveryCode(String),
    Webauthn(serde_json::Value),
}

impl MfaVerifyRequest {
    pub fn validate(&self) -> Result<SecondFactor, FieldErrors> {
        let mut v = Validator::new();
        if self.mfa_token.trim().is_empty() {
            v.fail("mfa_token", "is required");
        }
        let given = [
            self.code.is_some(),
            self.recovery_code.is_some(),
            self.webauthn.is_some(),
        ];
        let factor = match (&self.code, &self.recovery_code, &self.webauthn) {
            _ if given.iter().filter(|g| **g).count() > 1 => {
                v.fail("code", "send one of code, recovery_code and webauthn");
                None
            }
            (Some(code), _, _) => parse_totp(&mut v, "code", code).map(SecondFactor::Totp),
            (_, Some(code), _) => {
                parse_recovery_code(&mut v, "recovery_code", code).map(SecondFactor::RecoveryCode)
            }
            (_, _, Some(assertion)) => Some(SecondFactor::Webauthn(assertion.clone())),
            _ => {
                v.fail("code", "is required (or recovery_code, or webauthn)");
                None
            }
        };
        v.finish(|| factor.unwrap())
    }
}

/// `raw` as an app code: 6 digits, spaces allowed (apps show `492 039`).
fn totp_digits(raw: &str) -> Option<String> {
    let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == TOTP_DIGITS && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// Checks that `raw` is an app code.
pub fn parse_totp(v: &mut Validator, field: &str, raw: &str) -> Option<String> {
    let code = totp_digits(raw);
    if code.is_none() {
        v.fail(field, "must be the 6 digits your authenticator app shows");
    }
    code
}

/// Normalises a recovery code as typed: case, spaces and dashes do not matter.
pub fn parse_recovery_code(v: &mut Validator, field: &str, raw: &str) -> Option<String> {
    let code: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if code.is_empty() || code.len() > 32 {
        v.fail(field, "is not a recovery code");
        return None;
    }
    Some(code)
}

/// `POST /auth/mfa/totp/setup` and `POST /auth/mfa/recovery-codes`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct ReauthRequest {
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub current_password: String,
}

impl fmt::Debug for ReauthRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReauthRequest { .. }")
    }
}

impl ReauthRequest {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut v = Validator::new();
        require_password(&mut v, &self.current_password);
        v.finish(|| ())
    }
}

fn require_password(v: &mut Validator, password: &str) {
    if password.is_empty() {
        v.fail("current_password", "is required");
    }
}

/// `POST /auth/mfa/totp/setup`: a new secret, not active until confirmed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TotpSetup {
    /// The secret in base32, for typing into the app by hand.
    pub secret: String,
    /// `otpauth://totp/...`: what the QR code holds.
    pub otpauth_uri: String,
    /// The QR code of `otpauth_uri`, an inline SVG document.
    pub qr_svg: String,
}

impl fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSetup { .. }")
    }
}

/// `POST /auth/mfa/totp/confirm`: the first code from the app.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct TotpConfirmRequest {
    #[cfg_attr(feature = "openapi", schema(example = "492039"))]
    pub code: String,
}

impl fmt::Debug for TotpConfirmRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpConfirmRequest { .. }")
    }
}

impl TotpConfirmRequest {
    pub fn validate(&self) -> Result<String, FieldErrors> {
        let mut v = Validator::new();
        let code = parse_totp(&mut v, "code", &self.code);
        v.finish(|| code.unwrap())
    }
}

/// `DELETE /auth/mfa/totp`: the password and a current code (or a recovery code).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct TotpDisableRequest {
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub current_password: String,
    /// A code from the app, or one of the recovery codes.
    pub code: String,
}

impl fmt::Debug for TotpDisableRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpDisableRequest { .. }")
    }
}

impl TotpDisableRequest {
    pub fn validate(&self) -> Result<SecondFactor, FieldErrors> {
        let mut v = Validator::new();
        require_password(&mut v, &self.current_password);
        let factor = if let Some(digits) = totp_digits(&self.code) {
            Some(SecondFactor::Totp(digits))
        } else if self.code.trim().is_empty() {
            v.fail("code", "is required");
            None
        } else {
            parse_recovery_code(&mut v, "code", &self.code).map(SecondFactor::RecoveryCode)
        };
        v.finish(|| factor.unwrap())
    }
}

/// A new set of recovery codes: shown once, each usable once.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecoveryCodes {
    #[cfg_attr(feature = "openapi", schema(example = json!(["7hk2-m9qp-x4tw"])))]
    pub recovery_codes: Vec<String>,
}

impl fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCodes { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_factor_is_required_and_its_shape_checked() {
        let request = |code: Option<&str>, recovery: Option<&str>| MfaVerifyRequest {
            mfa_token: "t".into(),
            code: code.map(str::to_owned),
            recovery_code: recovery.map(str::to_owned),
            webauthn: None,
        };
        assert!(matches!(
            request(Some("492 039"), None).validate(),
            Ok(SecondFactor::Totp(c)) if c == "492039"
        ));
        assert!(matches!(
            request(None, Some("7HK2-M9QP")).validate(),
            Ok(SecondFactor::RecoveryCode(c)) if c == "7hk2m9qp"
        ));
        for bad in [
            request(None, None),
            request(Some("12345"), None),
            request(Some("12a456"), None),
            request(Some("123456"), Some("abcd")),
        ] {
            assert!(bad.validate().is_err());
        }
    }

    #[test]
    fn disabling_takes_either_kind_of_code() {
        let request = |code: &str| TotpDisableRequest {
            current_password: "pw".into(),
            code: code.into(),
        };
        assert!(matches!(
            request("123456").validate(),
            Ok(SecondFactor::Totp(_))
        ));
        assert!(matches!(
            request("ab12-cd34").validate(),
            Ok(SecondFactor::RecoveryCode(_))
        ));
        assert!(request("").validate().is_err());
    }
}
