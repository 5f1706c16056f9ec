//! Who is calling: password hashing, the per-account lockout, signed tokens,
//! server-side sessions, and the login that ties them together ([`Auth`]).

pub mod api_keys;
pub mod codes;
pub mod devices;
pub mod formats;
pub mod lockout;
mod login;
pub mod mfa;
pub mod passkeys;
pub mod password;
pub mod sealing;
pub mod session;
pub mod token;

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr};
use shared::FieldErrors;

use self::codes::Codes;
use self::lockout::LockoutPolicy;
pub use self::login::{Checked, FailureFloor, LoggedIn, LoginKey, LoginOutcome, Verdict};
use self::mfa::{Mfa, MfaError};
use self::passkeys::{PasskeyError, Passkeys};
use self::password::{HashError, Passwords};
use self::session::Lifetimes;
use self::token::Tokens;
use crate::accounts::AccountError;
use crate::rate::Buckets;

/// Why authentication (or re-authentication) did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid input: {0:?}")]
    Invalid(FieldErrors),
    /// A failed login. One variant for unknown user, wrong password, locked or
    /// disabled account, so they cannot be told apart.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Re-authentication with a wrong password (it counts toward the lockout).
    #[error("the current password is incorrect")]
    WrongCurrentPassword,
    /// Re-authentication while the account is locked: the password was not checked.
    #[error("too many wrong passwords; the current password cannot be checked now")]
    CurrentPasswordLocked,
    /// The login budget of this account or device is spent: retry after that many
    /// seconds.
    #[error("too many logins; retry in {0} s")]
    TooManyLogins(u64),
    #[error(transparent)]
    Mfa(#[from] MfaError),
    #[error(transparent)]
    Passkey(#[from] PasskeyError),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Hashing(#[from] HashError),
    #[error(transparent)]
    Database(#[from] DbErr),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Everything that checks who someone is and opens sessions.
#[derive(Clone)]
pub struct Auth {
    pub db: DatabaseConnection,
    pub passwords: Passwords,
    pub lockout: LockoutPolicy,
    pub tokens: Tokens,
    pub lifetimes: Lifetimes,
    /// Keys the marks of unknown login names in the audit trail.
    pub codes: Codes,
    pub failure_floor: FailureFloor,
    /// Successful logins per known device, per account's unknown clients, and per
    /// unknown name: only a success spends one (see `login::check_credentials`).
    pub logins: Arc<Buckets<LoginKey>>,
    /// Second factors, and who must have one.
    pub mfa: Mfa,
    /// Passkeys: a sign-in of their own, or the second factor.
    pub passkeys: Passkeys,
}
