//! SeaORM entities, one per table; the schema itself lives in the `migration` crate.
//! Columns holding one of a fixed set of values are typed ([`shared::Role`],
//! [`shared::SessionKind`], [`shared::AuditAction`], [`shared::Outcome`],
//! [`password_recovery::Step`]), so no code compares them as strings.

pub mod api_key;
pub mod audit_event;
pub mod avatar;
pub mod email_verification;
pub mod first_admin;
pub mod idempotency_key;
pub mod invitation;
pub mod legacy_import;
pub mod mail_budget;
pub mod mfa_challenge;
pub mod mfa_recovery_code;
pub mod mfa_totp;
pub mod passkey;
pub mod passkey_ceremony;
pub mod password_recovery;
pub mod recovery_code;
pub mod session;
pub mod trusted_device;
pub mod user;
pub mod user_search_term;
pub mod webhook_delivery;
pub mod webhook_endpoint;
