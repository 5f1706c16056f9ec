//! `/api/v1/auth`: signup, login and logout, API tokens, and the caller's own account.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use shared::validate::Password;
use shared::{
    AuditAction, ChangePasswordRequest, ErrorResponse, LoginRequest, PasswordStrengthRequest,
    SessionKind, SignupRequest, Strength, TokenResponse, UpdateProfileRequest, User,
};

use super::off_thread;
use crate::accounts;
use crate::audit::{self, ClientInfo};
use crate::auth::session;
use crate::http::cookie::lifetime;
use crate::http::error::ApiError;
use crate::http::extract::{CurrentUser, Via, authenticate};
use crate::http::middleware::Throttled;
use crate::http::state::AppState;
use crate::http::throttle::Bucket;

pub const SCOPE: &str = "/auth";

/// The routes that guess secrets, behind the per-IP throttle.
pub fn throttled() -> Vec<Throttled> {
    vec![
        Throttled::post("/signup", Bucket::Credentials, signup),
        Throttled::post("/login", Bucket::Credentials, login),
        Throttled::post("/token", Bucket::Credentials, token),
        Throttled::post("/password-strength", Bucket::Strength, password_strength),
    ]
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    let scope = throttled()
        .into_iter()
        .fold(web::scope(SCOPE), |scope, t| scope.route(t.path, t.route));
    cfg.service(
        scope
            .route("/logout", web::post().to(logout))
            .route("/me", web::get().to(me))
            .route("/me", web::put().to(update_me))
            .route("/password", web::post().to(change_password)),
    );
}

/// Create an account.
///
/// The first account on an empty database becomes an admin; every later one a user.
/// Signing up does not log in.
#[utoipa::path(
    post, path = "/api/v1/auth/signup", tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Account created", body = User),
        (status = 400, description = "Invalid fields (see `fields`)", body = ErrorResponse),
        (status = 409, description = "Username, email or mobile already in use", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(username = %body.username))]
pub async fn signup(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<SignupRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let account = off_thread(move || body.validate()).await?;
    let user = accounts::create(&state.db, &state.auth.passwords, account, None).await?;
    tracing::info!(user_id = user.id, role = %user.role, "account created");
    audit::Event::success(AuditAction::Signup)
        .by(&user)
        .detail(json!({ "role": user.role }))
        .record(&state.db, &client)
        .await;
    Ok(HttpResponse::Created().json(accounts::to_api(user)))
}

/// Log in with username (or email) and password.
///
/// Sets the session cookie (HttpOnly, SameSite=Strict). Every failure (unknown user,
/// wrong password) gets the same 401.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = User,
         headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 400, description = "Username or password missing", body = ErrorResponse),
        (status = 401, description = "Invalid username or password", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(username = %body.username))]
pub async fn login(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let (user, session, token) = state
        .auth
        .log_in(&body, &client, SessionKind::Cookie)
        .await?;
    Ok(HttpResponse::Ok()
        .cookie(state.cookie.for_new_session(token, &session))
        .json(accounts::to_api(user)))
}

/// End the current session.
///
/// The session is revoked on the server (the token stops working everywhere) and the
/// cookie is cleared. Logging out without a live session is not an error: the cookie
/// is cleared all the same.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    security((), ("cookie" = []), ("bearer" = [])),
    responses((status = 204, description = "Logged out; the cookie is cleared")),
)]
#[tracing::instrument(skip_all)]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    match authenticate(&req).await {
        Ok(current) => {
            session::revoke(&state.db, &current.session_id).await?;
            audit::Event::success(AuditAction::Logout)
                .by(&current.user)
                .record(&state.db, &client)
                .await;
        }
        Err(ApiError::Unauthorized) => {}
        Err(refused) => return Err(refused),
    }
    Ok(HttpResponse::NoContent()
        .cookie(state.cookie.clear())
        .finish())
}

/// Get a bearer token (for API clients).
///
/// Send it as `Authorization: Bearer <token>`. It is a server-side session like a
/// login: it ends on logout, password change or account deletion, or after
/// `expires_in` seconds.
#[utoipa::path(
    post, path = "/api/v1/auth/token", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A bearer token", body = TokenResponse),
        (status = 400, description = "Username or password missing", body = ErrorResponse),
        (status = 401, description = "Invalid username or password", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(username = %body.username))]
pub async fn token(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let (_, session, token) = state
        .auth
        .log_in(&body, &client, SessionKind::Bearer)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenResponse {
            access_token: token,
            token_type: "Bearer".to_owned(),
            expires_in: lifetime(&session),
        }))
}

/// The logged-in account.
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, description = "Your account", body = User)),
)]
pub async fn me(current: CurrentUser) -> web::Json<User> {
    web::Json(accounts::to_api(current.user))
}

/// Change your own details.
///
/// Only the fields sent change. `role` cannot be changed here (it is ignored). A new
/// security question needs its answer too.
#[utoipa::path(
    put, path = "/api/v1/auth/me", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    request_body = UpdateProfileRequest,
    responses(
        (status = 200, description = "Your updated account", body = User),
        (status = 400, description = "Invalid fields", body = ErrorResponse),
        (status = 409, description = "Username, email or mobile already in use", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id))]
pub async fn update_me(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    body: web::Json<UpdateProfileRequest>,
) -> Result<web::Json<User>, ApiError> {
    let profile = body.validate().map_err(ApiError::Validation)?;
    let update = accounts::profile_update(&state.auth.passwords, profile).await?;
    let updated = accounts::update(&state.db, current.user.id, update).await?;
    if !updated.changed.is_empty() {
        audit::Event::success(AuditAction::UserUpdated)
            .by(&updated.user)
            .detail(json!({ "fields": updated.changed }))
            .record(&state.db, &client)
            .await;
    }
    Ok(web::Json(accounts::to_api(updated.user)))
}

/// Change your password.
///
/// Every session of the account ends, this one included; a cookie client gets a fresh
/// session cookie in the response, a bearer client must request a new token.
#[utoipa::path(
    post, path = "/api/v1/auth/password", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed; other sessions ended"),
        (status = 400, description = "Current password wrong or new one too weak", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id))]
pub async fn change_password(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let me = accounts::to_api(current.user.clone());
    let request = body.clone();
    let new_password = off_thread(move || request.validate(&me)).await?;
    let user = state
        .auth
        .change_password(&current.user, &body.current_password, new_password, &client)
        .await?;
    state.mailer.send(state.templates.password_changed(&user)?);
    let mut response = HttpResponse::NoContent();
    if current.via == Via::Cookie {
        let (session, token) = state
            .auth
            .start_session(&client, &user, SessionKind::Cookie)
            .await?;
        response.cookie(state.cookie.for_new_session(token, &session));
    }
    Ok(response.finish())
}

/// Estimate how hard a password is to guess.
///
/// The strength meter of the browser app asks here while a password is typed: zxcvbn's
/// dictionaries are too large for the app's bundle. `score` runs from 0 to 4; the
/// policy accepts 3 and above, with `user_inputs` (the account's names and addresses)
/// counted as known words. Nothing is stored or logged.
#[utoipa::path(
    post, path = "/api/v1/auth/password-strength", tag = "auth",
    request_body = PasswordStrengthRequest,
    responses(
        (status = 200, description = "The estimate", body = Strength),
        (status = 400, description = "Password or word list too long", body = ErrorResponse),
    )
)]
pub async fn password_strength(
    body: web::Json<PasswordStrengthRequest>,
) -> Result<web::Json<Strength>, ApiError> {
    let body = body.into_inner();
    body.validate().map_err(ApiError::Validation)?;
    let strength = off_thread(move || {
        let inputs: Vec<&str> = body.user_inputs.iter().map(String::as_str).collect();
        Ok(Password::strength(&body.password, &inputs))
    })
    .await?;
    Ok(web::Json(strength))
}
