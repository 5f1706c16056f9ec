//! Hourly budgets counted in a row of their own: a count and the start of its window,
//! updated in one conditional `UPDATE`, so every instance agrees and parallel
//! requests cannot overspend. MySQL evaluates `SET` left to right with the values
//! already assigned, so the count (and anything else reset with the window) must be
//! set *before* the window's start, and see the old start, as SQLite does.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ColumnTrait, Condition};

/// The hour-long window whose start is in `start`, as seen at `now`.
pub struct HourlyWindow<C> {
    start: C,
    now: DateTime<Utc>,
    ended: SimpleExpr,
}

impl<C: ColumnTrait> HourlyWindow<C> {
    pub fn at(now: DateTime<Utc>, start: C) -> Self {
        let ended = Expr::col(start).lte(now - chrono::Duration::hours(1));
        Self { start, now, ended }
    }

    /// `count` after one more: 1 in a new window, else one more than now.
    pub fn counted(&self, count: C) -> SimpleExpr {
        self.or_reset(1, Expr::col(count).add(1))
    }

    /// `reset` in a new window, `otherwise` in the current one.
    pub fn or_reset(&self, reset: impl Into<SimpleExpr>, otherwise: SimpleExpr) -> SimpleExpr {
        Expr::case(self.ended.clone(), reset)
            .finally(otherwise)
            .into()
    }

    /// The window's start after this update (set it last).
    pub fn start(&self) -> SimpleExpr {
        self.or_reset(self.now, Expr::col(self.start))
    }

    /// Rows with room for one more: a new window, or `count` below `limit`.
    pub fn has_room(&self, count: C, limit: i32) -> Condition {
        Condition::any()
            .add(self.ended.clone())
            .add(count.lt(limit))
    }
}
