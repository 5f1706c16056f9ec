//! One module per area, each with `configure`; handlers parse, call the domain and
//! answer, nothing more.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod avatars;
pub mod bulk;
mod changes;
pub mod docs;
pub mod export;
pub mod health;
pub mod import;
pub mod invitations;
pub mod mfa;
pub mod passkeys;
pub mod recovery;
pub mod sessions;
pub mod spa;
pub mod users;
pub mod webhooks;

use actix_web::web;
use anyhow::Context;
use shared::FieldErrors;

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// Runs a check that costs CPU (zxcvbn's password estimate takes milliseconds) on the
/// blocking pool, like hashing, so the async workers keep serving.
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

/// Spends one of `account_id`'s hashing tokens, or refuses with 429: one account
/// cannot keep the hashing pool busy, whichever addresses it comes from.
pub async fn spend_hashing(state: &AppState, account_id: i32) -> Result<(), ApiError> {
    state
        .throttles
        .hashing_for(account_id)
        .await
        .map_err(|seconds| {
            tracing::warn!(account_id, "hashing budget of the account spent");
            ApiError::TooManyRequests(seconds)
        })
}

/// The method and full path of every throttled route, from the modules' own lists.
pub fn throttled_routes() -> Vec<(actix_web::http::Method, String)> {
    let area = |scope: &str, routes: Vec<crate::http::middleware::Throttled>| {
        routes
            .into_iter()
            .map(|t| (t.method, format!("/api/v1{scope}{}", t.path)))
            .collect::<Vec<_>>()
    };
    let mut routes = area(auth::SCOPE, auth::throttled());
    routes.extend(area(recovery::SCOPE, recovery::throttled()));
    routes.extend(area(users::SCOPE, users::throttled()));
    routes
}
