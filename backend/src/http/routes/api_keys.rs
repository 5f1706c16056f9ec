//! `/api/v1/api-keys`: admins make keys for integrations (with their password, and
//! only from a signed-in session: keys cannot make keys), list and revoke them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde_json::json;
use shared::{ApiKey, AuditAction, CreateApiKeyRequest, CreatedApiKey, ErrorResponse};

use super::changes::reauthenticate;
use crate::audit::{self, ClientInfo};
use crate::auth::api_keys;
use crate::http::error::ApiError;
use crate::http::extract::AdminUser;
use crate::http::idempotency;
use crate::http::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api-keys")
            .route("", web::get().to(list_api_keys))
            .route("", web::post().to(create_api_key))
            .route("/{id}", web::delete().to(revoke_api_key)),
    );
}

/// Create an API key (admins, with their current password).
///
/// The key acts for the admin who made it, within its `scopes`: send
/// `Authorization: Bearer <secret>`. The secret is in this answer only. Send an
/// `Idempotency-Key` header to make a retry safe: the same key and body within 24 h
/// answer the first key again.
#[utoipa::path(
    post, path = "/api/v1/api-keys", tag = "integrations",
    security(("cookie" = []), ("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer (1-255 visible ASCII characters, kept 24 h)")),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "Created; the secret is shown this once", body = CreatedApiKey),
        (status = 400, description = "Invalid name, scopes or expiry, or a wrong current password", body = ErrorResponse),
        (status = 403, description = "Not an admin, or called with an API key", body = ErrorResponse),
        (status = 409, description = "A request with this Idempotency-Key is still running", body = ErrorResponse),
        (status = 422, description = "This Idempotency-Key was used with another body", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = admin.user.id))]
pub async fn create_api_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    body: web::Json<CreateApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let new = body.validate(Utc::now()).map_err(ApiError::Validation)?;
    // Before any replay too: a stolen session without the password gets no secret.
    let device = admin.device_hash.as_deref();
    let password = Some(body.current_password.as_str());
    let action = AuditAction::ApiKeyCreated;
    reauthenticate(&state, &client, &admin.user, device, password, action).await?;
    // The fingerprint leaves the password out: it proves who asks, not what.
    let fingerprint =
        json!({ "name": new.name, "scopes": new.scopes, "expires_at": new.expires_at });
    idempotency::once(
        &req,
        &state,
        &admin,
        "create_api_key",
        &fingerprint,
        || async {
            let (key, secret) = api_keys::create(&state.db, &admin.user, new).await?;
            tracing::info!(key = key.id, "API key created");
            audit::Event::success(AuditAction::ApiKeyCreated)
                .actor(&admin.user)
                .detail(
                    json!({ "key": key.id, "name": key.name, "scopes": api_keys::scopes(&key) }),
                )
                .record(&state.db, &client)
                .await;
            let created = CreatedApiKey {
                key: api_keys::to_api(key),
                secret,
            };
            let body = serde_json::to_value(created).map_err(anyhow::Error::from)?;
            Ok((StatusCode::CREATED, body))
        },
    )
    .await
}

/// Every API key, newest first, revoked ones included (admins).
#[utoipa::path(
    get, path = "/api/v1/api-keys", tag = "integrations",
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Newest first, without secrets", body = Vec<ApiKey>),
        (status = 403, description = "Not an admin, or called with an API key", body = ErrorResponse),
    )
)]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<web::Json<Vec<ApiKey>>, ApiError> {
    let keys = api_keys::list(&state.db).await?;
    Ok(web::Json(keys.into_iter().map(api_keys::to_api).collect()))
}

/// Revoke an API key (admins): it stops working at once.
#[utoipa::path(
    delete, path = "/api/v1/api-keys/{id}", tag = "integrations",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "API key id")),
    responses(
        (status = 204, description = "Revoked (or revoked already)"),
        (status = 403, description = "Not an admin, or called with an API key", body = ErrorResponse),
        (status = 404, description = "No such key", body = ErrorResponse),
    )
)]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    id: web::Path<i32>,
) -> Result<HttpResponse, ApiError> {
    let key = api_keys::revoke(&state.db, id.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    audit::Event::success(AuditAction::ApiKeyRevoked)
        .actor(&admin.user)
        .detail(json!({ "key": key.id, "name": key.name }))
        .record(&state.db, &client)
        .await;
    Ok(HttpResponse::NoContent().finish())
}
