//! SeaORM entities, one per table; the schema itself lives in the `migration` crate.

pub mod audit_event;
pub mod first_admin;
pub mod legacy_import;
pub mod password_recovery;
pub mod session;
pub mod user;
