//! Types and rules shared by the API server and the browser app.
//!
//! This crate compiles to WebAssembly: server-only derives (OpenAPI schemas) sit behind
//! the `openapi` feature.

pub mod api;
pub mod audit;
pub mod recovery;
pub mod validate;

pub use api::*;
pub use audit::*;
pub use recovery::*;
pub use validate::{FieldErrors, Strength};
