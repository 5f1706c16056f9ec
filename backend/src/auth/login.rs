//! The login flow, and the password check it shares with every re-authentication.

use secrecy::SecretString;
use serde_json::json;
use shared::validate::Password;
use shared::{AuditAction, LoginRequest, SessionKind};

use super::session::{self, Session};
use super::{Auth, AuthError, lockout, password};
use crate::accounts::{self, Update};
use crate::audit::{self, ClientInfo};
use crate::db::entity::user;

/// An id no account has (ids start at 1).
const NO_ACCOUNT: i32 = 0;

/// What a password check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Matches,
    Wrong,
    /// The account is unknown, disabled or locked: the password was not compared
    /// (the same hashing work was done, so the answer takes as long).
    Refused,
}

/// Why a login failed, for the audit trail only: the client always gets the same
/// [`AuthError::InvalidCredentials`] after the same amount of hashing work.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    UnknownUser,
    WrongPassword,
    Locked,
    Disabled,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Refusal::UnknownUser => "unknown_user",
            Refusal::WrongPassword => "wrong_password",
            Refusal::Locked => "locked",
            Refusal::Disabled => "disabled",
        }
    }
}

impl Auth {
    /// Checks `password` against `account`'s under the per-account lockout: a failure
    /// is reserved (atomically, on every instance) before the hash is compared, and
    /// given back if the check fails on our side. The same statements run whatever
    /// the account (for an unknown one they match no row), so timing tells nothing.
    pub async fn verify_password(
        &self,
        account: Option<&user::Model>,
        password: &SecretString,
    ) -> Result<Verdict, AuthError> {
        let id = account.map_or(NO_ACCOUNT, |u| u.id);
        let reserved = lockout::reserve(&self.db, &self.lockout, id).await?;
        let Some(stored) = account
            .filter(|_| reserved)
            .map(|u| u.password_hash.clone())
        else {
            self.passwords.verify(password.clone(), None).await?;
            return Ok(Verdict::Refused);
        };
        match self.passwords.verify(password.clone(), Some(stored)).await {
            Ok(true) => Ok(Verdict::Matches),
            Ok(false) => Ok(Verdict::Wrong),
            Err(fault) => {
                lockout::refund(&self.db, &self.lockout, id).await?;
                Err(fault.into())
            }
        }
    }

    /// Re-authentication of a logged-in user: a wrong password counts like a failed
    /// login (a stolen session cannot be used to guess it), a right one clears the
    /// count.
    pub async fn verify_current_password(
        &self,
        user: &user::Model,
        password: &str,
    ) -> Result<(), AuthError> {
        let secret = SecretString::from(password.to_owned());
        match self.verify_password(Some(user), &secret).await? {
            Verdict::Matches => Ok(lockout::clear(&self.db, user.id).await?),
            Verdict::Wrong => Err(AuthError::WrongCurrentPassword),
            Verdict::Refused => Err(AuthError::CurrentPasswordLocked),
        }
    }

    /// Checks a username (or email) and password. A match clears the failure count
    /// and records the login time; a legacy hash is then replaced by argon2id.
    pub async fn check_credentials(
        &self,
        credentials: &LoginRequest,
        client: &ClientInfo,
    ) -> Result<user::Model, AuthError> {
        credentials.validate().map_err(AuthError::Invalid)?;
        let password = SecretString::from(credentials.password.clone());
        let account = accounts::find_by_login(&self.db, &credentials.username).await?;
        let verdict = self.verify_password(account.as_ref(), &password).await?;
        match (account, verdict) {
            (Some(user), Verdict::Matches) => self.accept(user, &password).await,
            (account, verdict) => {
                self.refuse(account, verdict, &credentials.username, client)
                    .await?;
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    /// Audits a failed login, and the lockout it may have started.
    async fn refuse(
        &self,
        account: Option<user::Model>,
        verdict: Verdict,
        login_name: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let id = account.as_ref().map_or(NO_ACCOUNT, |u| u.id);
        // Read whatever the outcome: a wrong password needs it, and the other
        // refusals then cost the same.
        let locked = lockout::locked_until(&self.db, id).await?;
        let reason = match (&account, verdict) {
            (None, _) => Refusal::UnknownUser,
            (Some(user), _) if user.disabled_at.is_some() => Refusal::Disabled,
            (Some(_), Verdict::Refused) => Refusal::Locked,
            (Some(_), _) => Refusal::WrongPassword,
        };
        let event =
            audit::Event::failure(AuditAction::Login).detail(json!({ "reason": reason.as_str() }));
        let Some(user) = account else {
            event
                .claimed_actor(login_name)
                .record(&self.db, client)
                .await;
            return Ok(());
        };
        event.by(&user).record(&self.db, client).await;
        if let (Refusal::WrongPassword, Some((failures, until))) = (reason, locked) {
            tracing::warn!(user_id = user.id, failures, %until, "account locked");
            audit::Event::success(AuditAction::Lockout)
                .target(&user)
                .detail(json!({ "failures": failures, "locked_until": until }))
                .record(&self.db, client)
                .await;
        }
        Ok(())
    }

    /// The attempt is settled: clear the count before anything else can fail.
    async fn accept(
        &self,
        mut user: user::Model,
        password: &SecretString,
    ) -> Result<user::Model, AuthError> {
        user.last_login_at = Some(lockout::succeeded(&self.db, user.id).await?);
        user.failed_logins = 0;
        user.locked_until = None;
        let stored = user.password_hash.clone();
        if password::needs_rehash(&stored) {
            let upgraded = self.passwords.hash(password.clone()).await?;
            if accounts::replace_password_hash(&self.db, user.id, &stored, &upgraded).await? {
                tracing::info!(user_id = user.id, "password hash upgraded to argon2id");
            }
        }
        Ok(user)
    }

    /// Checks credentials and opens a session of `kind`: the one login path behind
    /// `POST /auth/login` (cookie) and `POST /auth/token` (bearer).
    pub async fn log_in(
        &self,
        credentials: &LoginRequest,
        client: &ClientInfo,
        kind: SessionKind,
    ) -> Result<(user::Model, Session, String), AuthError> {
        let user = self.check_credentials(credentials, client).await?;
        let (session, token) = self.start_session(client, &user, kind).await?;
        tracing::info!(user_id = user.id, ?kind, "logged in");
        audit::Event::success(AuditAction::Login)
            .by(&user)
            .detail(json!({ "via": kind }))
            .record(&self.db, client)
            .await;
        Ok((user, session, token))
    }

    /// Opens a session for `user` and returns it with its signed token.
    pub async fn start_session(
        &self,
        client: &ClientInfo,
        user: &user::Model,
        kind: SessionKind,
    ) -> Result<(Session, String), AuthError> {
        let session = session::create(&self.db, user.id, kind, self.lifetimes, client).await?;
        let token = self
            .tokens
            .issue(user.id, &session.id, session.expires_at)?;
        Ok((session, token))
    }

    /// Changes `user`'s password after checking the current one; every session of
    /// the account ends. Returns the account as stored now.
    pub async fn change_password(
        &self,
        user: &user::Model,
        current_password: &str,
        new_password: Password,
        client: &ClientInfo,
    ) -> Result<user::Model, AuthError> {
        if let Err(refused) = self.verify_current_password(user, current_password).await {
            if matches!(refused, AuthError::WrongCurrentPassword) {
                audit::Event::failure(AuditAction::PasswordChange)
                    .by(user)
                    .detail(json!({ "reason": "wrong_current_password" }))
                    .record(&self.db, client)
                    .await;
            }
            return Err(refused);
        }
        let hash = self
            .passwords
            .hash(SecretString::from(new_password.into_inner()))
            .await?;
        let update = Update {
            password_hash: Some(hash),
            ..Update::default()
        };
        let user = accounts::update(&self.db, user.id, update).await?.user;
        tracing::info!(user_id = user.id, "password changed; sessions ended");
        audit::Event::success(AuditAction::PasswordChange)
            .by(&user)
            .record(&self.db, client)
            .await;
        Ok(user)
    }
}
