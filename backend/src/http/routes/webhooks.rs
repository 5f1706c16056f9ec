//! `/api/v1/webhooks`: admins register receivers of account events, read each one's
//! recent deliveries and resend one. Deliveries are made by `integrations::webhooks`.

use actix_web::{HttpResponse, web};
use serde_json::json;
use shared::{
    AuditAction, CreateWebhookRequest, CreatedWebhook, ErrorResponse, WebhookDelivery,
    WebhookEndpoint,
};

use crate::audit::{self, ClientInfo};
use crate::http::error::ApiError;
use crate::http::extract::AdminUser;
use crate::http::state::AppState;
use crate::integrations::webhooks::{self, WebhookError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/webhooks")
            .route("", web::get().to(list_webhooks))
            .route("", web::post().to(create_webhook))
            .route("/{id}", web::delete().to(delete_webhook))
            .route("/{id}/deliveries", web::get().to(list_deliveries))
            .route(
                "/{id}/deliveries/{delivery}/resend",
                web::post().to(resend_delivery),
            ),
    );
}

impl From<WebhookError> for ApiError {
    fn from(err: WebhookError) -> Self {
        match err {
            WebhookError::Url(why) => ApiError::field("url", why),
            WebhookError::Database(err) => err.into(),
        }
    }
}

/// Register a webhook receiver (admins).
///
/// Each event is POSTed as `{type, timestamp, data}` with the Standard Webhooks
/// headers `webhook-id`, `webhook-timestamp` and `webhook-signature`
/// (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under the secret's bytes).
/// Answer 2xx to acknowledge; anything else is retried with backoff for about 24 h.
/// The same `webhook-id` may arrive more than once: drop repeats.
#[utoipa::path(
    post, path = "/api/v1/webhooks", tag = "integrations",
    security(("cookie" = []), ("bearer" = [])),
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Registered; the signing secret is shown this once", body = CreatedWebhook),
        (status = 400, description = "Invalid URL or events, or an address that is not allowed", body = ErrorResponse),
        (status = 403, description = "Not an admin", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = admin.user.id))]
pub async fn create_webhook(
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    body: web::Json<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let new = body.validate().map_err(ApiError::Validation)?;
    let settings = state.webhooks.settings();
    let (endpoint, secret) = webhooks::create(&state.db, settings, new).await?;
    audit::Event::success(AuditAction::WebhookCreated)
        .actor(&admin.user)
        .detail(json!({ "webhook": endpoint.id, "events": endpoint.events }))
        .record(&state.db, &client)
        .await;
    Ok(HttpResponse::Created().json(CreatedWebhook {
        endpoint: webhooks::endpoint_to_api(endpoint),
        secret,
    }))
}

/// The registered receivers (admins).
#[utoipa::path(
    get, path = "/api/v1/webhooks", tag = "integrations",
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Oldest first, without secrets", body = Vec<WebhookEndpoint>),
        (status = 403, description = "Not an admin", body = ErrorResponse),
    )
)]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<web::Json<Vec<WebhookEndpoint>>, ApiError> {
    let endpoints = webhooks::list(&state.db).await?;
    Ok(web::Json(
        endpoints
            .into_iter()
            .map(webhooks::endpoint_to_api)
            .collect(),
    ))
}

/// Remove a receiver and its pending deliveries (admins).
#[utoipa::path(
    delete, path = "/api/v1/webhooks/{id}", tag = "integrations",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 404, description = "No such webhook", body = ErrorResponse),
    )
)]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    id: web::Path<i32>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    if !webhooks::delete(&state.db, id).await? {
        return Err(ApiError::NotFound);
    }
    audit::Event::success(AuditAction::WebhookDeleted)
        .actor(&admin.user)
        .detail(json!({ "webhook": id }))
        .record(&state.db, &client)
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// A receiver's 50 most recent deliveries, newest first (admins).
#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}/deliveries", tag = "integrations",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "Newest first", body = Vec<WebhookDelivery>),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 404, description = "No such webhook", body = ErrorResponse),
    )
)]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<i32>,
) -> Result<web::Json<Vec<WebhookDelivery>>, ApiError> {
    let id = id.into_inner();
    webhooks::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let rows = webhooks::recent_deliveries(&state.db, id).await?;
    Ok(web::Json(
        rows.into_iter().map(webhooks::delivery_to_api).collect(),
    ))
}

/// Send a delivery again, now, with a fresh retry budget (admins).
#[utoipa::path(
    post, path = "/api/v1/webhooks/{id}/deliveries/{delivery}/resend", tag = "integrations",
    security(("cookie" = []), ("bearer" = [])),
    params(
        ("id" = i32, Path, description = "Webhook id"),
        ("delivery" = i64, Path, description = "Delivery id"),
    ),
    responses(
        (status = 202, description = "Queued: it goes out within a second", body = WebhookDelivery),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 404, description = "No such delivery of this webhook", body = ErrorResponse),
    )
)]
pub async fn resend_delivery(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<(i32, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery) = path.into_inner();
    let row = webhooks::resend(&state.db, id, delivery)
        .await?
        .ok_or(ApiError::NotFound)?;
    state.webhooks.wake();
    Ok(HttpResponse::Accepted().json(webhooks::delivery_to_api(row)))
}
