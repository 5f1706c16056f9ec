//! Types and rules shared by the API server and the browser app.
//!
//! This crate compiles to WebAssembly: server-only derives sit behind features
//! (`openapi`: OpenAPI schemas; `db`: SeaORM column types; `strength`: zxcvbn).

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod common;
pub mod cursor;
pub mod import;
pub mod mfa;
pub mod passkeys;
pub mod recovery;
pub mod registration;
pub mod search;
pub mod sessions;
pub mod validate;
pub mod webhooks;

pub use accounts::*;
pub use api_keys::*;
pub use audit::*;
pub use auth::*;
pub use common::{
    ErrorBody, ErrorResponse, HealthStatus, MailQueueStatus, MessageResponse, UnknownValue,
};
pub use cursor::Cursor;
pub use import::*;
pub use mfa::*;
pub use passkeys::*;
pub use recovery::*;
pub use registration::*;
pub use sessions::*;
pub use validate::{FieldErrors, Strength};
pub use webhooks::*;
