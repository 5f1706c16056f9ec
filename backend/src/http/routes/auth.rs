//! `/api/v1/auth`: signup, login and logout, API tokens, and the caller's own account.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use shared::validate::Password;
use shared::{
    AuditAction, ChangePasswordRequest, ErrorResponse, LoginRequest, MessageResponse, MfaChallenge,
    PasswordStrengthRequest, SessionKind, SessionState, SignupOptions, SignupRequest, Strength,
    TokenResponse, UpdateProfileRequest, User, UserChanges, VerifyEmailRequest,
};

use super::changes::{change_account, send_email_code, welcome};
use super::{mfa, off_thread, passkeys, spend_hashing};
use crate::accounts::{self, email::EmailCodes};
use crate::audit::{self, ClientInfo};
use crate::auth::LoginOutcome;
use crate::auth::session;
use crate::http::error::ApiError;
use crate::http::extract::{CurrentUser, Via, authenticate};
use crate::http::middleware::{Throttled, throttled_scope};
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
        // Both hash: a re-authentication or a new answer, a new password.
        Throttled::put("/me", Bucket::Hashing, update_me),
        Throttled::post("/password", Bucket::Hashing, change_password),
        // Codes are guessed here; each request may send mail.
        Throttled::post("/email/verify", Bucket::Recovery, verify_email),
        Throttled::post("/email/resend", Bucket::Recovery, resend_email_code),
        // The second login step guesses codes; the others re-authenticate.
        Throttled::post("/mfa/verify", Bucket::Credentials, mfa::verify),
        Throttled::post("/mfa/totp/setup", Bucket::Hashing, mfa::totp_setup),
        Throttled::delete("/mfa/totp", Bucket::Hashing, mfa::totp_disable),
        Throttled::post(
            "/mfa/recovery-codes",
            Bucket::Hashing,
            mfa::renew_recovery_codes,
        ),
        Throttled::post("/mfa/totp/confirm", Bucket::Recovery, mfa::totp_confirm),
        // Each start stores a ceremony, so every request counts; the finish
        // checks a signature, like a login.
        Throttled::post(
            "/passkeys/register/start",
            Bucket::Recovery,
            passkeys::register_start,
        ),
        Throttled::post(
            "/passkeys/register/finish",
            Bucket::Recovery,
            passkeys::register_finish,
        ),
        Throttled::post(
            "/passkeys/login/start",
            Bucket::Strength,
            passkeys::login_start,
        ),
        Throttled::post(
            "/passkeys/login/finish",
            Bucket::Credentials,
            passkeys::login_finish,
        ),
    ]
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    let scope = throttled_scope(SCOPE, throttled());
    cfg.service(
        scope
            .route("/signup-options", web::get().to(signup_options))
            .route("/logout", web::post().to(logout))
            .route("/me", web::get().to(me))
            .route("/session", web::get().to(session_state))
            .route("/passkeys", web::get().to(passkeys::list))
            .route("/passkeys/{id}", web::delete().to(passkeys::remove)),
    );
}

/// Create an account.
///
/// Who may sign up is set by the deployment (`GET /auth/signup-options`): anyone, by
/// invitation (`invitation_code`), or nobody. The first account becomes an admin; on
/// an instance reachable from the network it must bring the `setup_token` printed
/// at start-up. A 6-digit code is mailed to the address, to be entered at
/// `POST /auth/email/verify` after logging in. Signing up does not log in.
#[utoipa::path(
    post, path = "/api/v1/auth/signup", tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Account created", body = User),
        (status = 400, description = "Invalid fields (see `fields`)", body = ErrorResponse),
        (status = 403, description = "Refused by the sign-up policy (closed, by invitation, the email domain, the setup token)", body = ErrorResponse),
        (status = 409, description = "Username, email or mobile already in use", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn signup(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<SignupRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let (invitation, setup_token) = (body.invitation_code.clone(), body.setup_token.clone());
    let account = off_thread(move || body.validate()).await?;
    let creation = state
        .registration
        .admit(
            &state.db,
            &state.codes,
            &account,
            invitation.as_deref(),
            setup_token.as_deref(),
        )
        .await?;
    let user = accounts::create(&state.db, &state.auth.passwords, account, creation).await?;
    welcome(&state, &client, &user).await?;
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
/// wrong password) gets the same 401. A first login from a browser also sets a device
/// cookie: its later failures count on its own budget, so a stranger's guesses that
/// lock the account for unknown clients do not lock its owner out. An account with a
/// second factor gets 202 and an `mfa_token` instead: no session until
/// `POST /auth/mfa/verify`.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = User,
         headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 202, description = "The password is right; the second factor is asked for", body = MfaChallenge),
        (status = 400, description = "Username or password missing", body = ErrorResponse),
        (status = 401, description = "Invalid username or password", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    log_in(
        &state,
        &req,
        &client,
        body.into_inner(),
        SessionKind::Cookie,
    )
    .await
}

/// What login and token share: the device token from the body, else from the device
/// cookie; the login; its answer (or the 202 asking for the second factor).
async fn log_in(
    state: &AppState,
    req: &HttpRequest,
    client: &ClientInfo,
    mut credentials: LoginRequest,
    kind: SessionKind,
) -> Result<HttpResponse, ApiError> {
    if credentials.device_token.is_none() {
        credentials.device_token = req
            .cookie(state.cookie.device_name())
            .map(|cookie| cookie.value().to_owned());
    }
    match state.auth.log_in(&credentials, client, kind).await? {
        LoginOutcome::SecondFactor(challenge) => Ok(mfa::second_step(challenge)),
        LoginOutcome::LoggedIn(logged_in, session, token) => {
            Ok(mfa::answer_login(state, logged_in, &session, token, kind))
        }
    }
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
        (status = 202, description = "The password is right; the second factor is asked for (`POST /auth/mfa/verify` then answers the token)", body = MfaChallenge),
        (status = 400, description = "Username or password missing", body = ErrorResponse),
        (status = 401, description = "Invalid username or password", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    log_in(
        &state,
        &req,
        &client,
        body.into_inner(),
        SessionKind::Bearer,
    )
    .await
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

/// Whether you are logged in.
///
/// Like `GET /auth/me`, but a request without a live session gets 200 with `user:
/// null` instead of 401: for a client (the browser app) that asks at start, when being
/// signed out is normal. A session cookie that has ended is cleared.
#[utoipa::path(
    get, path = "/api/v1/auth/session", tag = "auth",
    security((), ("cookie" = []), ("bearer" = [])),
    responses((status = 200, description = "Your account, or `null` when signed out", body = SessionState)),
)]
pub async fn session_state(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let mut response = HttpResponse::Ok();
    response.insert_header(("Cache-Control", "no-store"));
    let mut mfa_enrolment_required = false;
    let user = match authenticate(&req).await {
        Ok(current) => {
            mfa_enrolment_required = state.auth.mfa.must_enrol(&current.user);
            Some(accounts::to_api(current.user))
        }
        Err(ApiError::Unauthorized) => {
            if req.cookie(state.cookie.name()).is_some() {
                response.cookie(state.cookie.clear());
            }
            None
        }
        Err(other) => return Err(other),
    };
    Ok(response.json(SessionState {
        user,
        mfa_enrolment_required,
    }))
}

/// Change your own details.
///
/// Only the fields sent change. `role` cannot be changed here (it is ignored). A new
/// security question needs its answer too. Changing your username, email, mobile,
/// security question or answer needs `current_password` in the same request. A new
/// email is held as `pending_email` until the code mailed to it is verified; the old
/// address is told at once.
#[utoipa::path(
    put, path = "/api/v1/auth/me", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    request_body = UpdateProfileRequest,
    responses(
        (status = 200, description = "Your updated account", body = User),
        (status = 400, description = "Invalid fields, or `current_password` missing or wrong", body = ErrorResponse),
        (status = 409, description = "Username or mobile already in use", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id))]
pub async fn update_me(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    body: web::Json<UpdateProfileRequest>,
) -> Result<web::Json<User>, ApiError> {
    spend_hashing(&state, current.user.id).await?;
    let changes = UserChanges {
        profile: body.validate().map_err(ApiError::Validation)?,
        ..UserChanges::default()
    };
    let me = &current.user;
    let password = body.current_password.as_deref();
    let updated = change_account(&state, &client, &current, me, changes, password, None).await?;
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
    spend_hashing(&state, current.user.id).await?;
    let me = accounts::to_api(current.user.clone());
    let request = body.clone();
    let new_password = off_thread(move || request.validate(&me)).await?;
    let user = state
        .auth
        .change_password(
            (&current.user, current.device_hash.as_deref()),
            &body.current_password,
            new_password,
            &client,
        )
        .await?;
    state.notices.password_changed(&state.db, &user).await;
    let mut response = HttpResponse::NoContent();
    if current.via == Via::Cookie {
        let (session, token) = state
            .auth
            .start_session(
                &client,
                &user,
                SessionKind::Cookie,
                current.device_hash.clone(),
            )
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

/// Who may sign up, for the sign-up form.
#[utoipa::path(
    get, path = "/api/v1/auth/signup-options", tag = "auth",
    responses((status = 200, description = "The sign-up policy", body = SignupOptions)),
)]
pub async fn signup_options(
    state: web::Data<AppState>,
) -> Result<web::Json<SignupOptions>, ApiError> {
    Ok(web::Json(state.registration.options(&state.db).await?))
}

/// Confirm your email address with the code mailed to it.
///
/// A pending address replaces the old one now. Each code allows 5 tries.
#[utoipa::path(
    post, path = "/api/v1/auth/email/verify", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    request_body = VerifyEmailRequest,
    responses(
        (status = 200, description = "Verified; your account", body = User),
        (status = 400, description = "The code is malformed, wrong, used or expired", body = ErrorResponse),
        (status = 409, description = "The address was taken by another account meanwhile", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id))]
pub async fn verify_email(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    body: web::Json<VerifyEmailRequest>,
) -> Result<web::Json<User>, ApiError> {
    let code = body.validate().map_err(ApiError::Validation)?;
    let user = state
        .email_codes
        .verify(&state.db, current.user.id, &code)
        .await?;
    audit::Event::success(AuditAction::EmailVerified)
        .by(&user)
        .record(&state.db, &client)
        .await;
    Ok(web::Json(accounts::to_api(user)))
}

/// Mail a new verification code.
///
/// To the pending address, or to the current one while it is unverified; at most 5
/// codes an hour.
#[utoipa::path(
    post, path = "/api/v1/auth/email/resend", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 202, description = "A code is on its way (unless the hourly limit is reached)", body = MessageResponse),
        (status = 409, description = "Nothing to verify", body = ErrorResponse),
    )
)]
pub async fn resend_email_code(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
) -> Result<HttpResponse, ApiError> {
    let address = EmailCodes::address_to_prove(&current.user).ok_or(ApiError::Conflict(
        "Your email address is already verified.",
    ))?;
    send_email_code(&state, &client, &current.user, address).await?;
    Ok(HttpResponse::Accepted().json(MessageResponse {
        message: format!("A new code is on its way to {address}."),
    }))
}
