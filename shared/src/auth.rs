//! Logging in and proving who you are: credentials, API tokens, password changes and
//! the strength meter.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::User;
use crate::validate::{FieldErrors, Password, Validator};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Credentials for `POST /auth/login` and `POST /auth/token`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct LoginRequest {
    #[cfg_attr(feature = "openapi", schema(example = "ada"))]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(example = "analytical engine 1843", format = Password))]
    pub password: String,
    /// The device token an earlier login returned (browsers keep it as a cookie): a
    /// known device keeps its own failure budget, so a stranger's guesses cannot lock
    /// it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub device_token: Option<String>,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl LoginRequest {
    /// Only shape is checked here; a wrong username is a failed login, not a 400.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut v = Validator::new();
        if self.username.trim().is_empty() {
            v.fail("username", "is required");
        }
        if self.password.is_empty() {
            v.fail("password", "is required");
        } else {
            // Refused before any hashing: a long input cannot buy server time.
            v.check("password", Password::within_max(&self.password));
        }
        v.finish(|| ())
    }
}

/// `POST /auth/password-strength`: the password being chosen and the words the
/// estimator should treat as known (the account's names and addresses).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct PasswordStrengthRequest {
    #[cfg_attr(feature = "openapi", schema(example = "correct horse battery staple", format = Password))]
    pub password: String,
    #[cfg_attr(feature = "openapi", schema(example = json!(["Ada", "Lovelace", "ada"])))]
    pub user_inputs: Vec<String>,
}

impl fmt::Debug for PasswordStrengthRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordStrengthRequest")
            .finish_non_exhaustive()
    }
}

impl PasswordStrengthRequest {
    /// At most this many known words, each at most [`Password::MAX`] characters.
    pub const MAX_USER_INPUTS: usize = 8;

    /// Bounds the estimator's work before it runs.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut v = Validator::new();
        v.check("password", Password::within_max(&self.password));
        if self.user_inputs.len() > Self::MAX_USER_INPUTS
            || self
                .user_inputs
                .iter()
                .any(|word| word.chars().count() > Password::MAX)
        {
            v.fail(
                "user_inputs",
                format!(
                    "must be at most {} words of at most {} characters",
                    Self::MAX_USER_INPUTS,
                    Password::MAX
                ),
            );
        }
        v.finish(|| ())
    }
}

/// Whether the request carries a live session (`GET /auth/session`): the browser app
/// asks this at start, and a signed-out visitor is an answer, not an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionState {
    /// The logged-in account; `null` when signed out (no session, or it ended).
    pub user: Option<User>,
    /// The account must set up a second factor (`MFA_REQUIRED`): until it does, its
    /// session reaches only the enrolment endpoints and logout.
    #[serde(default)]
    pub mfa_enrolment_required: bool,
}

/// A bearer token for non-browser clients.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    #[cfg_attr(feature = "openapi", schema(example = "Bearer"))]
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    /// Send this back as `device_token` on later logins (see [`LoginRequest`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"***")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// `POST /auth/password`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct ChangePasswordRequest {
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub current_password: String,
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub new_password: String,
}

impl fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChangePasswordRequest { .. }")
    }
}

impl ChangePasswordRequest {
    pub fn validate(&self, me: &User) -> Result<Password, FieldErrors> {
        let mut v = Validator::new();
        if self.current_password.is_empty() {
            v.fail("current_password", "is required");
        } else if self.current_password.chars().count() > Password::MAX {
            v.fail("current_password", "is incorrect");
        }
        let new_password = v.check(
            "new_password",
            Password::parse(
                &self.new_password,
                &[
                    &me.username,
                    me.email.as_deref().unwrap_or_default(),
                    &me.first_name,
                    &me.last_name,
                ],
            ),
        );
        if new_password.is_some() && self.new_password == self.current_password {
            v.fail("new_password", "must differ from the current password");
        }
        v.finish(|| new_password.unwrap())
    }
}

/// An account's lockout, as admins see it (`GET /users/{id}/lockout`): the lock for
/// unknown clients, and each known device's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LockoutState {
    /// Failures from unknown clients since the last success from one.
    pub failed_logins: i32,
    /// Unknown clients are refused until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// The devices that logged in, newest first.
    pub devices: Vec<DeviceState>,
}

/// One known device of an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeviceState {
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
}
