//! SeaORM entities, one per table; the schema itself lives in the `migration` crate.

pub mod password_recovery;
pub mod session;
pub mod user;
