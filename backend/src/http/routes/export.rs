//! `GET /api/v1/users/export.csv`: the account list, all of it, as a CSV download.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};
use futures::TryStreamExt;
use serde_json::json;
use shared::{AuditAction, ErrorResponse, ExportUsersQuery};

use crate::accounts::{export, policy};
use crate::audit::{self, ClientInfo};
use crate::http::error::ApiError;
use crate::http::extract::AdminUser;
use crate::http::state::AppState;

/// Export accounts as CSV (admins).
///
/// Every account the list would show with the same `q`, `role` and `sort`, all pages,
/// as UTF-8 CSV with a header row: `username,email,first_name,last_name,mobile,role`
/// (the columns the import takes), then `id,email_verified,created_at,updated_at,
/// last_login_at,disabled_at` (RFC 3339 times, empty when unset). A value that would
/// start a spreadsheet formula gets a leading `'`.
#[utoipa::path(
    get, path = "/api/v1/users/export.csv", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(ExportUsersQuery),
    responses(
        (status = 200, description = "The accounts, one per row", content_type = "text/csv", body = String),
        (status = 400, description = "Invalid sort or filter", body = ErrorResponse),
        (status = 403, description = "Not an admin", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = admin.user.id))]
pub async fn export_users(
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    query: web::Query<ExportUsersQuery>,
) -> Result<HttpResponse, ApiError> {
    let params = query.validate().map_err(ApiError::Validation)?;
    let scope = policy::list_scope(&admin.user, state.directory, &params)?;
    tracing::info!(sort = %params.sort, "accounts exported");
    // Who took a copy of the directory, and of which part.
    audit::Event::success(AuditAction::UsersExported)
        .actor(&admin.user)
        .detail(json!({
            "q": params.q,
            "role": params.role,
            "sort": params.sort.to_string(),
        }))
        .record(&state.db, &client)
        .await;
    let rows = export::csv(state.db.clone(), params, scope)
        .map_ok(web::Bytes::from)
        .inspect_err(|err| tracing::error!(error = %err, "the export stopped"));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename("users.csv".to_owned())],
        })
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(rows))
}
