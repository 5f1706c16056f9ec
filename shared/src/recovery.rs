//! Password recovery: email or mobile -> emailed 6-digit code -> security question ->
//! new password. Each step hands the client a short-lived, single-use token for the next.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validate::{Email, FieldErrors, Mobile, Password, SecurityAnswer, Validator};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// How the account is identified. Delivery is always by email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RecoveryMethod {
    #[default]
    Email,
    Mobile,
}

/// An account identifier that passed the rules of its method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    Email(Email),
    Mobile(Mobile),
}

fn identifier(v: &mut Validator, method: RecoveryMethod, raw: &str) -> Option<Identifier> {
    match method {
        RecoveryMethod::Email => v
            .check("identifier", Email::parse(raw))
            .map(Identifier::Email),
        RecoveryMethod::Mobile => v
            .check("identifier", Mobile::parse(raw))
            .map(Identifier::Mobile),
    }
}

/// `POST /password/forgot`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct ForgotPasswordRequest {
    /// How the code is sent; `email` when left out.
    pub method: RecoveryMethod,
    /// The account's email address or mobile number, per `method`.
    #[cfg_attr(feature = "openapi", schema(example = "ada@example.com"))]
    pub identifier: String,
}

impl ForgotPasswordRequest {
    pub fn validate(&self) -> Result<Identifier, FieldErrors> {
        let mut v = Validator::new();
        let id = identifier(&mut v, self.method, &self.identifier);
        v.finish(|| id.unwrap())
    }
}

/// The answer to every `POST /password/forgot`, whether or not an account matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ForgotPasswordResponse {
    pub message: String,
    /// Send with the code to `verify-otp`: your request's code then has its own
    /// attempt budget, which nobody else's guesses can spend. Present whether or not
    /// an account matched.
    pub request_id: String,
}

/// Number of digits in a recovery code.
pub const OTP_DIGITS: usize = 6;

/// `POST /password/verify-otp`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct VerifyOtpRequest {
    /// The method the code was asked for with; `email` when left out.
    pub method: RecoveryMethod,
    #[cfg_attr(feature = "openapi", schema(example = "ada@example.com"))]
    pub identifier: String,
    /// The 6-digit code from the email.
    #[cfg_attr(feature = "openapi", schema(example = "042917"))]
    pub otp: String,
    /// The `request_id` `forgot` answered with (recommended; without it, wrong codes
    /// spend a budget shared by everyone who tries this account).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl fmt::Debug for VerifyOtpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyOtpRequest")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl VerifyOtpRequest {
    pub fn validate(&self) -> Result<(Identifier, String), FieldErrors> {
        let mut v = Validator::new();
        let id = identifier(&mut v, self.method, &self.identifier);
        let otp = self.otp.trim();
        if otp.len() != OTP_DIGITS || !otp.bytes().all(|b| b.is_ascii_digit()) {
            v.fail("otp", "must be the 6 digits from the email");
        }
        v.finish(|| (id.unwrap(), otp.to_owned()))
    }
}

/// Proof that the mailbox was reached: the security question and a token to answer it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VerifyOtpResponse {
    pub flow_token: String,
    pub security_question: String,
}

impl fmt::Debug for VerifyOtpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyOtpResponse")
            .field("security_question", &self.security_question)
            .finish_non_exhaustive()
    }
}

/// `POST /password/answer`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct AnswerRequest {
    pub flow_token: String,
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub security_answer: String,
}

impl fmt::Debug for AnswerRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AnswerRequest { .. }")
    }
}

impl AnswerRequest {
    pub fn validate(&self) -> Result<SecurityAnswer, FieldErrors> {
        let mut v = Validator::new();
        if self.flow_token.trim().is_empty() {
            v.fail("flow_token", "is required");
        }
        let answer = v.check(
            "security_answer",
            SecurityAnswer::parse(&self.security_answer),
        );
        v.finish(|| answer.unwrap())
    }
}

/// The token that allows setting a new password.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AnswerResponse {
    pub reset_token: String,
}

impl fmt::Debug for AnswerResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AnswerResponse { .. }")
    }
}

/// `POST /password/reset`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct ResetPasswordRequest {
    pub reset_token: String,
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub new_password: String,
}

impl fmt::Debug for ResetPasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResetPasswordRequest { .. }")
    }
}

impl ResetPasswordRequest {
    /// `user_inputs`: the account's names and addresses, for the strength check.
    pub fn validate(&self, user_inputs: &[&str]) -> Result<Password, FieldErrors> {
        let mut v = Validator::new();
        let password = v.check(
            "new_password",
            Password::parse(&self.new_password, user_inputs),
        );
        v.finish(|| password.unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_follow_their_method() {
        let by_mobile = ForgotPasswordRequest {
            method: RecoveryMethod::Mobile,
            identifier: "+1 555 010 2030".into(),
        };
        assert_eq!(
            by_mobile.validate().unwrap(),
            Identifier::Mobile(Mobile::parse("+15550102030").unwrap())
        );
        let wrong = ForgotPasswordRequest {
            method: RecoveryMethod::Email,
            identifier: "+15550102030".into(),
        };
        assert!(wrong.validate().unwrap_err().contains_key("identifier"));
    }

    #[test]
    fn otp_is_six_digits_and_kept_with_leading_zeros() {
        let ok = VerifyOtpRequest {
            method: RecoveryMethod::Email,
            identifier: "ada@example.com".into(),
            otp: " 004217 ".into(),
            request_id: None,
        };
        assert_eq!(ok.validate().unwrap().1, "004217");
        for bad in ["12345", "1234567", "12a456", ""] {
            let req = VerifyOtpRequest {
                otp: bad.into(),
                ..ok.clone()
            };
            assert!(req.validate().unwrap_err().contains_key("otp"), "{bad}");
        }
        assert!(!format!("{ok:?}").contains("004217"));
    }
}
