//! Hourly mail budgets, shared by every instance through the database: per recipient
//! and lane (codes and notices count apart, so a flood of notices cannot spend the
//! budget a recovery code needs) and per account and kind, so nobody can use the app
//! to flood an inbox, whichever door they come through.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::clock::now;
use crate::db::entity::mail_budget::{self, Column, Entity as Budgets};
use crate::db::window::HourlyWindow;
use crate::mail::Lane;

/// Messages one address may receive per hour in one lane, all kinds together.
pub const PER_RECIPIENT: i32 = 20;
/// Messages of one kind about one account per hour.
pub const PER_ACCOUNT_KIND: i32 = 5;

/// The key of `address`'s budget in `lane` (a digest: the table holds no addresses).
pub fn recipient_key(lane: Lane, address: &str) -> String {
    let digest = Sha256::digest(address.trim().to_lowercase().as_bytes());
    let lane = match lane {
        Lane::Codes => "codes",
        Lane::Notices => "notices",
    };
    format!("to:{lane}:{}", hex::encode(&digest[..16]))
}

pub fn account_key(user_id: i32, kind: &str) -> String {
    format!("account:{user_id}:{kind}")
}

/// Spends one message from `key`'s budget of `per_hour`; `false` when it is spent.
pub async fn spend(db: &impl ConnectionTrait, key: &str, per_hour: i32) -> Result<bool, DbErr> {
    let now = now();
    Budgets::insert(mail_budget::ActiveModel {
        key: Set(key.to_owned()),
        window_started_at: Set(now),
        sent: Set(0),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;
    let window = HourlyWindow::at(now, Column::WindowStartedAt);
    let spent = Budgets::update_many()
        .col_expr(Column::Sent, window.counted(Column::Sent))
        .col_expr(Column::WindowStartedAt, window.start())
        .filter(Column::Key.eq(key))
        .filter(window.has_room(Column::Sent, per_hour))
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}

/// Forgets windows that ended over an hour ago: the table holds only live budgets.
pub async fn purge_expired(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let done = Budgets::delete_many()
        .filter(Column::WindowStartedAt.lte(now() - chrono::Duration::hours(2)))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}
