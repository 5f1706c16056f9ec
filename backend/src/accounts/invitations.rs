//! Invitations: an admin invites an address; the mailed code lets its owner sign up
//! while sign-up is by invitation. One live invitation per address (inviting again
//! sends a new code), each with an attempt budget and an expiry.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use shared::validate::Email;

use super::AccountError;
use crate::auth::codes::{Codes, Purpose};
use crate::clock::now;
use crate::db::entity::invitation::{self, Column, Entity as Invitations};
use crate::db::entity::user;

/// Wrong codes allowed per invitation.
pub const ATTEMPTS: i32 = 5;
/// How long an invitation stays valid.
pub const LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

fn hash(codes: &Codes, email: &str, code: &str) -> String {
    codes.hash(Purpose::Invitation, email, code)
}

/// Invites `email` on behalf of `admin`; returns the invitation and its code to mail.
pub async fn create(
    db: &DatabaseConnection,
    codes: &Codes,
    admin: &user::Model,
    email: &Email,
) -> Result<(invitation::Model, String), DbErr> {
    let code = Codes::new_code();
    let now = now();
    let row = invitation::ActiveModel {
        email: Set(email.as_str().to_owned()),
        code_hash: Set(hash(codes, email.as_str(), &code)),
        attempts_left: Set(ATTEMPTS),
        invited_by: Set(Some(admin.id)),
        invited_by_name: Set(Some(admin.username.clone())),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::from_std(LIFETIME).unwrap_or_default()),
        ..Default::default()
    };
    Invitations::insert(row)
        .on_conflict(
            OnConflict::column(Column::Email)
                .update_columns([
                    Column::CodeHash,
                    Column::AttemptsLeft,
                    Column::InvitedBy,
                    Column::InvitedByName,
                    Column::CreatedAt,
                    Column::ExpiresAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let stored = Invitations::find()
        .filter(Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the invitation just written".into()))?;
    Ok((stored, code))
}

/// The invitations not used or expired yet, newest first.
pub async fn list_live(db: &DatabaseConnection) -> Result<Vec<invitation::Model>, DbErr> {
    Invitations::find()
        .filter(Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(Column::CreatedAt)
        .all(db)
        .await
}

/// Withdraws invitation `id`; returns it as it was.
pub async fn revoke(db: &DatabaseConnection, id: i32) -> Result<invitation::Model, AccountError> {
    let found = Invitations::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AccountError::NotFound)?;
    Invitations::delete_by_id(id).exec(db).await?;
    Ok(found)
}

/// The live invitation of `email` if `code` is its code; a wrong code spends one of
/// its attempts. The caller uses it up with the account it creates.
pub async fn check(
    db: &DatabaseConnection,
    codes: &Codes,
    email: &str,
    code: &str,
) -> Result<Option<i32>, DbErr> {
    let live = || {
        Invitations::update_many()
            .filter(Column::Email.eq(email))
            .filter(Column::ExpiresAt.gt(Utc::now()))
            .filter(Column::AttemptsLeft.gt(0))
    };
    let spent = live()
        .col_expr(Column::AttemptsLeft, Expr::col(Column::AttemptsLeft).sub(1))
        .exec(db)
        .await?;
    if spent.rows_affected != 1 {
        return Ok(None);
    }
    let found = Invitations::find()
        .filter(Column::Email.eq(email))
        .filter(Column::CodeHash.eq(hash(codes, email, code)))
        .one(db)
        .await?;
    let Some(found) = found else {
        return Ok(None);
    };
    // The right code gives its attempt back: a later failure of the sign-up itself
    // (a taken username) must not use up the budget.
    Invitations::update_many()
        .col_expr(Column::AttemptsLeft, Expr::col(Column::AttemptsLeft).add(1))
        .filter(Column::Id.eq(found.id))
        .exec(db)
        .await?;
    Ok(Some(found.id))
}
