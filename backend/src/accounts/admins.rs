//! The two admin rules: the first account becomes the admin (exactly one, however
//! many sign up at once), and the last active admin cannot be removed.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};
use shared::Role;

use super::{AccountError, Creation};
use crate::clock::now;
use crate::db::{self, entity::first_admin, entity::user};

/// After inserting `model` (in `txn`): every admin created before any other account
/// claims the first-admin marker, so that a database bootstrapped with
/// `create-admin` promotes no later signup; a signup (no explicit role) that wins the
/// claim becomes the admin.
pub(super) async fn settle_first_admin(
    txn: &DatabaseTransaction,
    model: user::Model,
    creation: &Creation,
) -> Result<user::Model, AccountError> {
    let role = creation.role;
    let claimed = if role.is_none_or(|r| r == Role::Admin) {
        claim_first_admin(txn, model.id).await?
    } else {
        false
    };
    if !claimed && creation.first_admin_only {
        return Err(AccountError::Refused(
            "Another account was just made the first one; sign up again.".to_owned(),
        ));
    }
    if role.is_some() || !claimed {
        return Ok(model);
    }
    if creation.setup_token_ok == Some(false) {
        return Err(AccountError::Refused(
            "This instance has no admin yet: the first account needs the setup token \
             printed at start-up (or use `backend create-admin`)."
                .to_owned(),
        ));
    }
    let mut promote = model.into_active_model();
    promote.role = Set(Role::Admin);
    Ok(promote.update(txn).await?)
}

/// Whether the first-admin rule is settled (an admin was made, or an import closed
/// it): then no sign-up becomes admin, and none needs the setup token.
pub async fn first_admin_settled(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(first_admin::Entity::find_by_id(1).one(db).await?.is_some())
}

/// Records `user_id` as the first admin unless an account already is. The primary key
/// settles concurrent first signups: exactly one claim succeeds.
async fn claim_first_admin(txn: &impl ConnectionTrait, user_id: i32) -> Result<bool, DbErr> {
    // A plain insert: the conflict must be seen, and MySQL's upsert polyfill reports a
    // found row like an inserted one.
    let claim = first_admin::ActiveModel {
        id: Set(1),
        user_id: Set(user_id),
        created_at: Set(now()),
    };
    match first_admin::Entity::insert(claim)
        .exec_without_returning(txn)
        .await
    {
        Ok(_) => Ok(true),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Ok(false)
        }
        Err(err) => Err(err),
    }
}

/// Settles the first-admin rule without promoting anyone: used once accounts exist
/// that did not sign up (an import), so that no later signup becomes admin by being
/// "first". Admins are then made with `create-admin` or by another admin.
pub async fn close_first_admin_claim(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    claim_first_admin(db, 0).await.map(|_| ())
}

/// Whether any enabled admin account exists.
pub async fn any_admin(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    let admin = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin))
        .filter(user::Column::DisabledAt.is_null())
        .one(db)
        .await?;
    Ok(admin.is_some())
}

/// Opens a write transaction holding account `id`'s row. With `lock_admins`, the
/// enabled admins' rows are locked first: the lock order of every change that may
/// take an admin away, so two of them queue instead of deadlocking. With
/// `removes_admin`, the change is refused if `id` is the last active admin.
pub(super) async fn lock_for_change(
    db: &DatabaseConnection,
    id: i32,
    lock_admins: bool,
    removes_admin: bool,
) -> Result<(DatabaseTransaction, user::Model), AccountError> {
    let txn = db::begin_write(db).await?;
    let admins = match lock_admins || removes_admin {
        true => Some(locked_admins(&txn).await?),
        false => None,
    };
    let current = user::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AccountError::NotFound)?;
    if removes_admin && current.is_active_admin() && admins.is_some_and(|ids| ids.len() <= 1) {
        return Err(AccountError::Conflict(
            "This is the last admin account; make another admin first.",
        ));
    }
    Ok((txn, current))
}

/// The ids of enabled admins, locked (on MySQL) until the transaction ends.
async fn locked_admins(txn: &impl ConnectionTrait) -> Result<Vec<i32>, DbErr> {
    user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Role.eq(Role::Admin))
        .filter(user::Column::DisabledAt.is_null())
        .order_by_asc(user::Column::Id)
        .lock_exclusive()
        .into_tuple()
        .all(txn)
        .await
}
