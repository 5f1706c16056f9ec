//! Known devices: a client that logged in to an account keeps a random token (a
//! cookie in browsers, `device_token` for API clients) whose hash is stored here, so
//! its later failures count on its own budget (see `lockout::Counter::Device`).

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

use super::codes::{new_token, token_hash};
use crate::clock::now;
use crate::db::entity::trusted_device::{self, Column, Entity as Devices};

/// Devices remembered per account; a new one beyond that replaces the least used.
pub const MAX_DEVICES: u64 = 20;

/// The device behind `token` if it belongs to account `user_id`.
pub async fn find(
    db: &impl ConnectionTrait,
    user_id: i32,
    token: &str,
) -> Result<Option<trusted_device::Model>, DbErr> {
    Devices::find_by_id(token_hash(token))
        .filter(Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// The device of `user_id` whose token hashes to `hash` (a session's device).
pub async fn find_by_hash(
    db: &impl ConnectionTrait,
    user_id: i32,
    hash: &str,
) -> Result<Option<trusted_device::Model>, DbErr> {
    Devices::find_by_id(hash.to_owned())
        .filter(Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// A device just remembered: the token for the client (shown once) and its hash.
pub struct NewDevice {
    pub token: String,
    pub hash: String,
}

/// Remembers a new device for `user_id`. [`forget_beyond_cap`] then keeps the
/// account's devices within [`MAX_DEVICES`]: after the transaction that remembered it
/// has committed, so that it sees the devices parallel logins added.
pub async fn create(db: &impl ConnectionTrait, user_id: i32) -> Result<NewDevice, DbErr> {
    let token = new_token();
    let hash = token_hash(&token);
    let now = now();
    // Not read back (MySQL has no RETURNING): a parallel login of the same account
    // may already have ended it by then.
    Devices::insert(trusted_device::ActiveModel {
        token_hash: Set(hash.clone()),
        user_id: Set(user_id),
        failed_logins: Set(0),
        locked_until: Set(None),
        created_at: Set(now),
        last_used_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(NewDevice { token, hash })
}

/// Forgets `user_id`'s devices beyond [`MAX_DEVICES`], never `kept` (the one just
/// remembered). Devices that never came back go first, then the least recently used:
/// a script that logs in without keeping its token churns its own rows, not the
/// owner's browser.
pub async fn forget_beyond_cap(
    db: &impl ConnectionTrait,
    user_id: i32,
    kept: &str,
) -> Result<(), DbErr> {
    let beyond: Vec<String> = Devices::find()
        .select_only()
        .column(Column::TokenHash)
        .filter(Column::UserId.eq(user_id))
        .filter(Column::TokenHash.ne(kept))
        .order_by(
            Expr::col(Column::LastUsedAt).gt(Expr::col(Column::CreatedAt)),
            Order::Desc,
        )
        .order_by_desc(Column::LastUsedAt)
        .order_by_desc(Column::CreatedAt)
        .offset(MAX_DEVICES - 1)
        .limit(100)
        .into_tuple()
        .all(db)
        .await?;
    if !beyond.is_empty() {
        Devices::delete_many()
            .filter(Column::TokenHash.is_in(beyond))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The devices of `user_id`, most recently used first.
pub async fn of_account(
    db: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Vec<trusted_device::Model>, DbErr> {
    Devices::find()
        .filter(Column::UserId.eq(user_id))
        .order_by_desc(Column::LastUsedAt)
        .all(db)
        .await
}
