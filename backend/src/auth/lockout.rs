//! Per-account lockout. Each login attempt first *reserves* a failure with one
//! conditional `UPDATE` (refused while the account is locked), and only then checks
//! the password; a success clears the counter. So parallel attempts cannot exceed the
//! threshold, and every instance sharing the database sees the same count.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use crate::clock::now;
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

/// Counts one failure against `user_id` before its password is checked, setting the
/// lock when the count reaches the threshold. `false` means the account is locked
/// (or disabled) and the password must not be checked.
pub async fn reserve(
    db: &impl ConnectionTrait,
    policy: &LockoutPolicy,
    user_id: i32,
) -> Result<bool, DbErr> {
    let now = now();
    // Highest step first: CASE takes the first branch that holds.
    let mut lock = CaseStatement::new();
    for (failures, wait) in policy.steps().into_iter().rev() {
        let reached = Expr::col(Column::FailedLogins)
            .add(1)
            .gte(i64::from(failures));
        lock = lock.case(reached, Expr::value(Some(now + wait)));
    }
    let lock = lock.finally(Expr::value(Option::<DateTime<Utc>>::None));
    let result = Users::update_many()
        // MySQL evaluates SET left to right with updated values: compute the lock from
        // the old count before the count changes.
        .col_expr(Column::LockedUntil, lock.into())
        .col_expr(Column::FailedLogins, Expr::col(Column::FailedLogins).add(1))
        .filter(Column::Id.eq(user_id))
        .filter(Column::DisabledAt.is_null())
        .filter(
            Condition::any()
                .add(Column::LockedUntil.is_null())
                .add(Column::LockedUntil.lte(now)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Gives back a reservation whose attempt never got an answer (hashing saturated, the
/// database failed): a fault on our side must not count against the account. The
/// lock goes too when the count falls back below the threshold.
pub async fn refund(
    db: &impl ConnectionTrait,
    policy: &LockoutPolicy,
    user_id: i32,
) -> Result<(), DbErr> {
    let below = Expr::col(Column::FailedLogins).lte(i64::from(policy.threshold));
    Users::update_many()
        .col_expr(
            Column::LockedUntil,
            Expr::case(below, Expr::value(Option::<DateTime<Utc>>::None))
                .finally(Expr::col(Column::LockedUntil))
                .into(),
        )
        .col_expr(Column::FailedLogins, Expr::col(Column::FailedLogins).sub(1))
        .filter(Column::Id.eq(user_id))
        .filter(Column::FailedLogins.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// A successful login: clears the failures and records the login time.
pub async fn succeeded(db: &impl ConnectionTrait, user_id: i32) -> Result<DateTime<Utc>, DbErr> {
    let at = now();
    Users::update_many()
        .col_expr(Column::FailedLogins, Expr::value(0))
        .col_expr(
            Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::LastLoginAt, Expr::value(at))
        .filter(Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(at)
}

/// Until when `user_id` is locked, read after a failure.
pub async fn locked_until(
    db: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Option<(i32, DateTime<Utc>)>, DbErr> {
    let row: Option<(i32, Option<DateTime<Utc>>)> = Users::find_by_id(user_id)
        .select_only()
        .columns([Column::FailedLogins, Column::LockedUntil])
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.and_then(|(failures, until)| until.filter(|u| *u > Utc::now()).map(|u| (failures, u))))
}

/// Clears the lock and the failure count: an admin's unlock, or a password proved
/// right outside a login (re-authentication).
pub async fn clear(db: &impl ConnectionTrait, user_id: i32) -> Result<(), DbErr> {
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
