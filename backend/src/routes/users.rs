//! `/api/v1/users`: everyone logged in may read; admins manage; users may edit only
//! their own profile, never a role.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use secrecy::SecretString;
use serde_json::json;
use shared::{
    AuditAction, CreateUserRequest, ErrorResponse, ListUsersQuery, RevokedSessions, Role,
    UpdateUserRequest, User, UserPage,
};

use crate::audit;
use crate::auth::{CurrentUser, lockout, session};
use crate::error::ApiError;
use crate::state::AppState;
use crate::users;
use crate::validation::off_thread;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/users")
            .route("", web::get().to(list_users))
            .route("", web::post().to(create_user))
            .route("/{id}", web::get().to(get_user))
            .route("/{id}", web::put().to(update_user))
            .route("/{id}", web::delete().to(delete_user))
            .route("/{id}/disable", web::post().to(disable_user))
            .route("/{id}/enable", web::post().to(enable_user))
            .route("/{id}/unlock", web::post().to(unlock_user))
            .route("/{id}/sessions", web::delete().to(revoke_user_sessions)),
    );
}

/// List accounts, a page at a time.
///
/// `q` is a case-insensitive prefix match on username, email, first name, last name or
/// mobile ("ada lov" matches first + last name). Sorted by `created_at` unless `sort`
/// says otherwise.
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
    let (items, total) = users::list(&state.db, &params).await?;
    Ok(web::Json(UserPage {
        items: items
            .into_iter()
            .map(|user| visible_to(&current, users::to_api(user)))
            .collect(),
        total,
        page: params.page,
        per_page: params.per_page,
    }))
}

/// Create an account (admins).
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Account created", body = User),
        (status = 400, description = "Invalid fields", body = ErrorResponse),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 409, description = "Username, email or mobile already in use", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id))]
pub async fn create_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: CurrentUser,
    body: web::Json<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    current.require_admin()?;
    let role = body.role.unwrap_or(Role::User);
    let body = body.into_inner();
    let account = off_thread(move || body.account.validate()).await?;
    let user = users::create(&state.db, &state.passwords, account, Some(role)).await?;
    tracing::info!(created = user.id, role = %user.role, "account created by admin");
    audit::Event::success(AuditAction::UserCreated)
        .actor(&current.user)
        .target(&user)
        .detail(json!({ "role": user.role }))
        .record(&state.db, &state.client(&req))
        .await;
    Ok(HttpResponse::Created().json(users::to_api(user)))
}

/// One account.
#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account", body = User),
        (status = 404, description = "No such account", body = ErrorResponse),
    )
)]
pub async fn get_user(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<i32>,
) -> Result<web::Json<User>, ApiError> {
    let user = users::get(&state.db, id.into_inner()).await?;
    Ok(web::Json(visible_to(&current, users::to_api(user))))
}

/// An account as `viewer` may see it: whether it is locked or disabled is for admins
/// and the account itself (others could time their guesses to a lock's end).
fn visible_to(viewer: &CurrentUser, mut user: User) -> User {
    if !viewer.is_admin() && viewer.user.id != user.id {
        user.locked_until = None;
        user.disabled_at = None;
    }
    user
}

/// Change an account.
///
/// Admins may change anyone, including `role` and `password` (which ends that
/// account's sessions). Users may change only their own profile fields. The last admin
/// cannot be demoted.
#[utoipa::path(
    put, path = "/api/v1/users/{id}", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Account id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The updated account", body = User),
        (status = 400, description = "Invalid fields", body = ErrorResponse),
        (status = 403, description = "Not allowed to change this account or field", body = ErrorResponse),
        (status = 404, description = "No such account", body = ErrorResponse),
        (status = 409, description = "Value already in use, or the last admin would be demoted", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id, target = *id))]
pub async fn update_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: CurrentUser,
    id: web::Path<i32>,
    body: web::Json<UpdateUserRequest>,
) -> Result<web::Json<User>, ApiError> {
    let id = id.into_inner();
    let is_self = id == current.user.id;
    if !current.is_admin() {
        if !is_self {
            return Err(ApiError::Forbidden("You may only change your own account."));
        }
        if body.role.is_some_and(|role| role != current.role()) {
            return Err(ApiError::Forbidden("You cannot change your own role."));
        }
        if body.password.is_some() {
            return Err(ApiError::Forbidden(
                "Change your password with POST /api/v1/auth/password.",
            ));
        }
    }
    let target = if is_self {
        current.user.clone()
    } else {
        users::get(&state.db, id).await?
    };
    let target = users::to_api(target);
    let body = body.into_inner();
    let changes = off_thread(move || body.validate(&target)).await?;
    let mut update = users::profile_update(&state.passwords, changes.profile).await?;
    update.role = changes.role;
    if let Some(password) = changes.password {
        let hash = state
            .passwords
            .hash(SecretString::from(password.into_inner()))
            .await?;
        update.password_hash = Some(hash);
    }
    let updated = users::update(&state.db, id, update).await?;
    let client = state.client(&req);
    let fields: Vec<&str> = updated
        .changed
        .iter()
        .copied()
        .filter(|field| *field != "role")
        .collect();
    if !fields.is_empty() {
        audit::Event::success(AuditAction::UserUpdated)
            .actor(&current.user)
            .target(&updated.user)
            .detail(json!({ "fields": fields }))
            .record(&state.db, &client)
            .await;
    }
    if updated.role_changed() {
        audit::Event::success(AuditAction::RoleChanged)
            .actor(&current.user)
            .target(&updated.user)
            .detail(json!({ "from": updated.previous_role, "to": updated.user.role }))
            .record(&state.db, &client)
            .await;
    }
    Ok(web::Json(users::to_api(updated.user)))
}

/// Delete an account (admins). Its sessions end at once. The last admin cannot be
/// deleted.
#[utoipa::path(
    delete, path = "/api/v1/users/{id}", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Account id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 404, description = "No such account", body = ErrorResponse),
        (status = 409, description = "The last admin cannot be deleted", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id, target = *id))]
pub async fn delete_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: CurrentUser,
    id: web::Path<i32>,
) -> Result<HttpResponse, ApiError> {
    current.require_admin()?;
    let deleted = users::delete(&state.db, id.into_inner()).await?;
    audit::Event::success(AuditAction::UserDeleted)
        .actor(&current.user)
        .target(&deleted)
        .record(&state.db, &state.client(&req))
        .await;
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
#[tracing::instrument(skip_all, fields(user_id = current.user.id, target = *id))]
pub async fn disable_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: CurrentUser,
    id: web::Path<i32>,
) -> Result<web::Json<User>, ApiError> {
    current.require_admin()?;
    if *id == current.user.id {
        return Err(ApiError::Conflict("You cannot disable your own account."));
    }
    set_disabled(&state, &req, &current, *id, true).await
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
#[tracing::instrument(skip_all, fields(user_id = current.user.id, target = *id))]
pub async fn enable_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: CurrentUser,
    id: web::Path<i32>,
) -> Result<web::Json<User>, ApiError> {
    current.require_admin()?;
    set_disabled(&state, &req, &current, *id, false).await
}

async fn set_disabled(
    state: &AppState,
    req: &HttpRequest,
    current: &CurrentUser,
    id: i32,
    disabled: bool,
) -> Result<web::Json<User>, ApiError> {
    let (user, changed) = users::set_disabled(&state.db, id, disabled).await?;
    if changed {
        let action = if disabled {
            AuditAction::UserDisabled
        } else {
            AuditAction::UserEnabled
        };
        tracing::info!(target = id, %action, "account status changed");
        audit::Event::success(action)
            .actor(&current.user)
            .target(&user)
            .record(&state.db, &state.client(req))
            .await;
    }
    Ok(web::Json(users::to_api(user)))
}

/// Unlock an account locked by failed logins (admins); its failure count restarts.
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
#[tracing::instrument(skip_all, fields(user_id = current.user.id, target = *id))]
pub async fn unlock_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: CurrentUser,
    id: web::Path<i32>,
) -> Result<web::Json<User>, ApiError> {
    current.require_admin()?;
    let mut user = users::get(&state.db, *id).await?;
    let was_locked = lockout::is_locked(&user, Utc::now());
    lockout::unlock(&state.db, user.id).await?;
    user.failed_logins = 0;
    user.locked_until = None;
    audit::Event::success(AuditAction::Unlock)
        .actor(&current.user)
        .target(&user)
        .detail(json!({ "was_locked": was_locked }))
        .record(&state.db, &state.client(&req))
        .await;
    Ok(web::Json(users::to_api(user)))
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
#[tracing::instrument(skip_all, fields(user_id = current.user.id, target = *id))]
pub async fn revoke_user_sessions(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: CurrentUser,
    id: web::Path<i32>,
) -> Result<web::Json<RevokedSessions>, ApiError> {
    current.require_admin()?;
    let user = users::get(&state.db, *id).await?;
    let revoked = session::revoke_all(&state.db, user.id).await?;
    audit::Event::success(AuditAction::SessionRevoked)
        .actor(&current.user)
        .target(&user)
        .detail(json!({ "all": revoked }))
        .record(&state.db, &state.client(&req))
        .await;
    Ok(web::Json(RevokedSessions { revoked }))
}
