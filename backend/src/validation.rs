//! Validation that costs CPU (zxcvbn's password estimate takes milliseconds) runs on
//! the blocking pool, like hashing, so the async workers keep serving.

use actix_web::web;
use anyhow::Context;
use shared::FieldErrors;

use crate::error::ApiError;

pub async fn off_thread<T, F>(check: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, FieldErrors> + Send + 'static,
{
    web::block(check)
        .await
        .context("validation task failed")?
        .map_err(ApiError::Validation)
}
