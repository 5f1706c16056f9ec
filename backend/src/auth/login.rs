//! The login flow, and the password check it shares with every re-authentication.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::TransactionTrait as _;
use secrecy::SecretString;
use serde_json::json;
use sha2::Digest as _;
use shared::validate::Password;
use shared::{AuditAction, LoginRequest, SecondFactor, SessionKind, WebhookEventType};

use super::codes::Codes;
use super::lockout::Counter;
use super::mfa::MfaError;
use super::passkeys::PasskeyError;
use super::password::Lane;
use super::session::{self, Session};
use super::{Auth, AuthError, devices, lockout, mfa, password};
use crate::accounts::{self, Update};
use crate::audit::{self, ClientInfo};
use crate::db::entity::user;
use crate::integrations::webhooks;

/// An id no account has (ids start at 1).
const NO_ACCOUNT: i32 = 0;

/// How a login name that matched no account is recorded: never as typed (it may be
/// a password typed into the wrong field), but the same name always gives the same
/// mark, so repeated attempts can be told apart.
fn unknown_name(codes: &Codes, typed: &str) -> String {
    let mark = codes.derived(&format!("login-name:{}", typed.trim().to_lowercase()));
    format!("unknown #{}", &mark[..12])
}

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

/// A login that succeeded.
#[derive(Debug)]
pub struct LoggedIn {
    pub user: user::Model,
    /// The known device the login came from (or was just remembered as), for the
    /// session: its re-authentication counts on that device.
    pub device_hash: Option<String>,
    /// A token for the client's new device record, when it came without a known one.
    pub new_device_token: Option<String>,
}

/// Where a check's failures count: on the known device it came from, else on the
/// account's counter for unknown clients.
fn counter_of(known_device: Option<&str>, user_id: i32) -> Counter<'_> {
    known_device.map_or(Counter::Account(user_id), Counter::Device)
}

/// A login proved right: the account, and the known device it came from.
#[derive(Debug)]
pub struct Checked {
    pub user: user::Model,
    pub known_device: Option<String>,
    /// Whether the attempt holds a lockout reservation (a password or a code was
    /// checked): the login's commit settles it, and a login the database could not
    /// complete gives it back.
    pub reserved: bool,
}

/// How a login with the right password ends: a session, or a second step first.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "made once per login and taken apart at once"
)]
pub enum LoginOutcome {
    LoggedIn(LoggedIn, Session, String),
    SecondFactor(shared::MfaChallenge),
}

/// Whom a login's success is charged to (see [`Auth::logins`]): the known device it
/// came from; else the account's unknown clients; else, for a name no account has,
/// that name (so unknown names answer exactly like accounts). A stranger's logins
/// never spend the owner's device budget.
fn login_key(counter: Counter<'_>, codes: &Codes, typed: &str) -> LoginKey {
    let seed = match counter {
        Counter::Device(hash) => format!("device:{hash}"),
        Counter::Account(NO_ACCOUNT) => unknown_name(codes, typed),
        Counter::Account(id) => format!("account:{id}"),
    };
    let digest = sha2::Sha256::digest(seed.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// The key of a [`Auth::logins`] bucket.
pub type LoginKey = [u8; 16];

/// The least time a failed login takes while accounts with slower legacy hashes
/// remain: the time one of those takes. Otherwise an unknown name (a fast argon2
/// dummy) would answer sooner than an imported account whose bcrypt-12 hash has not
/// been upgraded yet, and timing would tell them apart. The padding sleeps; it costs
/// no CPU. It never exceeds [`FailureFloor::MAX`], so one check slowed by a busy
/// machine cannot make every failed login slow.
#[derive(Debug, Clone, Default)]
pub struct FailureFloor(Arc<AtomicU64>);

impl FailureFloor {
    /// Well above bcrypt-12 (~250 ms) or passlib's pbkdf2 defaults on a slow core.
    pub const MAX: Duration = Duration::from_secs(1);

    pub fn get(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }

    /// Raises the floor to `observed` if that is longer (up to [`Self::MAX`]).
    pub fn raise(&self, observed: Duration) {
        let nanos = u64::try_from(observed.min(Self::MAX).as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_max(nanos, Ordering::Relaxed);
    }

    async fn pad(&self, started: Instant) {
        let floor = self.get();
        let elapsed = started.elapsed();
        if elapsed < floor {
            tokio::time::sleep(floor - elapsed).await;
        }
    }
}

impl Auth {
    /// Checks `password` against `account`'s under the lockout: a failure is reserved
    /// (atomically, on every instance) on `counter` before the hash is compared, and
    /// given back if the check fails on our side. The same statements run whatever the
    /// account (for an unknown one they match no row), so timing tells nothing.
    pub async fn verify_password(
        &self,
        account: Option<&user::Model>,
        password: &SecretString,
        lane: Lane,
        counter: Counter<'_>,
    ) -> Result<Verdict, AuthError> {
        let reserved = lockout::reserve(&self.db, &self.lockout, counter).await?;
        let stored = account
            .filter(|u| reserved && u.disabled_at.is_none())
            .map(|u| u.password_hash.clone());
        let Some(stored) = stored else {
            self.passwords
                .verify_on(lane, password.clone(), None)
                .await?;
            return Ok(Verdict::Refused);
        };
        let legacy = password::needs_rehash(&stored);
        let checked = self
            .passwords
            .verify_timed(lane, password.clone(), Some(stored))
            .await;
        if let (true, Ok((_, took))) = (legacy, &checked) {
            self.failure_floor.raise(*took);
        }
        match checked {
            Ok((true, _)) => Ok(Verdict::Matches),
            Ok((false, _)) => Ok(Verdict::Wrong),
            Err(fault) => {
                lockout::refund(&self.db, &self.lockout, counter).await?;
                Err(fault.into())
            }
        }
    }

    /// Re-authentication of a logged-in user in a session opened from `device_hash`:
    /// a wrong password counts like a failed login from that device (from an unknown
    /// client when the session has no known device), so a stolen session cannot be
    /// used to guess it, and a stranger locking out unknown clients does not stop the
    /// owner changing their own account. A right one clears that count.
    pub async fn verify_current_password(
        &self,
        user: &user::Model,
        device_hash: Option<&str>,
        password: &str,
    ) -> Result<(), AuthError> {
        let secret = SecretString::from(password.to_owned());
        let device = self.session_device(user.id, device_hash).await?;
        let counter = counter_of(device.as_deref(), user.id);
        match self
            .verify_password(Some(user), &secret, Lane::General, counter)
            .await?
        {
            Verdict::Matches => Ok(lockout::clear(&self.db, counter).await?),
            Verdict::Wrong => Err(AuthError::WrongCurrentPassword),
            Verdict::Refused => Err(AuthError::CurrentPasswordLocked),
        }
    }

    /// Checks a username (or email) and password. A client with a known device of
    /// this account (`device_token`) counts its failures on that device; anyone else
    /// on the account's counter for unknown clients. A match clears its count and
    /// records the login time; a legacy hash is then replaced by argon2id.
    ///
    /// Successful logins are budgeted too ([`Auth::logins`]): a token is taken before
    /// the hash is checked and given back unless the password matched, so a script
    /// that knows the password cannot keep the login lane busy, and nobody else's
    /// failures spend it.
    pub async fn check_credentials(
        &self,
        credentials: &LoginRequest,
        client: &ClientInfo,
    ) -> Result<Checked, AuthError> {
        credentials.validate().map_err(AuthError::Invalid)?;
        let started = Instant::now();
        let password = SecretString::from(credentials.password.clone());
        let account = accounts::find_by_login(&self.db, &credentials.username).await?;
        let device = match (&account, credentials.device_token.as_deref()) {
            (Some(user), Some(token)) => devices::find(&self.db, user.id, token).await?,
            _ => None,
        };
        let counter = match (&account, &device) {
            (_, Some(device)) => Counter::Device(&device.token_hash),
            (account, None) => Counter::Account(account.as_ref().map_or(NO_ACCOUNT, |u| u.id)),
        };
        let key = login_key(counter, &self.codes, &credentials.username);
        self.logins.take(key).map_err(|wait| {
            crate::metrics::throttled("successful-logins");
            AuthError::TooManyLogins(wait)
        })?;
        let verdict = self
            .verify_password(account.as_ref(), &password, Lane::Login, counter)
            .await;
        if !matches!(verdict, Ok(Verdict::Matches)) {
            self.logins.give_back(key);
        }
        match (account, verdict?) {
            (Some(user), Verdict::Matches) => {
                let user = self.accept(user, &password, counter).await?;
                Ok(Checked {
                    reserved: !mfa::enabled(&user),
                    user,
                    known_device: device.map(|d| d.token_hash),
                })
            }
            (account, verdict) => {
                let name = &credentials.username;
                self.refuse(account, verdict, counter, name, client).await?;
                self.failure_floor.pad(started).await;
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    /// Audits a failed login, and the lockout it may have started.
    async fn refuse(
        &self,
        account: Option<user::Model>,
        verdict: Verdict,
        counter: Counter<'_>,
        login_name: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        // Read whatever the outcome: a wrong password needs it, and the other
        // refusals then cost the same.
        let locked = lockout::locked_until(&self.db, counter).await?;
        let reason = match (&account, verdict) {
            (None, _) => Refusal::UnknownUser,
            (Some(user), _) if user.disabled_at.is_some() => Refusal::Disabled,
            (Some(_), Verdict::Refused) => Refusal::Locked,
            (Some(_), _) => Refusal::WrongPassword,
        };
        crate::metrics::login_failed(reason.as_str());
        // Which lockout counter the attempt ran against: an admin reading the
        // trail tells the owner's typos (a known device) from a stranger's guesses.
        let known_device = matches!(counter, Counter::Device(_));
        let event = audit::Event::failure(AuditAction::Login)
            .detail(json!({ "reason": reason.as_str(), "known_device": known_device }));
        let Some(user) = account else {
            let name = unknown_name(&self.codes, login_name);
            event.claimed_actor(&name).record(&self.db, client).await;
            return Ok(());
        };
        event.by(&user).record(&self.db, client).await;
        if let (Refusal::WrongPassword, Some((failures, until))) = (reason, locked) {
            tracing::warn!(user_id = user.id, failures, %until, known_device, "account locked");
            if let Err(err) = self
                .announce_lock(&user, failures, until, known_device, client)
                .await
            {
                tracing::error!(user_id = user.id, error = %err, "could not record the lockout");
            }
        }
        Ok(())
    }

    /// Records the lock a failed login set: the audit event and, for a lock of
    /// unknown clients (the one the owner notices), the `user.locked` webhook, in one
    /// transaction, so the trail and the integrations agree.
    async fn announce_lock(
        &self,
        user: &user::Model,
        failures: i32,
        until: chrono::DateTime<chrono::Utc>,
        known_device: bool,
        client: &ClientInfo,
    ) -> Result<(), sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        audit::Event::success(AuditAction::Lockout)
            .target(user)
            .detail(json!({ "failures": failures, "locked_until": until, "known_device": known_device }))
            .insert(&txn, client)
            .await?;
        if !known_device {
            let mut shown = accounts::to_api(user.clone());
            shown.locked_until = Some(until);
            webhooks::enqueue(&txn, WebhookEventType::UserLocked, &shown).await?;
        }
        txn.commit().await
    }

    /// A right password. Its reservation stays for the login's commit to settle
    /// ([`Auth::complete_login`]), unless a second factor is still to come; a legacy
    /// hash is replaced.
    async fn accept(
        &self,
        user: user::Model,
        password: &SecretString,
        counter: Counter<'_>,
    ) -> Result<user::Model, AuthError> {
        // With a second factor the login is not over: the password's reservation is
        // given back (a right password must not be what locks the account), and the
        // count (wrong codes included) is settled only when the factor passes, so
        // guessing codes five at a time between right passwords still locks it.
        if mfa::enabled(&user) {
            lockout::refund(&self.db, &self.lockout, counter).await?;
        }
        let stored = user.password_hash.clone();
        if password::needs_rehash(&stored) {
            // Best effort, on the login lane: the login stands whatever happens here,
            // and the next one tries again.
            let upgraded = self.passwords.hash_on(Lane::Login, password.clone()).await;
            let replaced = match upgraded {
                Ok(upgraded) => {
                    accounts::replace_password_hash(&self.db, user.id, &stored, &upgraded)
                        .await
                        .map_err(anyhow::Error::from)
                }
                Err(e) => Err(anyhow::Error::from(e)),
            };
            match replaced {
                Ok(true) => tracing::info!(user_id = user.id, "password hash upgraded to argon2id"),
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(user_id = user.id, %error, "password hash not upgraded this time");
                }
            }
        }
        Ok(user)
    }

    /// Checks credentials and opens a session of `kind`, or, for an account with a
    /// second factor, a challenge for it: the one login path behind
    /// `POST /auth/login` (cookie) and `POST /auth/token` (bearer).
    pub async fn log_in(
        &self,
        credentials: &LoginRequest,
        client: &ClientInfo,
        kind: SessionKind,
    ) -> Result<LoginOutcome, AuthError> {
        let _admitted = self.passwords.admit_login().await?;
        let checked = self.check_credentials(credentials, client).await?;
        if mfa::enabled(&checked.user) {
            let passkey_check = self.passkey_check(&checked.user).await?;
            let challenge = self
                .mfa
                .challenge(&checked.user, kind, checked.known_device, passkey_check)
                .await?;
            tracing::info!(
                user_id = checked.user.id,
                ?kind,
                "password right; second factor asked"
            );
            return Ok(LoginOutcome::SecondFactor(challenge));
        }
        let (logged_in, session, token) = self.complete_login(checked, client, kind).await?;
        Ok(LoginOutcome::LoggedIn(logged_in, session, token))
    }

    /// The passkey check a second login step offers `user`, if it has passkeys
    /// (and the server can check them).
    async fn passkey_check(
        &self,
        user: &user::Model,
    ) -> Result<Option<(shared::PasskeyOptions, String)>, AuthError> {
        if user.mfa_passkeys == 0 {
            return Ok(None);
        }
        match self.passkeys.start_second_factor(user.id).await {
            Ok(check) => Ok(check),
            Err(PasskeyError::Database(err)) => Err(err.into()),
            Err(_) => Ok(None),
        }
    }

    /// A sign-in with a passkey alone (a cookie session): the passkey proves the
    /// account, and its user verification the person, so no password is asked. A
    /// refused one is audited; the client learns only that it failed.
    pub async fn log_in_with_passkey(
        &self,
        credential: serde_json::Value,
        device_token: Option<&str>,
        client: &ClientInfo,
    ) -> Result<(LoggedIn, Session, String), AuthError> {
        let user = match self.passkeys.finish_login(credential).await {
            Ok(user_id) => accounts::find(&self.db, user_id).await?,
            Err(PasskeyError::Rejected) => None,
            Err(other) => return Err(other.into()),
        };
        let Some(user) = user.filter(|u| u.disabled_at.is_none()) else {
            audit::Event::failure(AuditAction::Login)
                .detail(json!({ "reason": "passkey_refused" }))
                .record(&self.db, client)
                .await;
            return Err(AuthError::InvalidCredentials);
        };
        let device = match device_token {
            Some(token) => devices::find(&self.db, user.id, token).await?,
            None => None,
        };
        let known_device = device.map(|d| d.token_hash);
        let checked = Checked {
            user,
            known_device,
            reserved: false,
        };
        self.complete_login(checked, client, SessionKind::Cookie)
            .await
    }

    /// The last step of every login: the lockout counter it came through cleared and
    /// the login time recorded, the device remembered (a new one gets a token), a
    /// session opened and the login audited, in one commit.
    pub async fn complete_login(
        &self,
        checked: Checked,
        client: &ClientInfo,
        kind: SessionKind,
    ) -> Result<(LoggedIn, Session, String), AuthError> {
        let Checked {
            mut user,
            known_device,
            reserved,
        } = checked;
        let counter = counter_of(known_device.as_deref(), user.id);
        // One transaction, one commit: the counter settled, the device, the session
        // and the audit event are written together or not at all.
        let lifetimes = self.lifetimes;
        let opened = crate::db::retry_conflicts(|| async {
            let txn = crate::db::begin_write(&self.db).await?;
            let logged_in_at = lockout::succeeded(&txn, user.id, counter).await?;
            let (device_hash, new_device_token) = match &known_device {
                Some(hash) => (hash.clone(), None),
                None => {
                    let new = devices::create(&txn, user.id).await?;
                    (new.hash, Some(new.token))
                }
            };
            let device = Some(device_hash.clone());
            let session = session::open(&txn, user.id, kind, lifetimes, client, device).await?;
            audit::Event::success(AuditAction::Login)
                .by(&user)
                .detail(json!({ "via": kind, "second_factor": mfa::enabled(&user) }))
                .insert(&txn, client)
                .await?;
            txn.commit().await?;
            Ok::<_, sea_orm::DbErr>((logged_in_at, device_hash, new_device_token, session))
        })
        .await;
        let (logged_in_at, device_hash, new_device_token, session) = match opened {
            Ok(opened) => opened,
            Err(failed) => {
                // Our fault, not the client's: the attempt must not count.
                if reserved
                    && let Err(error) = lockout::refund(&self.db, &self.lockout, counter).await
                {
                    tracing::warn!(user_id = user.id, %error, "lockout reservation not given back");
                }
                return Err(failed.into());
            }
        };
        user.last_login_at = Some(logged_in_at);
        if matches!(counter, Counter::Account(_)) {
            user.failed_logins = 0;
            user.locked_until = None;
        }
        // The caps, once committed (see `session::open`). The login stands if this
        // fails: the next one ends what is beyond them.
        let capped = async {
            if new_device_token.is_some() {
                devices::forget_beyond_cap(&self.db, user.id, &device_hash).await?;
            }
            let cap = lifetimes.max_per_account;
            session::end_beyond_cap(&self.db, user.id, &session.id, cap).await
        };
        if let Err(error) = capped.await {
            tracing::warn!(user_id = user.id, %error, "sessions or devices beyond the cap not ended this time");
        }
        let token = self
            .tokens
            .issue(user.id, &session.id, session.expires_at)?;
        tracing::info!(user_id = user.id, ?kind, "logged in");
        let logged_in = LoggedIn {
            user,
            device_hash: Some(device_hash),
            new_device_token,
        };
        Ok((logged_in, session, token))
    }

    /// The second login step: one attempt of the challenge behind `token` with
    /// `factor`. A wrong code counts toward the lockout like a wrong password, on the
    /// counter the password was checked on; the right one settles that counter and
    /// opens the session the first step asked for.
    pub async fn verify_second_factor(
        &self,
        token: &str,
        factor: &SecondFactor,
        client: &ClientInfo,
    ) -> Result<(LoggedIn, Session, String, SessionKind), AuthError> {
        let challenge = self.mfa.attempt(token).await?;
        let user = accounts::find(&self.db, challenge.user_id)
            .await?
            .filter(|u| u.disabled_at.is_none());
        // The counter the password counted on: the known device's, else the account's
        // for unknown clients, so a stranger's wrong codes do not lock the owner out.
        let counter = counter_of(challenge.device_hash.as_deref(), challenge.user_id);
        let known_device = challenge.device_hash.is_some();
        let reserved = lockout::reserve(&self.db, &self.lockout, counter).await?;
        let (Some(user), true) = (user, reserved) else {
            // Disabled or locked meanwhile: this login cannot end well.
            self.mfa.finish(&challenge).await?;
            return Err(MfaError::ChallengeGone.into());
        };
        let passed = match factor {
            SecondFactor::Webauthn(assertion) => {
                let state = challenge.webauthn_state.as_deref();
                self.passkeys
                    .check_second_factor(user.id, state, assertion)
                    .await?
            }
            other => self.mfa.check(user.id, other).await?,
        };
        if !passed {
            audit::Event::failure(AuditAction::Login)
                .by(&user)
                .detail(json!({ "reason": "wrong_second_factor" }))
                .record(&self.db, client)
                .await;
            if let Some((failures, until)) = lockout::locked_until(&self.db, counter).await? {
                tracing::warn!(user_id = user.id, failures, %until, "account locked");
                if let Err(err) = self
                    .announce_lock(&user, failures, until, known_device, client)
                    .await
                {
                    tracing::error!(user_id = user.id, error = %err, "could not record the lockout");
                }
            }
            return Err(MfaError::WrongCode.into());
        }
        if !self.mfa.finish(&challenge).await? {
            // A parallel attempt with the same challenge finished it first: this one
            // was right, so it must not count.
            if let Err(error) = lockout::refund(&self.db, &self.lockout, counter).await {
                tracing::warn!(user_id = user.id, %error, "lockout reservation not given back");
            }
            return Err(MfaError::ChallengeGone.into());
        }
        if let SecondFactor::RecoveryCode(_) = factor {
            audit::Event::success(AuditAction::RecoveryCodeUsed)
                .by(&user)
                .record(&self.db, client)
                .await;
        }
        let checked = Checked {
            user,
            known_device: challenge.device_hash,
            reserved: true,
        };
        let (logged_in, session, token) =
            self.complete_login(checked, client, challenge.kind).await?;
        Ok((logged_in, session, token, challenge.kind))
    }

    /// Checks a second factor given by a logged-in user (to turn it off) under the
    /// lockout, on the counter of the session's device like a re-authentication: a
    /// wrong code counts and is audited; a recovery code used is audited.
    pub async fn verify_current_factor(
        &self,
        user: &user::Model,
        device_hash: Option<&str>,
        factor: &SecondFactor,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let device = self.session_device(user.id, device_hash).await?;
        let counter = counter_of(device.as_deref(), user.id);
        if !lockout::reserve(&self.db, &self.lockout, counter).await? {
            return Err(AuthError::CurrentPasswordLocked);
        }
        if !self.mfa.check(user.id, factor).await? {
            audit::Event::failure(AuditAction::MfaDisabled)
                .by(user)
                .detail(json!({ "reason": "wrong_second_factor" }))
                .record(&self.db, client)
                .await;
            return Err(MfaError::WrongCode.into());
        }
        // The password check that follows settles the count.
        lockout::refund(&self.db, &self.lockout, counter).await?;
        if let SecondFactor::RecoveryCode(_) = factor {
            audit::Event::success(AuditAction::RecoveryCodeUsed)
                .by(user)
                .record(&self.db, client)
                .await;
        }
        Ok(())
    }

    /// The known device a session of `user_id` was opened from, if it still is one.
    async fn session_device(
        &self,
        user_id: i32,
        device_hash: Option<&str>,
    ) -> Result<Option<String>, sea_orm::DbErr> {
        Ok(match device_hash {
            Some(hash) => devices::find_by_hash(&self.db, user_id, hash)
                .await?
                .map(|device| device.token_hash),
            None => None,
        })
    }

    /// Opens a session for `user` (from the known device `device_hash`, if any) and
    /// returns it with its signed token.
    pub async fn start_session(
        &self,
        client: &ClientInfo,
        user: &user::Model,
        kind: SessionKind,
        device_hash: Option<String>,
    ) -> Result<(Session, String), AuthError> {
        let lifetimes = self.lifetimes;
        let session =
            session::open(&self.db, user.id, kind, lifetimes, client, device_hash).await?;
        session::end_beyond_cap(&self.db, user.id, &session.id, lifetimes.max_per_account).await?;
        let token = self
            .tokens
            .issue(user.id, &session.id, session.expires_at)?;
        Ok((session, token))
    }

    /// Changes `user`'s password after checking the current one; every session of
    /// the account ends. Returns the account as stored now.
    pub async fn change_password(
        &self,
        (user, device_hash): (&user::Model, Option<&str>),
        current_password: &str,
        new_password: Password,
        client: &ClientInfo,
    ) -> Result<user::Model, AuthError> {
        let checked = self.verify_current_password(user, device_hash, current_password);
        if let Err(refused) = checked.await {
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
