//! Proving an address: a 6-digit code mailed to it (at sign-up, and for every new
//! address) that the owner enters while logged in. A new address is held as
//! `pending_email` and replaces `email` only when its code comes back; the codes have
//! the recovery codes' properties (CSPRNG, keyed hash bound to account and address,
//! single use, expiry, an attempt budget, an hourly mail budget).

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect, Set,
};

use super::AccountError;
use crate::auth::codes::{Codes, Purpose};
use crate::clock::now;
use crate::db;
use crate::db::entity::email_verification::{self, Column, Entity as Verifications};
use crate::db::entity::user;
use crate::db::window::HourlyWindow;
use crate::recovery::store as recovery_flows;

/// Wrong codes allowed per code sent.
pub const ATTEMPTS: i32 = 5;
/// Codes mailed per account per hour.
pub const MAILS_PER_HOUR: i32 = 5;

/// Issues and checks verification codes.
#[derive(Clone)]
pub struct EmailCodes {
    codes: Codes,
    ttl: Duration,
}

impl EmailCodes {
    pub fn new(codes: Codes, ttl: Duration) -> Self {
        Self { codes, ttl }
    }

    fn hash(&self, user_id: i32, address: &str, code: &str) -> String {
        self.codes.hash(
            Purpose::EmailVerification,
            &format!("{user_id}:{address}"),
            code,
        )
    }

    /// The address `user` should prove next: the pending one, else the current one
    /// while it is unverified.
    pub fn address_to_prove(user: &user::Model) -> Option<&str> {
        user.pending_email
            .as_deref()
            .or((user.email_verified_at.is_none()).then_some(user.email.as_str()))
    }

    /// A fresh code for `address` (replacing any earlier one), unless the account's
    /// hourly mail budget is spent (`None`).
    pub async fn issue(
        &self,
        db: &DatabaseConnection,
        user_id: i32,
        address: &str,
    ) -> Result<Option<String>, DbErr> {
        let now = now();
        Verifications::insert(email_verification::ActiveModel {
            user_id: Set(user_id),
            email: Set(address.to_owned()),
            code_hash: Set(String::new()),
            expires_at: Set(now),
            attempts_left: Set(0),
            window_started_at: Set(now),
            mails_in_window: Set(0),
            updated_at: Set(now),
        })
        .on_conflict_do_nothing()
        .exec(db)
        .await?;
        let code = Codes::new_code();
        let window = HourlyWindow::at(now, Column::WindowStartedAt);
        let expires_at = now + chrono::Duration::from_std(self.ttl).unwrap_or_default();
        let issued = Verifications::update_many()
            .col_expr(Column::MailsInWindow, window.counted(Column::MailsInWindow))
            .col_expr(Column::WindowStartedAt, window.start())
            .col_expr(Column::Email, Expr::value(address))
            .col_expr(
                Column::CodeHash,
                Expr::value(self.hash(user_id, address, &code)),
            )
            .col_expr(Column::ExpiresAt, Expr::value(expires_at))
            .col_expr(Column::AttemptsLeft, Expr::value(ATTEMPTS))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::UserId.eq(user_id))
            .filter(window.has_room(Column::MailsInWindow, MAILS_PER_HOUR))
            .exec(db)
            .await?;
        Ok((issued.rows_affected == 1).then_some(code))
    }

    /// Checks `code` for account `user_id`; the address it was mailed to becomes the
    /// verified email (a pending one replaces the old). A wrong code spends an
    /// attempt, even when the rest fails.
    pub async fn verify(
        &self,
        db: &DatabaseConnection,
        user_id: i32,
        code: &str,
    ) -> Result<user::Model, AccountError> {
        let live = || {
            Condition::all()
                .add(Column::UserId.eq(user_id))
                .add(Column::ExpiresAt.gt(Utc::now()))
                .add(Column::AttemptsLeft.gt(0))
        };
        let spent = Verifications::update_many()
            .col_expr(Column::AttemptsLeft, Expr::col(Column::AttemptsLeft).sub(1))
            .filter(live())
            .exec(db)
            .await?;
        if spent.rows_affected != 1 {
            return Err(AccountError::WrongCode);
        }
        let txn = db::begin_write(db).await?;
        let row = Verifications::find_by_id(user_id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or(AccountError::WrongCode)?;
        if row.code_hash != self.hash(user_id, &row.email, code) {
            return Err(AccountError::WrongCode);
        }
        let current = user::Entity::find_by_id(user_id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or(AccountError::NotFound)?;
        let proved_current = row.email == current.email;
        let proved_pending = current.pending_email.as_deref() == Some(row.email.as_str());
        if !proved_current && !proved_pending {
            // The address changed since this code was sent.
            return Err(AccountError::WrongCode);
        }
        let current_before = current.clone();
        let mut model = current.into_active_model();
        model.email = Set(row.email.clone());
        model.pending_email = Set(None);
        model.email_verified_at = Set(Some(now()));
        model.updated_at = Set(now());
        let verified = model.update(&txn).await?;
        if super::search::changes_terms(&current_before, &verified) {
            super::search::reindex(&txn, std::slice::from_ref(&verified)).await?;
        }
        Verifications::delete_by_id(user_id).exec(&txn).await?;
        if proved_pending {
            recovery_flows::cancel(&txn, user_id).await?;
        }
        txn.commit().await?;
        Ok(verified)
    }
}
