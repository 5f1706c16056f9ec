//! `/api/v1/password`: recovery for users who forgot their password.
//! forgot -> verify-otp -> answer -> reset; each step needs the previous step's token.

use actix_web::{HttpResponse, web};
use serde_json::json;
use shared::{
    AnswerRequest, AnswerResponse, AuditAction, ErrorResponse, ForgotPasswordRequest,
    ForgotPasswordResponse, ResetPasswordRequest, VerifyOtpRequest, VerifyOtpResponse,
};

use super::off_thread;
use crate::audit::{self, ClientInfo};
use crate::auth::codes::new_token;
use crate::http::error::ApiError;
use crate::http::middleware::{Throttled, throttled_scope};
use crate::http::state::AppState;
use crate::http::throttle::Bucket;

pub const SCOPE: &str = "/password";

/// Every step may send mail or test a code: all of them are throttled.
pub fn throttled() -> Vec<Throttled> {
    vec![
        Throttled::post("/forgot", Bucket::Recovery, forgot),
        Throttled::post("/verify-otp", Bucket::Recovery, verify_otp),
        Throttled::post("/answer", Bucket::Recovery, answer),
        Throttled::post("/reset", Bucket::Recovery, reset),
    ]
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    let scope = throttled_scope(SCOPE, throttled());
    cfg.service(scope);
}

/// Ask for a recovery code.
///
/// Always 202 with the same body, whether or not an account matches: the lookup and
/// the mail happen after the response. If an account matches (by email, or by mobile
/// number with `method: "mobile"`) and its address is verified, a fresh 6-digit code
/// valid for `OTP_TTL_SECONDS` is emailed to it; earlier codes stay valid. At most 5
/// codes are mailed per account per hour. Send the `request_id` with the code.
#[utoipa::path(
    post, path = "/api/v1/password/forgot", tag = "password",
    request_body = ForgotPasswordRequest,
    responses(
        (status = 202, description = "Accepted; a code is mailed if an account matches", body = ForgotPasswordResponse),
        (status = 400, description = "The identifier is not a valid email or mobile number", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(method = ?body.method))]
pub async fn forgot(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<ForgotPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let identifier = body.validate().map_err(ApiError::Validation)?;
    let method = body.method;
    // Made for every request, matched or not, so it tells nothing.
    let request_id = new_token();
    let state = state.into_inner();
    let id = request_id.clone();
    tokio::spawn(async move {
        let found = state
            .recovery
            .request_code(&state.db, &state.notices, &identifier, &id)
            .await;
        let event = match found {
            Ok(Some((user, mailed))) => audit::Event::success(AuditAction::RecoveryRequested)
                .by(&user)
                .detail(json!({ "method": method, "mailed": mailed })),
            // No identifier is recorded: it may be someone else's address.
            Ok(None) => audit::Event::failure(AuditAction::RecoveryRequested)
                .detail(json!({ "method": method, "reason": "no_account" })),
            Err(error) => {
                tracing::warn!(%error, "password recovery request failed");
                return;
            }
        };
        event.record(&state.db, &client).await;
    });
    Ok(HttpResponse::Accepted().json(ForgotPasswordResponse {
        message: "If an account matches, a recovery code has been sent to its email address."
            .to_owned(),
        request_id,
    }))
}

/// Check the emailed code.
///
/// A wrong, expired, used or unknown code gets the same 400. With the `request_id`
/// that `forgot` answered with, that request's code has 5 attempts of its own, which
/// nobody else's guesses can spend; without it, wrong codes spend a budget of 5
/// shared by every client trying this account.
#[utoipa::path(
    post, path = "/api/v1/password/verify-otp", tag = "password",
    request_body = VerifyOtpRequest,
    responses(
        (status = 200, description = "The code is right: the security question and a token to answer it", body = VerifyOtpResponse),
        (status = 400, description = "Wrong, expired or used code (or malformed input)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(method = ?body.method))]
pub async fn verify_otp(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<VerifyOtpRequest>,
) -> Result<web::Json<VerifyOtpResponse>, ApiError> {
    let (identifier, code) = body.validate().map_err(ApiError::Validation)?;
    let (flow_token, user) = state
        .recovery
        .verify_code(&state.db, &identifier, &code, body.request_id.as_deref())
        .await?;
    audit::Event::success(AuditAction::RecoveryCodeVerified)
        .by(&user)
        .record(&state.db, &client)
        .await;
    Ok(web::Json(VerifyOtpResponse {
        flow_token,
        security_question: user.security_question.unwrap_or_default(),
    }))
}

/// Answer the security question.
#[utoipa::path(
    post, path = "/api/v1/password/answer", tag = "password",
    request_body = AnswerRequest,
    responses(
        (status = 200, description = "Right answer: a token to set the new password", body = AnswerResponse),
        (status = 400, description = "Wrong answer (`fields.security_answer`), or an invalid, used or expired token", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn answer(
    state: web::Data<AppState>,
    body: web::Json<AnswerRequest>,
) -> Result<web::Json<AnswerResponse>, ApiError> {
    let answer = body.validate().map_err(ApiError::Validation)?;
    let reset_token = state
        .recovery
        .check_answer(&state.db, &state.auth.passwords, &body.flow_token, answer)
        .await?;
    Ok(web::Json(AnswerResponse { reset_token }))
}

/// Set the new password.
///
/// The password policy applies. Every session of the account ends, nobody is logged
/// in automatically, and a "your password was changed" email is sent.
#[utoipa::path(
    post, path = "/api/v1/password/reset", tag = "password",
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password changed; log in with it"),
        (status = 400, description = "Weak password (`fields.new_password`), or an invalid, used or expired token", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn reset(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .recovery
        .reset_account(&state.db, &body.reset_token)
        .await?;
    let inputs = [
        user.username.clone(),
        user.email.clone(),
        user.first_name.clone(),
        user.last_name.clone(),
    ];
    let request = body.clone();
    let password = off_thread(move || {
        let inputs = inputs.each_ref().map(String::as_str);
        request.validate(&inputs)
    })
    .await?;
    let user = state
        .recovery
        .reset_password(
            &state.db,
            &state.auth.passwords,
            &state.notices,
            &body.reset_token,
            user,
            password,
        )
        .await?;
    audit::Event::success(AuditAction::RecoveryCompleted)
        .by(&user)
        .record(&state.db, &client)
        .await;
    Ok(HttpResponse::NoContent().finish())
}
