//! Password recovery: a 6-digit code by email, then the security question, then a new
//! password. State lives in `password_recoveries`, one row per account, and every step
//! is a conditional statement (`store`): concurrent requests cannot skip a step, use
//! a code or token twice, or spend more than an attempt budget.

pub mod store;

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use secrecy::SecretString;
use shared::Identifier;
use shared::validate::{Password, SecurityAnswer};

use crate::accounts::{self, AccountError, Update};
use crate::auth::codes::{Codes, Purpose, new_token, token_hash};
use crate::auth::password::{HashError, Passwords};
use crate::clock::now;
use crate::db::entity::user;
use crate::mail::notices::Notices;

pub use self::store::{ATTEMPTS, MAILS_PER_HOUR};

/// Why a recovery step was refused.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    /// A wrong, expired, used or unknown code or token: one answer for all.
    #[error("the code or link is invalid or has expired")]
    Invalid,
    #[error("the security answer is incorrect")]
    WrongAnswer,
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Hashing(#[from] HashError),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// Everything the recovery flow needs besides the database.
#[derive(Clone)]
pub struct Recovery {
    codes: Codes,
    /// Lifetime of a code and of each step's token.
    ttl: Duration,
}

impl Recovery {
    pub fn new(codes: Codes, ttl: Duration) -> Self {
        Self { codes, ttl }
    }

    fn code_hash(&self, user_id: i32, code: &str) -> String {
        self.codes
            .hash(Purpose::PasswordRecovery, &user_id.to_string(), code)
    }

    fn expiry(&self) -> DateTime<Utc> {
        now() + chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::minutes(10))
    }

    /// Step 1, run off the request path. Mails a fresh code if an account with a
    /// verified address matches and its hourly mail budget allows; earlier codes stay
    /// valid (a stranger's request cancels nothing). The code is bound to
    /// `request_id`, which only the requester got back. Returns the account, if one
    /// matched, and whether a code was mailed.
    pub async fn request_code(
        &self,
        db: &DatabaseConnection,
        notices: &Notices,
        identifier: &Identifier,
        request_id: &str,
    ) -> Result<Option<(user::Model, bool)>, RecoveryError> {
        let Some(user) = store::find_account(db, identifier).await? else {
            tracing::info!("password recovery requested for no account");
            return Ok(None);
        };
        let code = Codes::new_code();
        let issued = store::issue_code(
            db,
            user.id,
            token_hash(request_id),
            self.code_hash(user.id, &code),
            self.expiry(),
        )
        .await?;
        if !issued {
            tracing::info!(
                user_id = user.id,
                "recovery mail limit reached; no code sent"
            );
            return Ok(Some((user, false)));
        }
        let mailed = notices.recovery_code(db, &user, &code).await;
        tracing::info!(user_id = user.id, "recovery code issued");
        Ok(Some((user, mailed)))
    }

    /// Step 2: a right code for this account, unexpired, within its attempt budget
    /// (that of `request_id`'s code when given). Returns the token for step 3 and the
    /// account (whose security question comes next).
    pub async fn verify_code(
        &self,
        db: &DatabaseConnection,
        identifier: &Identifier,
        code: &str,
        request_id: Option<&str>,
    ) -> Result<(String, user::Model), RecoveryError> {
        let user = store::find_account(db, identifier)
            .await?
            .ok_or(RecoveryError::Invalid)?;
        let token = new_token();
        let request = request_id.map(token_hash);
        let passed = store::pass_code(
            db,
            user.id,
            &self.code_hash(user.id, code),
            request.as_deref(),
            (&token_hash(&token), self.expiry()),
        )
        .await?;
        if !passed {
            return Err(RecoveryError::Invalid);
        }
        tracing::info!(user_id = user.id, "recovery code verified");
        Ok((token, user))
    }

    /// Step 3: the security answer for the flow behind `flow_token`. Wrong answers
    /// spend the flow's own budget. Returns the token for step 4.
    pub async fn check_answer(
        &self,
        db: &DatabaseConnection,
        passwords: &Passwords,
        flow_token: &str,
        answer: SecurityAnswer,
    ) -> Result<String, RecoveryError> {
        let hash = token_hash(flow_token);
        if !store::spend_answer_attempt(db, &hash).await? {
            return Err(RecoveryError::Invalid);
        }
        let (_, user) = store::find_flow(db, &hash)
            .await?
            .ok_or(RecoveryError::Invalid)?;
        let matches = passwords
            .verify(
                SecretString::from(answer.into_inner()),
                user.security_answer_hash,
            )
            .await?;
        if !matches {
            return Err(RecoveryError::WrongAnswer);
        }
        let token = new_token();
        if !store::pass_answer(db, &hash, &token_hash(&token), self.expiry()).await? {
            return Err(RecoveryError::Invalid);
        }
        tracing::info!(user_id = user.id, "recovery answer verified");
        Ok(token)
    }

    /// The account a live reset token belongs to, for checking the new password
    /// against the account's names before the token is spent.
    pub async fn reset_account(
        &self,
        db: &DatabaseConnection,
        reset_token: &str,
    ) -> Result<user::Model, RecoveryError> {
        let (flow, user) = store::find_flow(db, &token_hash(reset_token))
            .await?
            .ok_or(RecoveryError::Invalid)?;
        if !store::is_live_reset(&flow) {
            return Err(RecoveryError::Invalid);
        }
        Ok(user)
    }

    /// Step 4: sets the password and spends the reset token, in one transaction (a
    /// failed update leaves the token usable), ends every session and mails a
    /// notice.
    pub async fn reset_password(
        &self,
        db: &DatabaseConnection,
        passwords: &Passwords,
        notices: &Notices,
        reset_token: &str,
        user: user::Model,
        password: Password,
    ) -> Result<user::Model, RecoveryError> {
        let password_hash = passwords
            .hash(SecretString::from(password.into_inner()))
            .await?;
        let update = Update {
            password_hash: Some(password_hash),
            recovery_reset: Some(token_hash(reset_token)),
            ..Default::default()
        };
        let user = match accounts::update(db, user.id, update).await {
            Ok(updated) => updated.user,
            Err(AccountError::WrongCode) => return Err(RecoveryError::Invalid),
            Err(other) => return Err(other.into()),
        };
        tracing::info!(
            user_id = user.id,
            "password reset through recovery; sessions ended"
        );
        notices.password_changed(db, &user).await;
        Ok(user)
    }
}
