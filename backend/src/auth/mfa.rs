//! Second factors: an authenticator app (TOTP, RFC 6238: SHA-1, 6 digits, 30 s) and
//! single-use recovery codes, and the login step that asks for one.
//!
//! - The TOTP secret is kept sealed ([`Sealer`]); a code is accepted once: the step
//!   it matched is stored, and only a later step passes (one step of skew either way).
//! - Recovery codes are random (50 bits each), so their SHA-256 is enough; using one
//!   marks it and counts it down on the account in one transaction.
//! - A login whose password was right and whose account has a second factor gets a
//!   challenge instead of a session: a random `mfa_token` (its SHA-256 stored) that
//!   lives 5 minutes, allows 5 attempts and is spent by the first success.
//! - What an account has is also kept on its row (`mfa_totp_at`, `mfa_passkeys`,
//!   `mfa_recovery_left`), so every user object shows it without another query.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set, TransactionTrait,
};
use sha2::{Digest, Sha256};
use shared::{MfaChallenge, MfaMethod, MfaRequired, MfaSummary, RECOVERY_CODES, Role, SessionKind};
use totp_rs::{Builder, Secret, Totp};

use super::sealing::Sealer;
use crate::clock::now;
use crate::db::entity::mfa_challenge::{self, Column as ChallengeColumn, Entity as Challenges};
use crate::db::entity::mfa_recovery_code::{self, Column as CodeColumn, Entity as RecoveryCodes};
use crate::db::entity::mfa_totp::{self, Column as TotpColumn, Entity as TotpSecrets};
use crate::db::entity::passkey::{Column as PasskeyColumn, Entity as PasskeyRows};
use crate::db::entity::passkey_ceremony::{Column as CeremonyColumn, Entity as PasskeyCeremonies};
use crate::db::entity::user::{self, Column as UserColumn, Entity as Users};

/// How long a login may wait for its second factor.
pub const CHALLENGE_TTL: Duration = Duration::minutes(5);
/// Second-factor attempts per login.
pub const CHALLENGE_ATTEMPTS: i32 = 5;
/// Bytes of a TOTP secret (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;
/// Characters of a recovery code (base32: 50 bits), shown as two groups of five.
const RECOVERY_CODE_LEN: usize = 10;

/// Why a second-factor operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("TOTP is already on")]
    AlreadyOn,
    #[error("nothing to confirm or turn off")]
    NotSetUp,
    /// A code that is wrong, of a step already used, or a used recovery code.
    #[error("wrong code")]
    WrongCode,
    /// The login's `mfa_token` is unknown, expired, spent, or out of attempts.
    #[error("the sign-in expired")]
    ChallengeGone,
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// What the account summary says of `user`.
pub fn summary(user: &user::Model) -> MfaSummary {
    MfaSummary {
        totp: user.mfa_totp_at.is_some(),
        passkeys: u32::try_from(user.mfa_passkeys).unwrap_or(0),
        recovery_codes_left: u32::try_from(user.mfa_recovery_left).unwrap_or(0),
    }
}

/// Whether login asks `user` for a second factor.
pub fn enabled(user: &user::Model) -> bool {
    summary(user).enabled()
}

/// The factors `user` can give at the login step.
pub fn methods(user: &user::Model) -> Vec<MfaMethod> {
    let summary = summary(user);
    let mut methods = Vec::new();
    if summary.totp {
        methods.push(MfaMethod::Totp);
    }
    if summary.passkeys > 0 {
        methods.push(MfaMethod::Webauthn);
    }
    if summary.recovery_codes_left > 0 {
        methods.push(MfaMethod::RecoveryCode);
    }
    methods
}

/// The second-factor store, with the key TOTP secrets are sealed under.
#[derive(Clone)]
pub struct Mfa {
    db: DatabaseConnection,
    sealer: Sealer,
    /// The issuer authenticator apps show (the app's name).
    issuer: String,
    pub required: MfaRequired,
}

impl Mfa {
    pub fn new(
        db: DatabaseConnection,
        sealing_key: [u8; 32],
        issuer: String,
        required: MfaRequired,
    ) -> Self {
        Self {
            db,
            sealer: Sealer::new(sealing_key),
            issuer,
            required,
        }
    }

    /// Whether `user` must set up a second factor before anything else
    /// (`MFA_REQUIRED`): its sessions are restricted until it has one.
    pub fn must_enrol(&self, user: &user::Model) -> bool {
        let covered = match self.required {
            MfaRequired::Off => false,
            MfaRequired::Admins => user.role == Role::Admin,
            MfaRequired::Everyone => true,
        };
        covered && !enabled(user)
    }

    /// A new secret for `user`, replacing one not confirmed yet; nothing is on until
    /// [`Mfa::confirm_totp`].
    pub async fn start_totp(&self, user: &user::Model) -> Result<shared::TotpSetup, MfaError> {
        if user.mfa_totp_at.is_some() {
            return Err(MfaError::AlreadyOn);
        }
        let mut bytes = [0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let secret = Secret::from(bytes.to_vec()).to_base32();
        let txn = self.db.begin().await?;
        // Only a secret not confirmed yet is replaced: a confirmed one (from a
        // concurrent confirm) keeps its row, and the insert then fails.
        TotpSecrets::delete_many()
            .filter(TotpColumn::UserId.eq(user.id))
            .filter(TotpColumn::ConfirmedAt.is_null())
            .exec(&txn)
            .await?;
        mfa_totp::ActiveModel {
            user_id: Set(user.id),
            secret: Set(self.sealer.seal(&secret)),
            confirmed_at: Set(None),
            last_step: Set(None),
            created_at: Set(now()),
        }
        .insert(&txn)
        .await
        .map_err(|err| match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => MfaError::AlreadyOn,
            _ => err.into(),
        })?;
        txn.commit().await?;
        let otpauth_uri = otpauth_uri(&self.issuer, &user.username, &secret);
        let qr_svg = qr_svg(&otpauth_uri);
        Ok(shared::TotpSetup {
            secret,
            otpauth_uri,
            qr_svg,
        })
    }

    /// Turns TOTP on with a first code from the app; returns the new recovery codes.
    pub async fn confirm_totp(
        &self,
        user: &user::Model,
        code: &str,
    ) -> Result<Vec<String>, MfaError> {
        if user.mfa_totp_at.is_some() {
            return Err(MfaError::AlreadyOn);
        }
        let row = TotpSecrets::find_by_id(user.id)
            .one(&self.db)
            .await?
            .ok_or(MfaError::NotSetUp)?;
        if !self.accept_code(&row, code).await? {
            return Err(MfaError::WrongCode);
        }
        let txn = self.db.begin().await?;
        // The very secret the code was checked against, still unconfirmed: a setup
        // or confirm that ran meanwhile makes this one fail instead.
        let confirmed = TotpSecrets::update_many()
            .col_expr(TotpColumn::ConfirmedAt, Expr::value(Some(now())))
            .filter(TotpColumn::UserId.eq(user.id))
            .filter(TotpColumn::Secret.eq(&row.secret))
            .filter(TotpColumn::ConfirmedAt.is_null())
            .exec(&txn)
            .await?;
        if confirmed.rows_affected != 1 {
            return Err(MfaError::NotSetUp);
        }
        Users::update_many()
            .col_expr(UserColumn::MfaTotpAt, Expr::value(Some(now())))
            .filter(UserColumn::Id.eq(user.id))
            .exec(&txn)
            .await?;
        let codes = replace_recovery_codes(&txn, user.id).await?;
        txn.commit().await?;
        Ok(codes)
    }

    /// Checks `factor` for `user`: a TOTP code (accepted once) or a recovery code
    /// (used up).
    pub async fn check(
        &self,
        user_id: i32,
        factor: &shared::SecondFactor,
    ) -> Result<bool, MfaError> {
        match factor {
            shared::SecondFactor::Totp(code) => {
                let row = TotpSecrets::find_by_id(user_id).one(&self.db).await?;
                match row.filter(|r| r.confirmed_at.is_some()) {
                    Some(row) => Ok(self.accept_code(&row, code).await?),
                    None => Ok(false),
                }
            }
            shared::SecondFactor::RecoveryCode(code) => use_recovery_code(&self.db, user_id, code)
                .await
                .map_err(Into::into),
            // Passkeys are checked against the login step's ceremony
            // (`Passkeys::check_second_factor`).
            shared::SecondFactor::Webauthn(_) => Ok(false),
        }
    }

    /// Turns TOTP off; the recovery codes go too unless a passkey remains.
    pub async fn disable_totp(&self, user: &user::Model) -> Result<(), MfaError> {
        if user.mfa_totp_at.is_none() {
            return Err(MfaError::NotSetUp);
        }
        let txn = self.db.begin().await?;
        TotpSecrets::delete_many()
            .filter(TotpColumn::UserId.eq(user.id))
            .exec(&txn)
            .await?;
        let mut update = Users::update_many()
            .col_expr(
                UserColumn::MfaTotpAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(UserColumn::Id.eq(user.id));
        if user.mfa_passkeys == 0 {
            delete_recovery_codes(&txn, user.id).await?;
            update = update.col_expr(UserColumn::MfaRecoveryLeft, Expr::value(0));
        }
        update.exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// A new set of recovery codes; the old ones stop working.
    pub async fn renew_recovery_codes(&self, user: &user::Model) -> Result<Vec<String>, MfaError> {
        if !enabled(user) {
            return Err(MfaError::NotSetUp);
        }
        let txn = self.db.begin().await?;
        let codes = replace_recovery_codes(&txn, user.id).await?;
        txn.commit().await?;
        Ok(codes)
    }

    /// Removes every second factor of account `user_id` (an admin's reset).
    pub async fn reset(&self, user_id: i32) -> Result<(), MfaError> {
        let txn = self.db.begin().await?;
        TotpSecrets::delete_many()
            .filter(TotpColumn::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        delete_recovery_codes(&txn, user_id).await?;
        PasskeyRows::delete_many()
            .filter(PasskeyColumn::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        PasskeyCeremonies::delete_many()
            .filter(CeremonyColumn::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        Challenges::delete_many()
            .filter(ChallengeColumn::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        Users::update_many()
            .col_expr(
                UserColumn::MfaTotpAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(UserColumn::MfaRecoveryLeft, Expr::value(0))
            .col_expr(UserColumn::MfaPasskeys, Expr::value(0))
            .filter(UserColumn::Id.eq(user_id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The login step for `user`, whose password was right: a challenge for a
    /// session of `kind` from `device_hash`, with the passkey check offered (the
    /// options for the browser, the state kept) when the account has passkeys.
    pub async fn challenge(
        &self,
        user: &user::Model,
        kind: SessionKind,
        device_hash: Option<String>,
        passkey_check: Option<(shared::PasskeyOptions, String)>,
    ) -> Result<MfaChallenge, DbErr> {
        let (webauthn, webauthn_state) = passkey_check.unzip();
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        mfa_challenge::ActiveModel {
            token_hash: Set(sha256(&token)),
            user_id: Set(user.id),
            kind: Set(kind),
            device_hash: Set(device_hash),
            attempts: Set(0),
            webauthn_state: Set(webauthn_state),
            expires_at: Set(now() + CHALLENGE_TTL),
        }
        .insert(&self.db)
        .await?;
        let mut methods = methods(user);
        if webauthn.is_none() {
            methods.retain(|m| *m != MfaMethod::Webauthn);
        }
        Ok(MfaChallenge {
            mfa_required: true,
            mfa_token: token,
            methods,
            webauthn,
        })
    }

    /// Spends one attempt of the challenge behind `token` and returns it, or
    /// [`MfaError::ChallengeGone`].
    pub async fn attempt(&self, token: &str) -> Result<mfa_challenge::Model, MfaError> {
        let hash = sha256(token.trim());
        let spent = Challenges::update_many()
            .col_expr(
                ChallengeColumn::Attempts,
                Expr::col(ChallengeColumn::Attempts).add(1),
            )
            .filter(ChallengeColumn::TokenHash.eq(&hash))
            .filter(ChallengeColumn::Attempts.lt(CHALLENGE_ATTEMPTS))
            .filter(ChallengeColumn::ExpiresAt.gt(now()))
            .exec(&self.db)
            .await?;
        if spent.rows_affected != 1 {
            return Err(MfaError::ChallengeGone);
        }
        Challenges::find_by_id(hash)
            .one(&self.db)
            .await?
            .ok_or(MfaError::ChallengeGone)
    }

    /// Ends a challenge that succeeded: `false` when a concurrent success spent it
    /// first.
    pub async fn finish(&self, challenge: &mfa_challenge::Model) -> Result<bool, DbErr> {
        let gone = Challenges::delete_many()
            .filter(ChallengeColumn::TokenHash.eq(&challenge.token_hash))
            .exec(&self.db)
            .await?;
        Ok(gone.rows_affected == 1)
    }

    /// Forgets challenges past their time.
    pub async fn purge_expired(&self) -> Result<u64, DbErr> {
        let purged = Challenges::delete_many()
            .filter(ChallengeColumn::ExpiresAt.lte(now()))
            .exec(&self.db)
            .await?;
        Ok(purged.rows_affected)
    }

    /// Whether `code` is right for `row`'s secret now (one step either way) and of a
    /// step later than the last one accepted; that step is then recorded, so a
    /// replay (here or on another instance) fails.
    async fn accept_code(&self, row: &mfa_totp::Model, code: &str) -> Result<bool, DbErr> {
        let Some(totp) = self.sealer.open(&row.secret).and_then(|s| totp(&s)) else {
            tracing::error!(user_id = row.user_id, "a TOTP secret could not be opened");
            return Ok(false);
        };
        let now = now().timestamp();
        let Some(step) = totp.check(code, u64::try_from(now).unwrap_or(0)) else {
            return Ok(false);
        };
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        let taken = TotpSecrets::update_many()
            .col_expr(TotpColumn::LastStep, Expr::value(Some(step)))
            .filter(TotpColumn::UserId.eq(row.user_id))
            .filter(TotpColumn::Secret.eq(&row.secret))
            .filter(
                sea_orm::Condition::any()
                    .add(TotpColumn::LastStep.is_null())
                    .add(TotpColumn::LastStep.lt(step)),
            )
            .exec(&self.db)
            .await?;
        Ok(taken.rows_affected == 1)
    }
}

/// The RFC 6238 generator for a base32 secret.
fn totp(secret: &str) -> Option<Totp> {
    let bytes = Secret::try_from_base32(secret).ok()?;
    Builder::new().with_secret(bytes).build().ok()
}

/// `otpauth://totp/<issuer>:<username>?secret=...&issuer=...`, as authenticator apps
/// read it (the Key Uri Format).
fn otpauth_uri(issuer: &str, username: &str, secret: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    // Spaces as %20: `+` is literal in a URI path.
    let label = |s: &str| encode(s).replace('+', "%20");
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period=30",
        label(issuer),
        label(username),
        label(issuer),
    )
}

/// The QR code of `text` as an SVG document.
fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        // A URI of this length always fits a QR code.
        Err(_) => String::new(),
    }
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A random recovery code, as shown: `xxxxx-xxxxx`.
fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; RECOVERY_CODE_LEN];
    rand::rng().fill_bytes(&mut bytes);
    let chars: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// What is stored of a code as typed (already normalised: lower case, no dashes).
fn recovery_hash(normalised: &str) -> String {
    sha256(&format!("mfa-recovery:{normalised}"))
}

pub(super) async fn replace_recovery_codes(
    txn: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Vec<String>, DbErr> {
    delete_recovery_codes(txn, user_id).await?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let rows = codes.iter().map(|code| mfa_recovery_code::ActiveModel {
        user_id: Set(user_id),
        code_hash: Set(recovery_hash(&code.replace('-', ""))),
        used_at: Set(None),
        ..Default::default()
    });
    RecoveryCodes::insert_many(rows).exec(txn).await?;
    let left = i32::try_from(codes.len()).unwrap_or(i32::MAX);
    Users::update_many()
        .col_expr(UserColumn::MfaRecoveryLeft, Expr::value(left))
        .filter(UserColumn::Id.eq(user_id))
        .exec(txn)
        .await?;
    Ok(codes)
}

pub(super) async fn delete_recovery_codes(
    txn: &impl ConnectionTrait,
    user_id: i32,
) -> Result<(), DbErr> {
    RecoveryCodes::delete_many()
        .filter(CodeColumn::UserId.eq(user_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Marks `code` used if it is one of `user_id`'s unused codes, counting it down on
/// the account in the same transaction.
async fn use_recovery_code(
    db: &DatabaseConnection,
    user_id: i32,
    code: &str,
) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    let used = RecoveryCodes::update_many()
        .col_expr(CodeColumn::UsedAt, Expr::value(Some(now())))
        .filter(CodeColumn::UserId.eq(user_id))
        .filter(CodeColumn::CodeHash.eq(recovery_hash(code)))
        .filter(CodeColumn::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if used.rows_affected != 1 {
        return Ok(false);
    }
    Users::update_many()
        .col_expr(
            UserColumn::MfaRecoveryLeft,
            Expr::col(UserColumn::MfaRecoveryLeft).sub(1),
        )
        .filter(UserColumn::Id.eq(user_id))
        .filter(UserColumn::MfaRecoveryLeft.gt(0))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uri_names_the_issuer_and_the_account() {
        let uri = otpauth_uri("User Management", "ada.l", "JBSWY3DPEHPK3PXP");
        assert_eq!(
            uri,
            "otpauth://totp/User%20Management:ada.l?secret=JBSWY3DPEHPK3PXP\
             &issuer=User%20Management&algorithm=SHA1&digits=6&period=30"
        );
        assert!(qr_svg(&uri).starts_with("<?xml"));
    }

    #[test]
    fn recovery_codes_are_random_and_normalise_to_their_hash() {
        let a = new_recovery_code();
        assert_eq!(a.len(), RECOVERY_CODE_LEN + 1);
        assert_ne!(a, new_recovery_code());
        let mut v = shared::validate::Validator::new();
        let typed = shared::parse_recovery_code(&mut v, "code", &a.to_uppercase()).unwrap();
        assert_eq!(recovery_hash(&typed), recovery_hash(&a.replace('-', "")));
    }

    #[test]
    fn codes_follow_rfc_6238() {
        // RFC 6238 appendix B, SHA-1, at T = 59 s: 94287082 (8 digits) ends in 287082.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        assert_eq!(totp(&secret).unwrap().generate(59).to_string(), "287082");
    }
}
