//! Password recovery: a 6-digit code by email, then the security question, then a new
//! password. State lives in `password_recoveries`, one row per account, and every step
//! is one conditional UPDATE: concurrent requests cannot skip a step, use a code or
//! token twice, or spend more than the shared attempt budget.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::{Rng, RngCore};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use shared::validate::{Password, SecurityAnswer};
use shared::{Identifier, OTP_DIGITS};

use crate::auth::password::Passwords;
use crate::entity::password_recovery::{self, Column, Entity as Recoveries};
use crate::entity::user::{self, Entity as Users};
use crate::error::ApiError;
use crate::mail::{Mail, Mailer};
use crate::users::{self, now};

/// Wrong codes and wrong answers together, per code sent.
pub const ATTEMPTS: i32 = 5;
/// Codes mailed per account per hour; more requests get the same answer but no mail.
pub const MAILS_PER_HOUR: i32 = 5;

mod step {
    pub const CODE: &str = "code";
    pub const QUESTION: &str = "question";
    pub const RESET: &str = "reset";
    pub const DONE: &str = "done";
}

/// Everything the recovery flow needs besides the database.
#[derive(Clone)]
pub struct Recovery {
    /// Key for the codes' HMAC, so a database dump alone does not reveal them (six
    /// digits are trivial to brute-force from a plain hash).
    code_key: Vec<u8>,
    /// Lifetime of a code and of each step's token.
    pub ttl: Duration,
    pub app_name: String,
}

/// The refusal for a wrong, expired, used or unknown code or token: one answer for all.
fn invalid() -> ApiError {
    ApiError::BadRequest("The code or link is invalid or has expired; request a new code.".into())
}

impl Recovery {
    pub fn new(code_key: &[u8], ttl: Duration, app_name: String) -> Self {
        Self {
            code_key: code_key.to_vec(),
            ttl,
            app_name,
        }
    }

    fn code_hash(&self, user_id: i32, code: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.code_key).expect("HMAC takes any key");
        mac.update(format!("password-recovery:{user_id}:{code}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn expiry(&self) -> DateTime<Utc> {
        now() + chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::minutes(10))
    }

    /// Step 1, run off the request path. Mails a fresh code (replacing any earlier one)
    /// if an account matches and its hourly mail budget allows. Returns the account,
    /// if one matched, and whether a code was mailed.
    pub async fn request_code(
        &self,
        db: &DatabaseConnection,
        mailer: &Mailer,
        identifier: &Identifier,
    ) -> Result<Option<(user::Model, bool)>, ApiError> {
        let Some(user) = find_account(db, identifier).await? else {
            tracing::info!("password recovery requested for no account");
            return Ok(None);
        };
        let now = now();
        Recoveries::insert(password_recovery::ActiveModel {
            user_id: Set(user.id),
            step: Set(step::DONE.to_owned()),
            code_hash: Set(None),
            code_expires_at: Set(None),
            attempts_left: Set(0),
            token_hash: Set(None),
            token_expires_at: Set(None),
            window_started_at: Set(now),
            mails_in_window: Set(0),
            updated_at: Set(now),
        })
        .on_conflict_do_nothing()
        .exec(db)
        .await?;

        let code = format!(
            "{:0width$}",
            rand::rng().random_range(0..1_000_000u32),
            width = OTP_DIGITS
        );
        let hour_ago = now - chrono::Duration::hours(1);
        let new_window = Expr::col(Column::WindowStartedAt).lte(hour_ago);
        // `mails_in_window` is assigned first: MySQL evaluates SET left to right, and
        // it must see the old window start, as SQLite does.
        let updated = Recoveries::update_many()
            .col_expr(
                Column::MailsInWindow,
                Expr::case(new_window.clone(), 1)
                    .finally(Expr::col(Column::MailsInWindow).add(1))
                    .into(),
            )
            .col_expr(
                Column::WindowStartedAt,
                Expr::case(new_window.clone(), now)
                    .finally(Expr::col(Column::WindowStartedAt))
                    .into(),
            )
            .col_expr(Column::Step, Expr::value(step::CODE))
            .col_expr(
                Column::CodeHash,
                Expr::value(self.code_hash(user.id, &code)),
            )
            .col_expr(Column::CodeExpiresAt, Expr::value(self.expiry()))
            .col_expr(Column::AttemptsLeft, Expr::value(ATTEMPTS))
            .col_expr(Column::TokenHash, Expr::value(Option::<String>::None))
            .col_expr(
                Column::TokenExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::UserId.eq(user.id))
            .filter(
                Condition::any()
                    .add(new_window)
                    .add(Column::MailsInWindow.lt(MAILS_PER_HOUR)),
            )
            .exec(db)
            .await?;
        if updated.rows_affected == 0 {
            tracing::info!(
                user_id = user.id,
                "recovery mail limit reached; no code sent"
            );
            return Ok(Some((user, false)));
        }
        mailer.send(self.code_mail(&user, &code)?);
        tracing::info!(user_id = user.id, "recovery code issued");
        Ok(Some((user, true)))
    }

    /// Step 2: the right code for this account, unexpired, within the attempt budget.
    /// Returns the token for step 3 and the account (whose security question comes
    /// next).
    pub async fn verify_code(
        &self,
        db: &DatabaseConnection,
        identifier: &Identifier,
        code: &str,
    ) -> Result<(String, user::Model), ApiError> {
        let user = find_account(db, identifier).await?.ok_or_else(invalid)?;
        let live_code = || {
            Condition::all()
                .add(Column::UserId.eq(user.id))
                .add(Column::Step.eq(step::CODE))
                .add(Column::CodeExpiresAt.gt(Utc::now()))
        };
        if !spend_attempt(db, live_code()).await? {
            return Err(invalid());
        }
        let token = new_token();
        let advanced = Recoveries::update_many()
            .col_expr(Column::Step, Expr::value(step::QUESTION))
            .col_expr(Column::CodeHash, Expr::value(Option::<String>::None))
            .col_expr(Column::AttemptsLeft, Expr::col(Column::AttemptsLeft).add(1))
            .col_expr(Column::TokenHash, Expr::value(token_hash(&token)))
            .col_expr(Column::TokenExpiresAt, Expr::value(self.expiry()))
            .col_expr(Column::UpdatedAt, Expr::value(now()))
            .filter(live_code().add(Column::CodeHash.eq(self.code_hash(user.id, code))))
            .exec(db)
            .await?;
        if advanced.rows_affected != 1 {
            return Err(invalid());
        }
        tracing::info!(user_id = user.id, "recovery code verified");
        Ok((token, user))
    }

    /// Step 3: the security answer for the flow behind `flow_token`. Wrong answers
    /// spend the same budget as wrong codes. Returns the token for step 4.
    pub async fn check_answer(
        &self,
        db: &DatabaseConnection,
        passwords: &Passwords,
        flow_token: &str,
        answer: SecurityAnswer,
    ) -> Result<String, ApiError> {
        let hash = token_hash(flow_token);
        let live_flow = || {
            Condition::all()
                .add(Column::TokenHash.eq(hash.clone()))
                .add(Column::Step.eq(step::QUESTION))
                .add(Column::TokenExpiresAt.gt(Utc::now()))
        };
        if !spend_attempt(db, live_flow()).await? {
            return Err(invalid());
        }
        let (_, user) = find_flow(db, &hash).await?.ok_or_else(invalid)?;
        let matches = passwords
            .verify(
                SecretString::from(answer.into_inner()),
                user.security_answer_hash,
            )
            .await?;
        if !matches {
            return Err(ApiError::field("security_answer", "is incorrect"));
        }
        let token = new_token();
        let advanced = Recoveries::update_many()
            .col_expr(Column::Step, Expr::value(step::RESET))
            .col_expr(Column::AttemptsLeft, Expr::col(Column::AttemptsLeft).add(1))
            .col_expr(Column::TokenHash, Expr::value(token_hash(&token)))
            .col_expr(Column::TokenExpiresAt, Expr::value(self.expiry()))
            .col_expr(Column::UpdatedAt, Expr::value(now()))
            .filter(live_flow())
            .exec(db)
            .await?;
        if advanced.rows_affected != 1 {
            return Err(invalid());
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
    ) -> Result<user::Model, ApiError> {
        let (recovery, user) = find_flow(db, &token_hash(reset_token))
            .await?
            .ok_or_else(invalid)?;
        let live = recovery.step == step::RESET
            && recovery.token_expires_at.is_some_and(|at| at > Utc::now());
        if !live {
            return Err(invalid());
        }
        Ok(user)
    }

    /// Step 4: spends the reset token, sets the password (which ends every session)
    /// and mails a notice.
    pub async fn reset_password(
        &self,
        db: &DatabaseConnection,
        passwords: &Passwords,
        mailer: &Mailer,
        reset_token: &str,
        user: user::Model,
        password: Password,
    ) -> Result<user::Model, ApiError> {
        let password_hash = passwords
            .hash(SecretString::from(password.into_inner()))
            .await?;
        let spent = Recoveries::update_many()
            .col_expr(Column::Step, Expr::value(step::DONE))
            .col_expr(Column::TokenHash, Expr::value(Option::<String>::None))
            .col_expr(
                Column::TokenExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(Column::CodeHash, Expr::value(Option::<String>::None))
            .col_expr(Column::AttemptsLeft, Expr::value(0))
            .col_expr(Column::UpdatedAt, Expr::value(now()))
            .filter(Column::TokenHash.eq(token_hash(reset_token)))
            .filter(Column::Step.eq(step::RESET))
            .filter(Column::UserId.eq(user.id))
            .filter(Column::TokenExpiresAt.gt(Utc::now()))
            .exec(db)
            .await?;
        if spent.rows_affected != 1 {
            return Err(invalid());
        }
        let update = users::Update {
            password_hash: Some(password_hash),
            ..Default::default()
        };
        let user = users::update(db, user.id, update).await?.user;
        tracing::info!(
            user_id = user.id,
            "password reset through recovery; sessions ended"
        );
        mailer.send(self.password_changed_mail(&user)?);
        Ok(user)
    }

    fn code_mail(&self, user: &user::Model, code: &str) -> Result<Mail, ApiError> {
        let app = &self.app_name;
        let minutes = self.ttl.as_secs().div_ceil(60);
        let name = &user.first_name;
        let text = format!(
            "Hello {name},\n\n\
             Your {app} password recovery code is:\n\n    {code}\n\n\
             It is valid for {minutes} minutes and can be used once. Enter it on the \
             recovery screen; you will then answer your security question.\n\n\
             If you did not ask to recover your password, ignore this message: your \
             password has not changed.\n\n-- {app}\n"
        );
        let html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\">\
             <p>Hello {name},</p><p>Your {app} password recovery code is:</p>\
             <p style=\"font-size:28px;font-weight:bold;letter-spacing:6px\">{code}</p>\
             <p>It is valid for {minutes} minutes and can be used once. Enter it on the \
             recovery screen; you will then answer your security question.</p>\
             <p>If you did not ask to recover your password, ignore this message: your \
             password has not changed.</p><p>&mdash; {app}</p></body></html>",
            name = escape_html(name),
            app = escape_html(app),
        );
        Ok(Mail {
            to: mailbox(user)?,
            subject: format!("Your {app} password recovery code"),
            text,
            html,
            kind: "recovery_code",
        })
    }

    pub fn password_changed_mail(&self, user: &user::Model) -> Result<Mail, ApiError> {
        let app = &self.app_name;
        let name = &user.first_name;
        let text = format!(
            "Hello {name},\n\nThe password of your {app} account ({username}) was just \
             changed, and every session was signed out.\n\n\
             If this was not you, recover your account at once and contact your \
             administrator.\n\n-- {app}\n",
            username = user.username,
        );
        let html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\">\
             <p>Hello {name},</p><p>The password of your {app} account ({username}) was \
             just changed, and every session was signed out.</p>\
             <p>If this was not you, recover your account at once and contact your \
             administrator.</p><p>&mdash; {app}</p></body></html>",
            name = escape_html(name),
            app = escape_html(app),
            username = escape_html(&user.username),
        );
        Ok(Mail {
            to: mailbox(user)?,
            subject: format!("Your {app} password was changed"),
            text,
            html,
            kind: "password_changed",
        })
    }
}

/// Reserves one attempt of the flow matching `flow`; `false` when none is left (or
/// the flow is gone, expired or at another step).
async fn spend_attempt(db: &DatabaseConnection, flow: Condition) -> Result<bool, DbErr> {
    let spent = Recoveries::update_many()
        .col_expr(Column::AttemptsLeft, Expr::col(Column::AttemptsLeft).sub(1))
        .filter(flow.add(Column::AttemptsLeft.gt(0)))
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}

async fn find_account(
    db: &DatabaseConnection,
    identifier: &Identifier,
) -> Result<Option<user::Model>, DbErr> {
    let filter = match identifier {
        Identifier::Email(email) => user::Column::Email.eq(email.as_str()),
        Identifier::Mobile(mobile) => user::Column::Mobile.eq(mobile.as_str()),
    };
    // A disabled account cannot recover its password either.
    Users::find()
        .filter(filter)
        .filter(user::Column::DisabledAt.is_null())
        .one(db)
        .await
}

async fn find_flow(
    db: &DatabaseConnection,
    token_hash: &str,
) -> Result<Option<(password_recovery::Model, user::Model)>, DbErr> {
    let found = Recoveries::find()
        .filter(Column::TokenHash.eq(token_hash))
        .find_also_related(Users)
        .filter(user::Column::DisabledAt.is_null())
        .one(db)
        .await?;
    Ok(found.and_then(|(flow, user)| user.map(|user| (flow, user))))
}

/// 256 random bits, hex-encoded; only its SHA-256 is stored.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

fn mailbox(user: &user::Model) -> Result<lettre::message::Mailbox, ApiError> {
    let address = user
        .email
        .parse()
        .map_err(|e| anyhow::anyhow!("stored email of user {} is not deliverable: {e}", user.id))?;
    Ok(lettre::message::Mailbox::new(
        Some(format!("{} {}", user.first_name, user.last_name)),
        address,
    ))
}

fn escape_html(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
