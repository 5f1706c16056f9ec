//! Per-account lockout that spares the owner (OWASP's "device cookies"). Each login
//! attempt first *reserves* a failure with one conditional `UPDATE` (refused while
//! locked), and only then checks the password; a success clears the counter. So
//! parallel attempts cannot exceed the threshold, and every instance sharing the
//! database sees the same count. A client that logged in before carries a device
//! token and counts on its own small budget; everyone else shares the account's
//! counter for unknown clients, so a stranger's guesses lock out strangers only.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait, IntoColumnRef, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use crate::clock::now;
use crate::db::entity::trusted_device::{Column as DeviceColumn, Entity as Devices};
use crate::db::entity::user::{Column, Entity as Users, Model as User};

/// After `threshold` consecutive failures the account locks for `base`; each further
/// failure doubles the wait, up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub threshold: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            threshold: 10,
            base: Duration::minutes(1),
            max: Duration::minutes(15),
        }
    }
}

impl LockoutPolicy {
    /// How long the account locks once it has failed `failures` times in a row
    /// (`None` below the threshold).
    pub fn wait(&self, failures: u32) -> Option<Duration> {
        let beyond = failures.checked_sub(self.threshold)?;
        let doubled = 2i32
            .checked_pow(Ord::min(beyond, 30))
            .and_then(|factor| self.base.checked_mul(factor))
            .unwrap_or(self.max);
        Some(doubled.min(self.max))
    }

    /// `(failures, wait)` from the threshold up to the first failure count that waits
    /// `max`; every later count waits `max` too.
    fn steps(&self) -> Vec<(u32, Duration)> {
        let mut steps = Vec::new();
        let mut failures = self.threshold;
        while let Some(wait) = self.wait(failures) {
            steps.push((failures, wait));
            if wait >= self.max {
                break;
            }
            failures += 1;
        }
        steps
    }
}

/// Whether `user` is locked at `now`.
pub fn is_locked(user: &User, now: DateTime<Utc>) -> bool {
    user.locked_until.is_some_and(|until| until > now)
}

/// Where a login's failure counts: the account's counter for unknown clients, or the
/// counter of a device that logged in to it before (its token's hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter<'a> {
    Account(i32),
    Device(&'a str),
}

/// A known device's own budget: small, since its owner knows the password.
pub const DEVICE_THRESHOLD: u32 = 5;

impl LockoutPolicy {
    /// The policy for `counter`: a device gets [`DEVICE_THRESHOLD`] failures, with the
    /// same waits.
    pub fn for_counter(&self, counter: Counter<'_>) -> LockoutPolicy {
        match counter {
            Counter::Account(_) => *self,
            Counter::Device(_) => LockoutPolicy {
                threshold: Ord::min(self.threshold, DEVICE_THRESHOLD),
                ..*self
            },
        }
    }
}

/// The lock a failure sets: highest step first, as CASE takes the first branch that
/// holds.
fn lock_after_failure(policy: &LockoutPolicy, failed: impl IntoColumnRef + Copy) -> SimpleExpr {
    let now = now();
    let mut lock = CaseStatement::new();
    for (failures, wait) in policy.steps().into_iter().rev() {
        let reached = Expr::col(failed).add(1).gte(i64::from(failures));
        lock = lock.case(reached, Expr::value(Some(now + wait)));
    }
    lock.finally(Expr::value(Option::<DateTime<Utc>>::None))
        .into()
}

/// Counts one failure on `counter` before the password is checked, setting the lock
/// when the count reaches the threshold. `false` means it is locked (or the account
/// disabled) and the password must not be checked.
pub async fn reserve(
    db: &impl ConnectionTrait,
    policy: &LockoutPolicy,
    counter: Counter<'_>,
) -> Result<bool, DbErr> {
    let policy = policy.for_counter(counter);
    let now = now();
    // MySQL evaluates SET left to right with updated values: the lock is computed from
    // the old count before the count changes.
    let rows = match counter {
        Counter::Account(id) => {
            Users::update_many()
                .col_expr(
                    Column::LockedUntil,
                    lock_after_failure(&policy, Column::FailedLogins),
                )
                .col_expr(Column::FailedLogins, Expr::col(Column::FailedLogins).add(1))
                .filter(Column::Id.eq(id))
                .filter(Column::DisabledAt.is_null())
                .filter(
                    Column::LockedUntil
                        .is_null()
                        .or(Column::LockedUntil.lte(now)),
                )
                .exec(db)
                .await?
        }
        Counter::Device(hash) => {
            Devices::update_many()
                .col_expr(
                    DeviceColumn::LockedUntil,
                    lock_after_failure(&policy, DeviceColumn::FailedLogins),
                )
                .col_expr(
                    DeviceColumn::FailedLogins,
                    Expr::col(DeviceColumn::FailedLogins).add(1),
                )
                .filter(DeviceColumn::TokenHash.eq(hash))
                .filter(
                    DeviceColumn::LockedUntil
                        .is_null()
                        .or(DeviceColumn::LockedUntil.lte(now)),
                )
                .exec(db)
                .await?
        }
    };
    Ok(rows.rows_affected == 1)
}

/// Gives back a reservation whose attempt never got an answer (hashing saturated, the
/// database failed): a fault on our side must not count. The lock goes too when the
/// count falls back below the threshold.
pub async fn refund(
    db: &impl ConnectionTrait,
    policy: &LockoutPolicy,
    counter: Counter<'_>,
) -> Result<(), DbErr> {
    let threshold = i64::from(policy.for_counter(counter).threshold);
    let unlock = |failed: SimpleExpr, locked: SimpleExpr| -> SimpleExpr {
        Expr::case(
            failed.lte(threshold),
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .finally(locked)
        .into()
    };
    match counter {
        Counter::Account(id) => {
            Users::update_many()
                .col_expr(
                    Column::LockedUntil,
                    unlock(
                        Expr::col(Column::FailedLogins),
                        Expr::col(Column::LockedUntil),
                    ),
                )
                .col_expr(Column::FailedLogins, Expr::col(Column::FailedLogins).sub(1))
                .filter(Column::Id.eq(id))
                .filter(Column::FailedLogins.gt(0))
                .exec(db)
                .await?;
        }
        Counter::Device(hash) => {
            Devices::update_many()
                .col_expr(
                    DeviceColumn::LockedUntil,
                    unlock(
                        Expr::col(DeviceColumn::FailedLogins),
                        Expr::col(DeviceColumn::LockedUntil),
                    ),
                )
                .col_expr(
                    DeviceColumn::FailedLogins,
                    Expr::col(DeviceColumn::FailedLogins).sub(1),
                )
                .filter(DeviceColumn::TokenHash.eq(hash))
                .filter(DeviceColumn::FailedLogins.gt(0))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

/// A successful login through `counter`: clears its failures (an unknown client's
/// success clears the account's; a known device's only its own, so a stranger's lock
/// stays) and records the login time.
pub async fn succeeded(
    db: &impl ConnectionTrait,
    user_id: i32,
    counter: Counter<'_>,
) -> Result<DateTime<Utc>, DbErr> {
    let at = now();
    let mut login = Users::update_many().col_expr(Column::LastLoginAt, Expr::value(at));
    match counter {
        Counter::Account(_) => {
            login = login
                .col_expr(Column::FailedLogins, Expr::value(0))
                .col_expr(
                    Column::LockedUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                );
        }
        Counter::Device(hash) => {
            Devices::update_many()
                .col_expr(DeviceColumn::FailedLogins, Expr::value(0))
                .col_expr(
                    DeviceColumn::LockedUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(DeviceColumn::LastUsedAt, Expr::value(at))
                .filter(DeviceColumn::TokenHash.eq(hash))
                .exec(db)
                .await?;
        }
    }
    login.filter(Column::Id.eq(user_id)).exec(db).await?;
    Ok(at)
}

/// Until when `counter` is locked (and after how many failures), read after a
/// failure.
pub async fn locked_until(
    db: &impl ConnectionTrait,
    counter: Counter<'_>,
) -> Result<Option<(i32, DateTime<Utc>)>, DbErr> {
    let row: Option<(i32, Option<DateTime<Utc>>)> = match counter {
        Counter::Account(id) => {
            Users::find_by_id(id)
                .select_only()
                .columns([Column::FailedLogins, Column::LockedUntil])
                .into_tuple()
                .one(db)
                .await?
        }
        Counter::Device(hash) => {
            Devices::find_by_id(hash.to_owned())
                .select_only()
                .columns([DeviceColumn::FailedLogins, DeviceColumn::LockedUntil])
                .into_tuple()
                .one(db)
                .await?
        }
    };
    Ok(row.and_then(|(failures, until)| until.filter(|u| *u > Utc::now()).map(|u| (failures, u))))
}

/// Clears `counter`'s lock and failure count: a password proved right outside a
/// login (re-authentication).
pub async fn clear(db: &impl ConnectionTrait, counter: Counter<'_>) -> Result<(), DbErr> {
    match counter {
        Counter::Account(id) => clear_account(db, id).await,
        Counter::Device(hash) => clear_devices_where(db, DeviceColumn::TokenHash.eq(hash)).await,
    }
}

async fn clear_account(db: &impl ConnectionTrait, user_id: i32) -> Result<(), DbErr> {
    Users::update_many()
        .col_expr(Column::FailedLogins, Expr::value(0))
        .col_expr(
            Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Clears the counts and locks of every device of `user_id` (a new password: the
/// owner's typos of the old one no longer count).
pub async fn clear_devices(db: &impl ConnectionTrait, user_id: i32) -> Result<(), DbErr> {
    clear_devices_where(db, DeviceColumn::UserId.eq(user_id)).await
}

async fn clear_devices_where(
    db: &impl ConnectionTrait,
    which: impl sea_orm::sea_query::IntoCondition,
) -> Result<(), DbErr> {
    Devices::update_many()
        .col_expr(DeviceColumn::FailedLogins, Expr::value(0))
        .col_expr(
            DeviceColumn::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(which)
        .exec(db)
        .await?;
    Ok(())
}

/// An admin's unlock: the account's lock and every device's.
pub async fn clear_all(db: &impl ConnectionTrait, user_id: i32) -> Result<(), DbErr> {
    clear_account(db, user_id).await?;
    clear_devices(db, user_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_the_threshold_up_to_the_cap() {
        let policy = LockoutPolicy::default();
        assert_eq!(policy.wait(9), None);
        let minutes: Vec<i64> = (10..=16)
            .map(|n| policy.wait(n).unwrap().num_minutes())
            .collect();
        assert_eq!(minutes, [1, 2, 4, 8, 15, 15, 15]);
        assert_eq!(policy.wait(u32::MAX), Some(policy.max));
        assert_eq!(
            policy.steps().iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            [10, 11, 12, 13, 14]
        );
    }
}
