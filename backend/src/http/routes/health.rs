//! Probes for load balancers and orchestrators, outside `/api/v1`.

use actix_web::web;
use shared::{ErrorResponse, HealthStatus};

use crate::http::error::ApiError;
use crate::http::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/ready", web::get().to(ready))
        .route("/metrics", web::get().to(metrics));
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

/// Prometheus metrics, in the text format: requests by route template and status,
/// latency histograms, password-hashing permits in use and their queue wait, the
/// database pool's use and acquire time, the mail queues and failures, throttle and
/// login refusals. Loopback clients may always scrape; others need `METRICS_TOKEN`
/// as a bearer token (without one set, they get 404).
#[utoipa::path(
    get, path = "/metrics", tag = "health",
    security((), ("metrics" = [])),
    responses(
        (status = 200, description = "The metrics", content_type = "text/plain; version=0.0.4", body = String),
        (status = 404, description = "Not for this client", body = ErrorResponse),
    )
)]
pub async fn metrics(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> Result<actix_web::HttpResponse, ApiError> {
    if !may_scrape(&state, &req) {
        return Err(ApiError::NotFound);
    }
    let pool = crate::db::pool_stats(&state.db).await;
    crate::metrics::db_pool(pool.idle, pool.in_use, pool.max, pool.acquire);
    let mail = state.notices.mailer.status();
    crate::metrics::mail(&[
        ("codes_queued", mail.codes_queued),
        ("notices_queued", mail.notices_queued),
        ("dropped", mail.dropped),
        ("failed", mail.failed),
    ]);
    Ok(actix_web::HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::metrics::render()))
}

/// A scraper on this machine (the peer itself, not a forwarded address), or one
/// with the metrics token.
fn may_scrape(state: &AppState, req: &actix_web::HttpRequest) -> bool {
    use secrecy::ExposeSecret;
    let bearer = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (&state.metrics_token, bearer) {
        (Some(token), Some(given)) => {
            // Digests compared, so the time taken says nothing about the token.
            use sha2::{Digest, Sha256};
            Sha256::digest(token.expose_secret().as_bytes()) == Sha256::digest(given.as_bytes())
        }
        _ => req.peer_addr().is_some_and(|peer| peer.ip().is_loopback()),
    }
}
