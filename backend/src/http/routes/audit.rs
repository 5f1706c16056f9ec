//! `/api/v1/audit`: the audit trail, for admins.

use actix_web::web;
use shared::{AuditPage, AuditQuery, Cursor, ErrorResponse, LIST_TOTAL_CAP};

use crate::audit;
use crate::http::error::ApiError;
use crate::http::extract::AdminUser;
use crate::http::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(list_events));
}

/// Audit events, newest first (admins).
///
/// Filter by `actor` or `target` (an account id or username), `action`, and a time
/// range `from` (inclusive) to `to` (exclusive; a bare date includes that day).
/// An account's own actions (login, profile change) name it as both actor and
/// target, so `target` alone gives one account's timeline. `total` counts up to
/// 10,000 (`total_exact: false` past it); `next`/`prev` are cursors to the
/// neighbouring pages, the way past the first 10,000 events.
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit",
    security(("cookie" = []), ("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "One page of events", body = AuditPage),
        (status = 400, description = "Invalid filter", body = ErrorResponse),
        (status = 403, description = "Not an admin", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = admin.user.id))]
pub async fn list_events(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<AuditPage>, ApiError> {
    let filter = query.validate().map_err(ApiError::Validation)?;
    let page = audit::list(&state.db, &filter).await?;
    Ok(web::Json(AuditPage {
        items: page.items.into_iter().map(audit::to_api).collect(),
        total: page.total.min(LIST_TOTAL_CAP),
        total_exact: page.total <= LIST_TOTAL_CAP,
        page: page.page,
        per_page: filter.per_page,
        next: page.next.as_ref().map(Cursor::encode),
        prev: page.prev.as_ref().map(Cursor::encode),
    }))
}
