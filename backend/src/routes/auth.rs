//! `/api/v1/auth`: signup, login and logout, API tokens, and the caller's own account.

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use shared::{
    ChangePasswordRequest, ErrorResponse, LoginRequest, SignupRequest, TokenResponse,
    UpdateProfileRequest, User,
};

use crate::auth::cookie::seconds_until;
use crate::auth::session::{self, Kind};
use crate::auth::{self as authn, CurrentUser, Via};
use crate::error::ApiError;
use crate::state::AppState;
use crate::users;
use crate::validation::off_thread;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/auth")
            .route("/signup", web::post().to(signup))
            .route("/login", web::post().to(login))
            .route("/logout", web::post().to(logout))
            .route("/token", web::post().to(token))
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
    body: web::Json<SignupRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let account = off_thread(move || body.validate()).await?;
    let user = users::create(&state.db, &state.passwords, account, None).await?;
    tracing::info!(user_id = user.id, role = %user.role, "account created");
    Ok(HttpResponse::Created().json(users::to_api(user)))
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
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let (user, session, token) = authn::log_in(&state, &req, &body, Kind::Cookie).await?;
    Ok(HttpResponse::Ok()
        .cookie(state.cookie.for_session(token, session.expires_at))
        .json(users::to_api(user)))
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
) -> Result<HttpResponse, ApiError> {
    match authn::authenticate(&req).await {
        Ok(current) => session::revoke(&state.db, &current.session_id).await?,
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
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let (_, session, token) = authn::log_in(&state, &req, &body, Kind::Bearer).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenResponse {
            access_token: token,
            token_type: "Bearer".to_owned(),
            expires_in: seconds_until(session.expires_at),
        }))
}

/// The logged-in account.
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, description = "Your account", body = User)),
)]
pub async fn me(current: CurrentUser) -> web::Json<User> {
    web::Json(users::to_api(current.user))
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
    current: CurrentUser,
    body: web::Json<UpdateProfileRequest>,
) -> Result<web::Json<User>, ApiError> {
    let profile = body.validate().map_err(ApiError::Validation)?;
    let update = users::profile_update(&state.passwords, profile).await?;
    let user = users::update(&state.db, current.user.id, update).await?;
    Ok(web::Json(users::to_api(user)))
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
    req: HttpRequest,
    current: CurrentUser,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let me = users::to_api(current.user.clone());
    let request = body.clone();
    let new_password = off_thread(move || request.validate(&me)).await?;
    let current_ok = state
        .passwords
        .verify(
            SecretString::from(body.current_password.clone()),
            Some(current.user.password_hash.clone()),
        )
        .await?;
    if !current_ok {
        return Err(ApiError::field("current_password", "is incorrect"));
    }
    let hash = state
        .passwords
        .hash(SecretString::from(new_password.into_inner()))
        .await?;
    let update = users::Update {
        password_hash: Some(hash),
        ..Default::default()
    };
    let user = users::update(&state.db, current.user.id, update).await?;
    tracing::info!(user_id = user.id, "password changed; sessions ended");
    state
        .mailer
        .send(state.recovery.password_changed_mail(&user)?);

    let mut response = HttpResponse::NoContent();
    if current.via == Via::Cookie {
        let (session, token) = authn::start_session(&state, &req, &user, Kind::Cookie).await?;
        response.cookie(state.cookie.for_session(token, session.expires_at));
    }
    Ok(response.finish())
}
