//! `POST /api/v1/users/import`: admins bring accounts from a CSV file (see
//! `accounts::import` for the rules).

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use serde_json::json;
use shared::{AuditAction, ErrorResponse, ImportQuery, ImportReport};

use super::changes::welcome;
use crate::accounts::import::{self, ImportError};
use crate::audit::{self, ClientInfo};
use crate::http::error::ApiError;
use crate::http::extract::AdminUser;
use crate::http::state::AppState;

/// The largest file taken: 10,000 rows with hashes fit several times over.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

impl From<ImportError> for ApiError {
    fn from(err: ImportError) -> Self {
        match err {
            ImportError::File(why) => ApiError::BadRequest(why),
            ImportError::Account(err) => err.into(),
            ImportError::Database(err) => err.into(),
        }
    }
}

/// Import accounts from CSV (admins).
///
/// The body is `text/csv` with a header naming the columns `username, email,
/// first_name, last_name, mobile, role` and optionally `password_hash` (bcrypt or
/// argon2 PHC), at most 10,000 rows. Accounts are matched by username: new ones are
/// created, known ones updated. Each row is reported as created, updated or skipped
/// with the reason; with `dry_run=true` nothing is written. Accounts created without
/// a hash get the address-verification mail and set a password with "forgot password".
#[utoipa::path(
    post, path = "/api/v1/users/import", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        example = "username,email,first_name,last_name,mobile,role\nada,ada@example.com,Ada,Lovelace,+15550100001,user\n"),
    responses(
        (status = 200, description = "What was done (or would be, in a dry run), row by row", body = ImportReport),
        (status = 400, description = "Not a CSV import: its header, encoding or size", body = ErrorResponse),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 413, description = "Larger than 8 MB", body = ErrorResponse),
        (status = 415, description = "Not sent as text/csv", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = admin.user.id))]
pub async fn import_users(
    req: HttpRequest,
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<web::Json<ImportReport>, ApiError> {
    let csv = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim() == "text/csv"));
    if !csv {
        return Err(ApiError::UnsupportedMediaType("Send the file as text/csv."));
    }
    let body = payload
        .to_bytes_limited(MAX_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge("The file is larger than 8 MB."))?
        .map_err(|_| ApiError::BadRequest("The upload could not be read.".to_owned()))?;
    let dry_run = query.dry_run;
    let imported = import::import(&state.db, &state.auth.passwords, &body, dry_run).await?;
    for user in &imported.without_password {
        welcome(&state, &client, user).await?;
    }
    let report = ImportReport::new(dry_run, imported.rows);
    tracing::info!(
        dry_run,
        created = report.created,
        updated = report.updated,
        skipped = report.skipped,
        "accounts imported"
    );
    if !dry_run {
        audit::Event::success(AuditAction::UsersImported)
            .actor(&admin.user)
            .detail(json!({ "created": report.created, "updated": report.updated, "skipped": report.skipped }))
            .record(&state.db, &client)
            .await;
    }
    Ok(web::Json(report))
}
