//! Who may join, and proving an address: the sign-up policy, invitations and email
//! verification codes.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::common::string_enum;
use crate::validate::{Email, FieldErrors, Validator};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Number of digits in an email verification or invitation code.
pub const CODE_DIGITS: usize = 6;

string_enum!(
    /// Who may sign up (`SIGNUP_MODE`).
    #[derive(Default)]
    SignupMode {
        /// Anyone.
        #[default]
        Open => "open",
        /// Only with a code an admin's invitation mailed.
        Invite => "invite",
        /// Nobody: admins create the accounts.
        Closed => "closed",
    }
);

/// `GET /auth/signup-options`: what the sign-up form must ask for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SignupOptions {
    pub mode: SignupMode,
    /// When not empty, only addresses at these domains may sign up.
    pub email_domains: Vec<String>,
    /// The instance has no admin yet and is reachable from the network: the first
    /// sign-up needs the setup token printed at start-up.
    pub setup_token_required: bool,
    /// The instance has no admin yet and runs on this machine: the next sign-up
    /// becomes the admin, whatever the mode says.
    pub first_account_open: bool,
}

/// Checks that `raw` is a 6-digit code (leading zeros kept).
pub fn parse_code(v: &mut Validator, field: &str, raw: &str) -> Option<String> {
    let code = raw.trim();
    if code.len() != CODE_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        v.fail(field, "must be the 6 digits from the email");
        return None;
    }
    Some(code.to_owned())
}

/// `POST /auth/email/verify`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct VerifyEmailRequest {
    /// The 6-digit code from the verification mail.
    #[cfg_attr(feature = "openapi", schema(example = "042917"))]
    pub code: String,
}

impl fmt::Debug for VerifyEmailRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifyEmailRequest { .. }")
    }
}

impl VerifyEmailRequest {
    pub fn validate(&self) -> Result<String, FieldErrors> {
        let mut v = Validator::new();
        let code = parse_code(&mut v, "code", &self.code);
        v.finish(|| code.unwrap())
    }
}

/// `POST /invitations` (admins): invite an address to sign up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct CreateInvitationRequest {
    #[cfg_attr(feature = "openapi", schema(example = "grace@example.com"))]
    pub email: String,
}

impl CreateInvitationRequest {
    pub fn validate(&self) -> Result<Email, FieldErrors> {
        let mut v = Validator::new();
        let email = v.check("email", Email::parse(&self.email));
        v.finish(|| email.unwrap())
    }
}

/// An invitation that has not been used yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Invitation {
    pub id: i32,
    pub email: String,
    /// The admin who sent it.
    pub invited_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        let ok = VerifyEmailRequest {
            code: " 004217 ".into(),
        };
        assert_eq!(ok.validate().unwrap(), "004217");
        for bad in ["12345", "1234567", "12a456", ""] {
            let req = VerifyEmailRequest { code: bad.into() };
            assert!(req.validate().unwrap_err().contains_key("code"), "{bad}");
        }
        assert!(!format!("{ok:?}").contains("004217"));
    }
}
