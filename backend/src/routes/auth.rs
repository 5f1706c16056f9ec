//! `/api/v1/auth`: signup, login and logout, API tokens, and the caller's own account.

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde_json::json;
use shared::validate::Password;
use shared::{
    AuditAction, ChangePasswordRequest, ErrorResponse, LoginRequest, PasswordStrengthRequest,
    RevokedSessions, SessionInfo, SignupRequest, Strength, TokenResponse, UpdateProfileRequest,
    User,
};

use crate::audit;
use crate::auth::cookie::lifetime;
use crate::auth::lockout;
use crate::auth::session::{self, Kind};
use crate::auth::{self as authn, CurrentUser, Via};
use crate::error::ApiError;
use crate::state::AppState;
use crate::throttle::{self, Bucket};
use crate::users;
use crate::validation::off_thread;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/auth")
            .route("/signup", throttle::post(Bucket::Credentials, signup))
            .route("/login", throttle::post(Bucket::Credentials, login))
            .route("/token", throttle::post(Bucket::Credentials, token))
            .route(
                "/password-strength",
                throttle::post(Bucket::Strength, password_strength),
            )
            .route("/logout", web::post().to(logout))
            .route("/me", web::get().to(me))
            .route("/me", web::put().to(update_me))
            .route("/password", web::post().to(change_password))
            .route("/sessions", web::get().to(list_sessions))
            .route("/sessions/others", web::delete().to(revoke_other_sessions))
            .route("/sessions/{id}", web::delete().to(revoke_session)),
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
    req: HttpRequest,
    body: web::Json<SignupRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let account = off_thread(move || body.validate()).await?;
    let user = users::create(&state.db, &state.passwords, account, None).await?;
    tracing::info!(user_id = user.id, role = %user.role, "account created");
    audit::Event::success(AuditAction::Signup)
        .by(&user)
        .detail(json!({ "role": user.role }))
        .record(&state.db, &state.client(&req))
        .await;
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
        .cookie(state.cookie.for_new_session(token, &session))
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
        Ok(current) => {
            session::revoke(&state.db, &current.session_id).await?;
            audit::Event::success(AuditAction::Logout)
                .by(&current.user)
                .record(&state.db, &state.client(&req))
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
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let (_, session, token) = authn::log_in(&state, &req, &body, Kind::Bearer).await?;
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
    req: HttpRequest,
    current: CurrentUser,
    body: web::Json<UpdateProfileRequest>,
) -> Result<web::Json<User>, ApiError> {
    let profile = body.validate().map_err(ApiError::Validation)?;
    let update = users::profile_update(&state.passwords, profile).await?;
    let updated = users::update(&state.db, current.user.id, update).await?;
    if !updated.changed.is_empty() {
        audit::Event::success(AuditAction::UserUpdated)
            .by(&updated.user)
            .detail(json!({ "fields": updated.changed }))
            .record(&state.db, &state.client(&req))
            .await;
    }
    Ok(web::Json(users::to_api(updated.user)))
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
    // Wrong current passwords count like failed logins, so a stolen session cannot
    // be used to guess the password without limit.
    let id = current.user.id;
    if !lockout::reserve(&state.db, &state.lockout, id).await? {
        return Err(ApiError::field(
            "current_password",
            "cannot be checked now: too many wrong passwords; try again later",
        ));
    }
    let verified = state
        .passwords
        .verify(
            SecretString::from(body.current_password.clone()),
            Some(current.user.password_hash.clone()),
        )
        .await;
    let current_ok = match verified {
        Ok(ok) => ok,
        Err(fault) => {
            lockout::refund(&state.db, &state.lockout, id).await?;
            return Err(fault);
        }
    };
    let client = state.client(&req);
    if !current_ok {
        audit::Event::failure(AuditAction::PasswordChange)
            .by(&current.user)
            .detail(json!({ "reason": "wrong_current_password" }))
            .record(&state.db, &client)
            .await;
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
    let user = users::update(&state.db, current.user.id, update)
        .await?
        .user;
    tracing::info!(user_id = user.id, "password changed; sessions ended");
    audit::Event::success(AuditAction::PasswordChange)
        .by(&user)
        .record(&state.db, &client)
        .await;
    state
        .mailer
        .send(state.recovery.password_changed_mail(&user)?);

    let mut response = HttpResponse::NoContent();
    if current.via == Via::Cookie {
        let (session, token) = authn::start_session(&state, &client, &user, Kind::Cookie).await?;
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

/// Your live sessions: browser logins and API tokens.
#[utoipa::path(
    get, path = "/api/v1/auth/sessions", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, description = "Newest first; `current` marks this one", body = Vec<SessionInfo>)),
)]
pub async fn list_sessions(
    state: web::Data<AppState>,
    current: CurrentUser,
) -> Result<web::Json<Vec<SessionInfo>>, ApiError> {
    let sessions = session::list_live(&state.db, current.user.id).await?;
    Ok(web::Json(
        sessions
            .into_iter()
            .map(|s| session::to_api(s, &current.session_id))
            .collect(),
    ))
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
    req: HttpRequest,
    current: CurrentUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sessions = session::list_live(&state.db, current.user.id).await?;
    let target = sessions
        .into_iter()
        .find(|s| session::handle(&s.id) == *id)
        .ok_or(ApiError::NotFound)?;
    session::revoke(&state.db, &target.id).await?;
    audit::Event::success(AuditAction::SessionRevoked)
        .by(&current.user)
        .detail(json!({ "session": id.as_str(), "current": target.id == current.session_id }))
        .record(&state.db, &state.client(&req))
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
    req: HttpRequest,
    current: CurrentUser,
) -> Result<web::Json<RevokedSessions>, ApiError> {
    let revoked =
        session::revoke_all_except(&state.db, current.user.id, &current.session_id).await?;
    audit::Event::success(AuditAction::SessionRevoked)
        .by(&current.user)
        .detail(json!({ "others": revoked }))
        .record(&state.db, &state.client(&req))
        .await;
    Ok(web::Json(RevokedSessions { revoked }))
}
