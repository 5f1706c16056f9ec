//! Sessions: your own browser logins and API tokens under `/api/v1/auth/sessions`,
//! and an admin ending all of an account's (`/api/v1/users/{id}/sessions`).

use actix_web::{HttpResponse, web};
use serde_json::json;
use shared::{AuditAction, ErrorResponse, RevokedSessions, SessionInfo, SessionListQuery};

use crate::accounts;
use crate::audit::{self, ClientInfo};
use crate::auth::session;
use crate::http::error::ApiError;
use crate::http::extract::{AccountPath, AdminUser, CurrentUser, Via};
use crate::http::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/auth/sessions")
            .route("", web::get().to(list_sessions))
            .route("/others", web::delete().to(revoke_other_sessions))
            .route("/{id}", web::delete().to(revoke_session)),
    )
    .route(
        "/users/{id}/sessions",
        web::delete().to(revoke_user_sessions),
    );
}

/// Your live sessions: browser logins and API tokens.
///
/// A page at a time (`page`, `per_page`, default 50); `X-Total-Count` says how many
/// there are. An account keeps at most `SESSIONS_PER_ACCOUNT` (50): a new login
/// beyond that ends the oldest.
#[utoipa::path(
    get, path = "/api/v1/auth/sessions", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    params(SessionListQuery),
    responses(
        (status = 200, description = "Newest first; `current` marks this one", body = Vec<SessionInfo>,
         headers(("X-Total-Count" = u64, description = "Live sessions in all"))),
        (status = 400, description = "Invalid paging", body = ErrorResponse),
    ),
)]
pub async fn list_sessions(
    state: web::Data<AppState>,
    current: CurrentUser,
    query: web::Query<SessionListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.validate().map_err(ApiError::Validation)?;
    let (sessions, total) =
        session::list_live(&state.db, current.user.id, page.page, page.per_page).await?;
    let items: Vec<SessionInfo> = sessions
        .into_iter()
        .map(|s| session::to_api(s, &current.session_id))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("X-Total-Count", total.to_string()))
        .json(items))
}

/// End one of your sessions.
///
/// Ending the current one is a logout: the cookie is cleared.
#[utoipa::path(
    delete, path = "/api/v1/auth/sessions/{id}", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "The session's `id` from the list")),
    responses(
        (status = 204, description = "The session ended"),
        (status = 404, description = "No such live session of yours", body = ErrorResponse),
    )
)]
pub async fn revoke_session(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let target = session::find_by_handle(&state.db, current.user.id, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    session::revoke(&state.db, &target.id).await?;
    audit::Event::success(AuditAction::SessionRevoked)
        .by(&current.user)
        .detail(json!({ "session": id.as_str(), "current": target.id == current.session_id }))
        .record(&state.db, &client)
        .await;
    let mut response = HttpResponse::NoContent();
    if target.id == current.session_id && current.via == Via::Cookie {
        response.cookie(state.cookie.clear());
    }
    Ok(response.finish())
}

/// End all your sessions except this one.
#[utoipa::path(
    delete, path = "/api/v1/auth/sessions/others", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, description = "How many sessions ended", body = RevokedSessions)),
)]
pub async fn revoke_other_sessions(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
) -> Result<web::Json<RevokedSessions>, ApiError> {
    let revoked =
        session::revoke_all_except(&state.db, current.user.id, &current.session_id).await?;
    audit::Event::success(AuditAction::SessionRevoked)
        .by(&current.user)
        .detail(json!({ "others": revoked }))
        .record(&state.db, &client)
        .await;
    Ok(web::Json(RevokedSessions { revoked }))
}

/// End every session of an account (admins): its browser logins and API tokens.
#[utoipa::path(
    delete, path = "/api/v1/users/{id}/sessions", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Account id")),
    responses(
        (status = 200, description = "How many sessions ended", body = RevokedSessions),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 404, description = "No such account", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = admin.user.id, target = account.id))]
pub async fn revoke_user_sessions(
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    account: AccountPath,
) -> Result<web::Json<RevokedSessions>, ApiError> {
    let user = accounts::get(&state.db, account.id).await?;
    let revoked = session::revoke_all(&state.db, user.id).await?;
    audit::Event::success(AuditAction::SessionRevoked)
        .actor(&admin.user)
        .target(&user)
        .detail(json!({ "all": revoked }))
        .record(&state.db, &client)
        .await;
    Ok(web::Json(RevokedSessions { revoked }))
}
