//! The application's clock: every stored timestamp comes from here.

use chrono::{DateTime, SubsecRound, Utc};

/// Now, to whole seconds: MySQL's DATETIME has no fractions, and SQLite should read
/// back exactly what MySQL would.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}
