//! `/api/v1/users`: everyone logged in may read; admins manage; users may edit only
//! their own profile, never a role.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use chrono::Utc;
use serde_json::json;
use shared::{
    AuditAction, CreateUserRequest, Cursor, DeviceState, ErrorResponse, LIST_TOTAL_CAP,
    ListUsersQuery, LockoutState, Role, UpdateUserRequest, User, UserPage,
};

use super::changes::{change_account, deleted, set_disabled, welcome};
use super::{avatars, bulk, export, import};
use super::{off_thread, spend_hashing};
use crate::accounts::{self, Creation, policy};
use crate::audit::{self, ClientInfo};
use crate::auth::devices;
use crate::db::entity::user;
use crate::http::error::ApiError;
use crate::http::extract::{AccountPath, AdminUser, CurrentUser, Precondition};
use crate::http::idempotency;
use crate::http::middleware::{Throttled, throttled_scope};
use crate::http::state::AppState;
use crate::http::throttle::Bucket;

pub const SCOPE: &str = "/users";

/// The routes that hash passwords, behind the per-IP hashing bucket.
pub fn throttled() -> Vec<Throttled> {
    vec![
        Throttled::post("", Bucket::Hashing, create_user),
        Throttled::put("/{id}", Bucket::Hashing, update_user),
    ]
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        throttled_scope(SCOPE, throttled())
            .route("", web::get().to(list_users))
            // Before `/{id}`, which would take `export.csv` for an id.
            .route("/export.csv", web::get().to(export::export_users))
            .route("/bulk", web::post().to(bulk::bulk_action))
            .route("/import", web::post().to(import::import_users))
            .route("/{id}", web::get().to(get_user))
            .route("/{id}", web::delete().to(delete_user))
            .route("/{id}/disable", web::post().to(disable_user))
            .route("/{id}/enable", web::post().to(enable_user))
            .route("/{id}/unlock", web::post().to(unlock_user))
            .route("/{id}/lockout", web::get().to(lockout_state))
            .route("/{id}/mfa", web::delete().to(super::mfa::reset_user_mfa))
            .route("/{id}/avatar", web::get().to(avatars::avatar))
            .route("/{id}/avatar", web::put().to(avatars::upload_avatar))
            .route("/{id}/avatar", web::delete().to(avatars::remove_avatar)),
    );
}

/// List accounts, a page at a time.
///
/// `q` finds accounts where each of its words starts a word of the username, email,
/// first name, last name or mobile, case-insensitively ("ada lov", "example.org",
/// "hopper123"). Sorted by `created_at` unless `sort` says otherwise. `page` numbers
/// reach the first 10,000 matches; from any page on, follow its `next` / `prev`
/// cursors, which read from the index at any depth.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(ListUsersQuery),
    responses(
        (status = 200, description = "One page of accounts", body = UserPage),
        (status = 400, description = "Invalid paging, sort or filter", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id))]
pub async fn list_users(
    state: web::Data<AppState>,
    current: CurrentUser,
    query: web::Query<ListUsersQuery>,
) -> Result<web::Json<UserPage>, ApiError> {
    let params = query.validate().map_err(ApiError::Validation)?;
    let scope = policy::list_scope(&current.user, state.directory, &params)?;
    let page = accounts::list(&state.db, &params, scope).await?;
    let shown = |user| policy::shown_to(&current.user, state.directory, accounts::to_api(user));
    Ok(web::Json(UserPage {
        items: page.items.into_iter().map(shown).collect(),
        total: page.total.min(LIST_TOTAL_CAP),
        total_exact: page.total <= LIST_TOTAL_CAP,
        page: page.page,
        per_page: params.per_page,
        next: page.next.as_ref().map(Cursor::encode),
        prev: page.prev.as_ref().map(Cursor::encode),
    }))
}

/// Create an account (admins).
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of creating again (1-255 visible ASCII characters, kept 24 h)")),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Account created", body = User),
        (status = 422, description = "This Idempotency-Key was used with another body", body = ErrorResponse),
        (status = 400, description = "Invalid fields", body = ErrorResponse),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 409, description = "Username, email or mobile already in use", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = admin.user.id))]
pub async fn create_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    body: web::Json<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    idempotency::once(&req, &state, &admin, "create_user", &body, || async {
        spend_hashing(&state, admin.user.id).await?;
        let role = body.role.unwrap_or(Role::User);
        let account = body.account.clone();
        let account = off_thread(move || account.validate()).await?;
        let creation = Creation {
            role: Some(role),
            ..Creation::default()
        };
        let user = accounts::create(&state.db, &state.auth.passwords, account, creation).await?;
        welcome(&state, &client, &user).await?;
        tracing::info!(created = user.id, role = %user.role, "account created by admin");
        audit::Event::success(AuditAction::UserCreated)
            .actor(&admin.user)
            .target(&user)
            .detail(json!({ "role": user.role }))
            .record(&state.db, &client)
            .await;
        let created = serde_json::to_value(accounts::to_api(user)).map_err(anyhow::Error::from)?;
        Ok((StatusCode::CREATED, created))
    })
    .await
}

/// One account.
#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(
        ("id" = i32, Path, description = "Account id"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from before: 304 if the account is unchanged"),
    ),
    responses(
        (status = 200, description = "The account", body = User,
            headers(("ETag" = String, description = "The account's version, for `If-Match` on PUT and DELETE"))),
        (status = 304, description = "Unchanged since the `If-None-Match` version"),
        (status = 404, description = "No such account", body = ErrorResponse),
    )
)]
pub async fn get_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentUser,
    account: AccountPath,
) -> Result<HttpResponse, ApiError> {
    if !policy::may_see(&current.user, state.directory, account.id) {
        return Err(ApiError::NotFound);
    }
    let user = accounts::get(&state.db, account.id).await?;
    let tag = etag(&user);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == tag)
        });
    if unchanged {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish());
    }
    let shown = policy::shown_to(&current.user, state.directory, accounts::to_api(user));
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .json(shown))
}

/// An account's `ETag`: its version, quoted.
fn etag(user: &user::Model) -> String {
    format!("\"{}\"", accounts::version(user))
}

/// Change an account.
///
/// Admins may change anyone, including `role` and `password` (which ends that
/// account's sessions). Users may change only their own profile fields. The last admin
/// cannot be demoted. Changing your own username, email, mobile, security question
/// or answer, or (admins) your own password, needs `current_password`.
#[utoipa::path(
    put, path = "/api/v1/users/{id}", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(
        ("id" = i32, Path, description = "Account id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change was made against: 412 if the account changed since"),
    ),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The updated account", body = User,
            headers(("ETag" = String, description = "The account's new version"))),
        (status = 412, description = "The account changed since the `If-Match` version; nothing was changed", body = ErrorResponse),
        (status = 400, description = "Invalid fields", body = ErrorResponse),
        (status = 403, description = "Not allowed to change this account or field", body = ErrorResponse),
        (status = 404, description = "No such account", body = ErrorResponse),
        (status = 409, description = "Value already in use, or the last admin would be demoted", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id, target = account.id))]
pub async fn update_user(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    account: AccountPath,
    precondition: Precondition,
    body: web::Json<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = account.id;
    policy::check_update(&current.user, id, &body)?;
    spend_hashing(&state, current.user.id).await?;
    let target = match id == current.user.id {
        true => current.user.clone(),
        false => accounts::get(&state.db, id).await?,
    };
    let shown = accounts::to_api(target.clone());
    let body = body.into_inner();
    let password = body.profile.current_password.clone();
    let changes = off_thread(move || body.validate(&shown)).await?;
    let updated = change_account(
        &state,
        &client,
        &current,
        &target,
        changes,
        password.as_deref(),
        precondition.0,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(&updated.user)))
        .json(accounts::to_api(updated.user)))
}

/// Delete an account (admins). Its sessions end at once. The last admin cannot be
/// deleted.
#[utoipa::path(
    delete, path = "/api/v1/users/{id}", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(
        ("id" = i32, Path, description = "Account id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the deletion was decided on: 412 if the account changed since"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "The account changed since the `If-Match` version; nothing was deleted", body = ErrorResponse),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 404, description = "No such account", body = ErrorResponse),
        (status = 409, description = "The last admin cannot be deleted", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = admin.user.id, target = account.id))]
pub async fn delete_user(
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    account: AccountPath,
    precondition: Precondition,
) -> Result<HttpResponse, ApiError> {
    let account = accounts::delete(&state.db, account.id, precondition.0.as_ref()).await?;
    deleted(&state, &client, &admin, &account).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Disable an account (admins): it cannot log in and its sessions end, but nothing
/// is deleted. You cannot disable yourself, nor the last active admin.
#[utoipa::path(
    post, path = "/api/v1/users/{id}/disable", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Account id")),
    responses(
        (status = 200, description = "The disabled account", body = User),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 404, description = "No such account", body = ErrorResponse),
        (status = 409, description = "Your own account, or the last active admin", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = admin.user.id, target = account.id))]
pub async fn disable_user(
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    account: AccountPath,
) -> Result<web::Json<User>, ApiError> {
    policy::check_disable(&admin.user, account.id)?;
    set_disabled(&state, &client, &admin, account.id, true).await
}

/// Enable a disabled account again (admins).
#[utoipa::path(
    post, path = "/api/v1/users/{id}/enable", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Account id")),
    responses(
        (status = 200, description = "The enabled account", body = User),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 404, description = "No such account", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = admin.user.id, target = account.id))]
pub async fn enable_user(
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    account: AccountPath,
) -> Result<web::Json<User>, ApiError> {
    set_disabled(&state, &client, &admin, account.id, false).await
}

/// Unlock an account locked by failed logins (admins): the lock for unknown clients
/// and every device's; the failure counts restart.
#[utoipa::path(
    post, path = "/api/v1/users/{id}/unlock", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Account id")),
    responses(
        (status = 200, description = "The unlocked account", body = User),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 404, description = "No such account", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = admin.user.id, target = account.id))]
pub async fn unlock_user(
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    account: AccountPath,
) -> Result<web::Json<User>, ApiError> {
    let (user, was_locked) = accounts::unlock(&state.db, account.id).await?;
    audit::Event::success(AuditAction::Unlock)
        .actor(&admin.user)
        .target(&user)
        .detail(json!({ "was_locked": was_locked }))
        .record(&state.db, &client)
        .await;
    Ok(web::Json(accounts::to_api(user)))
}

/// An account's lockout (admins): the lock for unknown clients and each known
/// device's own.
///
/// Failed logins from clients that never logged in to the account count on the
/// account (and lock out unknown clients only); a device that did keeps its own small
/// budget, so a stranger's guesses cannot lock its owner out.
#[utoipa::path(
    get, path = "/api/v1/users/{id}/lockout", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Account id")),
    responses(
        (status = 200, description = "The lock for unknown clients and the known devices", body = LockoutState),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 404, description = "No such account", body = ErrorResponse),
    )
)]
pub async fn lockout_state(
    state: web::Data<AppState>,
    _admin: AdminUser,
    account: AccountPath,
) -> Result<web::Json<LockoutState>, ApiError> {
    let user = accounts::get(&state.db, account.id).await?;
    let now = Utc::now();
    let devices = devices::of_account(&state.db, user.id).await?;
    Ok(web::Json(LockoutState {
        failed_logins: user.failed_logins,
        locked_until: user.locked_until.filter(|until| *until > now),
        devices: devices
            .into_iter()
            .map(|d| DeviceState {
                created_at: d.created_at,
                last_used_at: d.last_used_at,
                failed_logins: d.failed_logins,
                locked_until: d.locked_until.filter(|until| *until > now),
            })
            .collect(),
    }))
}
