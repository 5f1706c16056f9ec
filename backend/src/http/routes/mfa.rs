//! `/api/v1/auth/mfa`: turning an authenticator app on and off, recovery codes, and
//! the second login step; `DELETE /users/{id}/mfa`, an admin's reset. The routes sit
//! in the `/auth` scope (see `auth::throttled`).

use actix_web::{HttpResponse, web};
use shared::{
    AuditAction, CompletedLogin, ErrorResponse, MfaChallenge, MfaVerifyRequest, ReauthRequest,
    RecoveryCodes, SessionKind, TokenResponse, TotpConfirmRequest, TotpDisableRequest, TotpSetup,
};

use super::spend_hashing;
use crate::accounts;
use crate::audit::{self, ClientInfo};
use crate::auth::mfa::MfaError;
use crate::auth::session::Session;
use crate::auth::{AuthError, LoggedIn};
use crate::http::cookie::lifetime;
use crate::http::error::ApiError;
use crate::http::extract::{AdminUser, CurrentUser};
use crate::http::state::AppState;

/// The second login step: the `mfa_token` from the login and one second factor.
///
/// Answers what the login would have without a second factor: for `POST /auth/login`
/// the account and the session cookie, for `POST /auth/token` a bearer token. The
/// token is single-use, lives 5 minutes and allows 5 attempts; a wrong code counts
/// toward the account's lockout; an app code is accepted once.
#[utoipa::path(
    post, path = "/api/v1/auth/mfa/verify", tag = "auth",
    request_body = MfaVerifyRequest,
    responses(
        (status = 200, description = "Logged in: the account (and the session cookie) for a login, a bearer token for `/auth/token`", body = CompletedLogin),
        (status = 400, description = "No factor, or one of the wrong shape", body = ErrorResponse),
        (status = 401, description = "`invalid_code`: the code is wrong or used (try again); `mfa_token_invalid`: log in again", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn verify(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<MfaVerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    let factor = body.validate().map_err(ApiError::Validation)?;
    let verified = state
        .auth
        .verify_second_factor(&body.mfa_token, &factor, &client)
        .await
        .map_err(|err| match err {
            AuthError::Mfa(MfaError::WrongCode) => ApiError::WrongCode,
            other => other.into(),
        })?;
    let (logged_in, session, token, kind) = verified;
    Ok(answer_login(&state, logged_in, &session, token, kind))
}

/// Start setting up an authenticator app.
///
/// Returns a new secret, as text, as an `otpauth://` URI and as a QR code of it.
/// Nothing changes at login until `POST /auth/mfa/totp/confirm` proves the app has it.
#[utoipa::path(
    post, path = "/api/v1/auth/mfa/totp/setup", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    request_body = ReauthRequest,
    responses(
        (status = 200, description = "The secret to enter into the app", body = TotpSetup),
        (status = 400, description = "`current_password` missing or wrong", body = ErrorResponse),
        (status = 409, description = "An app is already set up", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id))]
pub async fn totp_setup(
    state: web::Data<AppState>,
    current: CurrentUser,
    body: web::Json<ReauthRequest>,
) -> Result<HttpResponse, ApiError> {
    body.validate().map_err(ApiError::Validation)?;
    reauthenticate(&state, &current, &body.current_password).await?;
    let setup = state.auth.mfa.start_totp(&current.user).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(setup))
}

/// Turn the authenticator app on with a first code from it.
///
/// Returns 10 recovery codes, shown this once: each signs in once instead of a code.
#[utoipa::path(
    post, path = "/api/v1/auth/mfa/totp/confirm", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    request_body = TotpConfirmRequest,
    responses(
        (status = 200, description = "On; the recovery codes", body = RecoveryCodes),
        (status = 400, description = "The code is malformed or wrong", body = ErrorResponse),
        (status = 409, description = "Nothing set up to confirm, or already on", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id))]
pub async fn totp_confirm(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    body: web::Json<TotpConfirmRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = body.validate().map_err(ApiError::Validation)?;
    let codes = state.auth.mfa.confirm_totp(&current.user, &code).await?;
    tracing::info!("two-factor sign-in turned on");
    audit::Event::success(AuditAction::MfaEnabled)
        .by(&current.user)
        .detail(serde_json::json!({ "method": "totp" }))
        .record(&state.db, &client)
        .await;
    state
        .notices
        .second_factor_changed(
            &state.db,
            &current.user,
            "turned on with an authenticator app",
        )
        .await;
    Ok(recovery_codes(codes))
}

/// Turn the authenticator app off.
///
/// Needs the password and a current code from the app (or a recovery code). The
/// recovery codes go too, unless a passkey remains.
#[utoipa::path(
    delete, path = "/api/v1/auth/mfa/totp", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    request_body = TotpDisableRequest,
    responses(
        (status = 204, description = "Off"),
        (status = 400, description = "The password or the code is missing or wrong", body = ErrorResponse),
        (status = 409, description = "No app is set up", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id))]
pub async fn totp_disable(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    body: web::Json<TotpDisableRequest>,
) -> Result<HttpResponse, ApiError> {
    let factor = body.validate().map_err(ApiError::Validation)?;
    if current.user.mfa_totp_at.is_none() {
        return Err(MfaError::NotSetUp.into());
    }
    // The code first: a wrong one counts toward the lockout, and only a right
    // password after it clears the count.
    state
        .auth
        .verify_current_factor(
            &current.user,
            current.device_hash.as_deref(),
            &factor,
            &client,
        )
        .await?;
    reauthenticate(&state, &current, &body.current_password).await?;
    state.auth.mfa.disable_totp(&current.user).await?;
    tracing::info!("two-factor sign-in with an app turned off");
    audit::Event::success(AuditAction::MfaDisabled)
        .by(&current.user)
        .detail(serde_json::json!({ "method": "totp" }))
        .record(&state.db, &client)
        .await;
    state
        .notices
        .second_factor_changed(
            &state.db,
            &current.user,
            "turned off for the authenticator app",
        )
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// Make a new set of recovery codes; the old ones stop working.
#[utoipa::path(
    post, path = "/api/v1/auth/mfa/recovery-codes", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    request_body = ReauthRequest,
    responses(
        (status = 200, description = "The new codes, shown this once", body = RecoveryCodes),
        (status = 400, description = "`current_password` missing or wrong", body = ErrorResponse),
        (status = 409, description = "No second factor is on", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id))]
pub async fn renew_recovery_codes(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    body: web::Json<ReauthRequest>,
) -> Result<HttpResponse, ApiError> {
    body.validate().map_err(ApiError::Validation)?;
    reauthenticate(&state, &current, &body.current_password).await?;
    let codes = state.auth.mfa.renew_recovery_codes(&current.user).await?;
    audit::Event::success(AuditAction::RecoveryCodesRenewed)
        .by(&current.user)
        .record(&state.db, &client)
        .await;
    Ok(recovery_codes(codes))
}

/// Remove every second factor of an account (admins).
///
/// For a user who lost their phone and recovery codes: they log in with the password
/// alone again (or must enrol anew where `MFA_REQUIRED` covers them). The account's
/// verified address is told.
#[utoipa::path(
    delete, path = "/api/v1/users/{id}/mfa", tag = "users",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Account id")),
    responses(
        (status = 204, description = "Reset"),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 404, description = "No such account", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(target = *id))]
pub async fn reset_user_mfa(
    state: web::Data<AppState>,
    client: ClientInfo,
    admin: AdminUser,
    id: web::Path<i32>,
) -> Result<HttpResponse, ApiError> {
    let user = accounts::find(&state.db, *id)
        .await?
        .ok_or(ApiError::NotFound)?;
    state.auth.mfa.reset(user.id).await?;
    tracing::info!("second factors reset by an admin");
    audit::Event::success(AuditAction::MfaReset)
        .actor(&admin.user)
        .target(&user)
        .record(&state.db, &client)
        .await;
    state
        .notices
        .second_factor_changed(&state.db, &user, "reset by an administrator")
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// The password check every change of second factors makes (the request was
/// validated: the password is there).
async fn reauthenticate(
    state: &AppState,
    current: &CurrentUser,
    password: &str,
) -> Result<(), ApiError> {
    spend_hashing(state, current.user.id).await?;
    state
        .auth
        .verify_current_password(&current.user, current.device_hash.as_deref(), password)
        .await?;
    Ok(())
}

fn recovery_codes(codes: Vec<String>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(RecoveryCodes {
            recovery_codes: codes,
        })
}

/// The 202 of a login that needs its second step.
pub fn second_step(challenge: MfaChallenge) -> HttpResponse {
    HttpResponse::Accepted()
        .insert_header(("Cache-Control", "no-store"))
        .json(challenge)
}

/// A completed login's answer (the password's, or the second step's): the account and the session cookie (a cookie login),
/// or the bearer token; a new device's cookie either way.
pub fn answer_login(
    state: &AppState,
    logged_in: LoggedIn,
    session: &Session,
    token: String,
    kind: SessionKind,
) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    if let Some(device) = &logged_in.new_device_token {
        response.cookie(state.cookie.device(device));
    }
    match kind {
        SessionKind::Cookie => {
            response.cookie(state.cookie.for_new_session(token, session));
            response.json(accounts::to_api(logged_in.user))
        }
        SessionKind::Bearer => {
            response
                .insert_header(("Cache-Control", "no-store"))
                .json(TokenResponse {
                    access_token: token,
                    token_type: "Bearer".to_owned(),
                    expires_in: lifetime(session),
                    device_token: logged_in.new_device_token,
                })
        }
    }
}
