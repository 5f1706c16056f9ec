//! Probes for load balancers and orchestrators, outside `/api/v1`.

use actix_web::web;
use shared::{ErrorResponse, HealthStatus};

use crate::http::error::ApiError;
use crate::http::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/ready", web::get().to(ready));
}

/// Liveness: the process is up and serving.
#[utoipa::path(
    get, path = "/health", tag = "health",
    responses((status = 200, description = "Alive", body = HealthStatus)),
)]
pub async fn health() -> web::Json<HealthStatus> {
    web::Json(HealthStatus {
        status: "ok".to_owned(),
        mail: None,
    })
}

/// Readiness: the database serves the application's tables. The detail shows the outgoing mail queues (a
/// full one drops messages: see `dropped`).
#[utoipa::path(
    get, path = "/ready", tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = HealthStatus),
        (status = 503, description = "The database is unreachable", body = ErrorResponse),
    )
)]
pub async fn ready(state: web::Data<AppState>) -> Result<web::Json<HealthStatus>, ApiError> {
    crate::db::check_ready(&state.db)
        .await
        .map_err(|e| ApiError::Unavailable(e.into()))?;
    Ok(web::Json(HealthStatus {
        status: "ready".to_owned(),
        mail: Some(state.notices.mailer.status()),
    }))
}
