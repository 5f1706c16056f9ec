//! `POST /api/v1/users/bulk`: one action for several accounts, as an admin would do
//! it to each in turn. Every account gets the same rules (not yourself, keep one
//! admin), its own audit event, and its own outcome in the answer.

use actix_web::web;
use shared::{BulkAction, BulkOutcome, BulkRequest, BulkResponse, ErrorResponse, UserChanges};

use super::changes::{change_account, deleted, set_disabled};
use crate::accounts::{self, policy};
use crate::audit::ClientInfo;
use crate::http::error::ApiError;
use crate::http::extract::AdminUser;
use crate::http::state::AppState;

/// Disable, enable, delete or change the role of several accounts (admins).
///
/// Each account is handled as its own call would handle it, in the order given; one
/// refused (your own account, the last admin, an unknown id) does not stop the rest.
/// The answer lists each account's outcome with the error it got.
#[utoipa::path(
    post, path = "/api/v1/users/bulk", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    request_body = BulkRequest,
    responses(
        (status = 200, description = "Each account's outcome", body = BulkResponse),
        (status = 400, description = "No ids, too many, repeated ones, or a missing role", body = ErrorResponse),
        (status = 403, description = "Not an admin", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = admin.user.id))]
pub async fn bulk_action(
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    body: web::Json<BulkRequest>,
) -> Result<web::Json<BulkResponse>, ApiError> {
    body.validate().map_err(ApiError::Validation)?;
    let request = body.into_inner();
    let mut results = Vec::with_capacity(request.ids.len());
    for &id in &request.ids {
        let outcome = apply(&state, &client, &admin, &request, id).await;
        results.push(BulkOutcome {
            id,
            ok: outcome.is_ok(),
            error: outcome.err().map(ApiError::into_body),
        });
    }
    let done = results.iter().filter(|r| r.ok).count();
    tracing::info!(action = %request.action, done, asked = results.len(), "bulk action");
    Ok(web::Json(BulkResponse {
        done: u32::try_from(done).unwrap_or(u32::MAX),
        failed: u32::try_from(results.len() - done).unwrap_or(u32::MAX),
        results,
    }))
}

async fn apply(
    state: &AppState,
    client: &ClientInfo,
    admin: &AdminUser,
    request: &BulkRequest,
    id: i32,
) -> Result<(), ApiError> {
    match request.action {
        BulkAction::Disable => {
            policy::check_disable(&admin.user, id)?;
            set_disabled(state, client, admin, id, true).await?;
        }
        BulkAction::Enable => {
            set_disabled(state, client, admin, id, false).await?;
        }
        BulkAction::Delete => {
            let account = accounts::delete(&state.db, id, None).await?;
            deleted(state, client, admin, &account).await;
        }
        BulkAction::SetRole => {
            let target = accounts::get(&state.db, id).await?;
            let changes = UserChanges {
                role: request.role,
                ..UserChanges::default()
            };
            change_account(state, client, admin, &target, changes, None, None).await?;
        }
    }
    Ok(())
}
