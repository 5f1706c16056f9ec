//! The only place that talks HTTP: one generic JSON call over gloo-net, and one thin
//! function per endpoint. The session cookie is HttpOnly and rides along by itself;
//! this code never sees a token.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_net::http::{Method, Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::{
    AnswerRequest, AnswerResponse, ApiKey, AuditPage, AuditQuery, BulkRequest, BulkResponse,
    ChangePasswordRequest, CreateApiKeyRequest, CreateInvitationRequest, CreateUserRequest,
    CreateWebhookRequest, CreatedApiKey, CreatedWebhook, ErrorBody, ErrorResponse, FieldErrors,
    ForgotPasswordRequest, ForgotPasswordResponse, ImportReport, Invitation, ListUsersQuery,
    LockoutState, LoginRequest, MessageResponse, MfaChallenge, MfaVerifyRequest, NewPasskey,
    Passkey, PasskeyOptions, PasskeyRegisterFinish, PasskeyRegisterStart, PasswordStrengthRequest,
    ReauthRequest, RecoveryCodes, ResetPasswordRequest, RevokedSessions, SessionInfo, SessionState,
    SignupOptions, SignupRequest, Strength, TotpConfirmRequest, TotpDisableRequest, TotpSetup,
    UpdateProfileRequest, UpdateUserRequest, User, UserPage, VerifyEmailRequest, VerifyOtpRequest,
    VerifyOtpResponse, WebhookDelivery, WebhookEndpoint,
};

use crate::query::{self, UrlQuery};

/// What went wrong with a call, in terms the screens can show.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 401: not logged in, wrong credentials, or the session ended.
    Unauthorized(String),
    /// Any other error status, with the server's envelope.
    Status { status: u16, body: ErrorBody },
    /// No answer at all (offline, server down).
    Network(String),
    /// The browser refused a step of its own (a passkey ceremony), with what to say.
    Browser(String),
}

impl ApiError {
    pub fn message(&self) -> String {
        match self {
            ApiError::Unauthorized(message) => message.clone(),
            ApiError::Status { body, .. } => body.message.clone(),
            ApiError::Network(_) => "The server cannot be reached. Check your connection.".into(),
            ApiError::Browser(message) => message.clone(),
        }
    }

    /// Field-level messages (400 validation, 409 duplicates), if any.
    pub fn fields(&self) -> FieldErrors {
        match self {
            ApiError::Status { body, .. } => body.fields.clone().unwrap_or_default(),
            _ => FieldErrors::new(),
        }
    }
}

thread_local! {
    static ON_EXPIRED: RefCell<Option<Rc<dyn Fn()>>> = RefCell::new(None);
}

/// Registers what to do when a call finds the session gone (the app sends the user to
/// the login page).
pub fn on_session_expired(handler: impl Fn() + 'static) {
    ON_EXPIRED.with(|slot| *slot.borrow_mut() = Some(Rc::new(handler)));
}

/// Whether a 401 from this call means "your session ended" (as opposed to "wrong
/// password" or "not logged in yet").
#[derive(Clone, Copy, PartialEq)]
enum On401 {
    Expire,
    Report,
}

async fn call<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&(impl Serialize + ?Sized)>,
    on_401: On401,
) -> Result<T, ApiError> {
    // Every state change is sent as JSON, even without a body: the server's CSRF rule
    // for cookie-authenticated requests wants it.
    let builder = RequestBuilder::new(&format!("/api/v1{path}"))
        .method(method)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json");
    let request = match body {
        Some(body) => builder.json(body),
        None => builder.build(),
    }
    .map_err(|e| ApiError::Network(e.to_string()))?;
    respond(request, on_401).await
}

/// Sends `request` and reads its answer: JSON on success, the error envelope else.
async fn respond<T: DeserializeOwned>(request: Request, on_401: On401) -> Result<T, ApiError> {
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    read(response, on_401).await
}

async fn read<T: DeserializeOwned>(response: Response, on_401: On401) -> Result<T, ApiError> {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if (200..300).contains(&status) {
        let text = if text.is_empty() { "null" } else { &text };
        return serde_json::from_str(text).map_err(|e| ApiError::Network(e.to_string()));
    }
    let body = serde_json::from_str::<ErrorResponse>(&text)
        .map(|e| e.error)
        .unwrap_or_else(|_| ErrorBody {
            code: "unexpected".into(),
            message: format!("Unexpected answer from the server ({status})."),
            fields: None,
        });
    if status == 401 {
        if on_401 == On401::Expire {
            let handler = ON_EXPIRED.with(|slot| slot.borrow().clone());
            if let Some(handler) = handler {
                handler();
            }
        }
        return Err(ApiError::Unauthorized(body.message));
    }
    Err(ApiError::Status { status, body })
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    call(Method::GET, path, None::<&()>, On401::Expire).await
}

async fn without_body<T: DeserializeOwned>(method: Method, path: &str) -> Result<T, ApiError> {
    call(method, path, None::<&()>, On401::Expire).await
}

async fn send<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: &(impl Serialize + ?Sized),
) -> Result<T, ApiError> {
    call(method, path, Some(body), On401::Expire).await
}

/// Who is logged in (and whether they must set up a second factor first), asked
/// without an error when nobody is (a signed-out visit keeps the console quiet).
pub async fn session_state() -> Result<SessionState, ApiError> {
    call(Method::GET, "/auth/session", None::<&()>, On401::Report).await
}

/// How a login with the right password answers: logged in, or the second step.
#[derive(Debug, Clone)]
pub enum LoginAnswer {
    SecondFactor(MfaChallenge),
    LoggedIn(Box<User>),
}

/// The status tells the answers apart: 202 asks for the second factor.
pub async fn login(request: &LoginRequest) -> Result<LoginAnswer, ApiError> {
    let response = RequestBuilder::new("/api/v1/auth/login")
        .method(Method::POST)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .json(request)
        .map_err(|e| ApiError::Network(e.to_string()))?
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if response.status() == 202 {
        return read(response, On401::Report)
            .await
            .map(LoginAnswer::SecondFactor);
    }
    read(response, On401::Report)
        .await
        .map(|user| LoginAnswer::LoggedIn(Box::new(user)))
}

/// The second login step.
pub async fn verify_second_factor(request: &MfaVerifyRequest) -> Result<User, ApiError> {
    call(
        Method::POST,
        "/auth/mfa/verify",
        Some(request),
        On401::Report,
    )
    .await
}

pub async fn totp_setup(request: &ReauthRequest) -> Result<TotpSetup, ApiError> {
    send(Method::POST, "/auth/mfa/totp/setup", request).await
}

pub async fn totp_confirm(request: &TotpConfirmRequest) -> Result<RecoveryCodes, ApiError> {
    send(Method::POST, "/auth/mfa/totp/confirm", request).await
}

pub async fn totp_disable(request: &TotpDisableRequest) -> Result<(), ApiError> {
    send(Method::DELETE, "/auth/mfa/totp", request).await
}

pub async fn renew_recovery_codes(request: &ReauthRequest) -> Result<RecoveryCodes, ApiError> {
    send(Method::POST, "/auth/mfa/recovery-codes", request).await
}

/// Removes every second factor of account `id` (admins).
pub async fn reset_user_mfa(id: i32) -> Result<(), ApiError> {
    without_body(Method::DELETE, &format!("/users/{id}/mfa")).await
}

pub async fn passkeys() -> Result<Vec<Passkey>, ApiError> {
    get("/auth/passkeys").await
}

/// Registers a passkey: the server's options, the browser's ceremony, the result.
pub async fn add_passkey(name: String) -> Result<NewPasskey, ApiError> {
    let start = PasskeyRegisterStart { name: Some(name) };
    let options: PasskeyOptions =
        send(Method::POST, "/auth/passkeys/register/start", &start).await?;
    let credential = crate::webauthn::create(&options).await?;
    let finish = PasskeyRegisterFinish {
        name: None,
        credential,
    };
    send(Method::POST, "/auth/passkeys/register/finish", &finish).await
}

pub async fn remove_passkey(id: i32) -> Result<(), ApiError> {
    without_body(Method::DELETE, &format!("/auth/passkeys/{id}")).await
}

/// Signs in with a passkey alone.
pub async fn passkey_login() -> Result<User, ApiError> {
    let options: PasskeyOptions = call(
        Method::POST,
        "/auth/passkeys/login/start",
        Some(&shared::PasskeyLoginStart::default()),
        On401::Report,
    )
    .await?;
    let credential = crate::webauthn::get(&options).await?;
    let finish = shared::PasskeyLoginFinish { credential };
    call(
        Method::POST,
        "/auth/passkeys/login/finish",
        Some(&finish),
        On401::Report,
    )
    .await
}

/// The second login step signed with a passkey.
pub async fn verify_with_passkey(token: String, options: PasskeyOptions) -> Result<User, ApiError> {
    let assertion = crate::webauthn::get(&options).await?;
    let request = MfaVerifyRequest {
        mfa_token: token,
        webauthn: Some(assertion),
        ..Default::default()
    };
    verify_second_factor(&request).await
}

pub async fn logout() -> Result<(), ApiError> {
    call(Method::POST, "/auth/logout", None::<&()>, On401::Report).await
}

pub async fn signup(request: &SignupRequest) -> Result<User, ApiError> {
    call(Method::POST, "/auth/signup", Some(request), On401::Report).await
}

/// Who may sign up, and what the sign-up form must ask for.
pub async fn signup_options() -> Result<SignupOptions, ApiError> {
    call(
        Method::GET,
        "/auth/signup-options",
        None::<&()>,
        On401::Report,
    )
    .await
}

pub async fn verify_email(request: &VerifyEmailRequest) -> Result<User, ApiError> {
    send(Method::POST, "/auth/email/verify", request).await
}

/// Mails a new code to the address waiting for one.
pub async fn resend_email_code() -> Result<MessageResponse, ApiError> {
    send(Method::POST, "/auth/email/resend", &()).await
}

pub async fn update_me(request: &UpdateProfileRequest) -> Result<User, ApiError> {
    send(Method::PUT, "/auth/me", request).await
}

pub async fn change_password(request: &ChangePasswordRequest) -> Result<(), ApiError> {
    send(Method::POST, "/auth/password", request).await
}

pub async fn password_strength(request: &PasswordStrengthRequest) -> Result<Strength, ApiError> {
    call(
        Method::POST,
        "/auth/password-strength",
        Some(request),
        On401::Report,
    )
    .await
}

pub async fn list_users(query: &ListUsersQuery) -> Result<UserPage, ApiError> {
    get(&format!("/users{}", query.to_query_string())).await
}

pub async fn create_user(request: &CreateUserRequest) -> Result<User, ApiError> {
    send(Method::POST, "/users", request).await
}

/// An account and its version (`ETag`), to send back with a change to it.
pub async fn get_user_versioned(id: i32) -> Result<(User, Option<String>), ApiError> {
    let response = RequestBuilder::new(&format!("/api/v1/users/{id}"))
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let etag = response.headers().get("etag");
    Ok((read(response, On401::Expire).await?, etag))
}

/// Changes account `id`; with `version`, only if nobody changed it since (else the
/// server's 412, whose message asks to reload).
pub async fn update_user(
    id: i32,
    request: &UpdateUserRequest,
    version: Option<&str>,
) -> Result<User, ApiError> {
    let mut builder = RequestBuilder::new(&format!("/api/v1/users/{id}"))
        .method(Method::PUT)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json");
    if let Some(version) = version {
        builder = builder.header("If-Match", version);
    }
    let request = builder
        .json(request)
        .map_err(|e| ApiError::Network(e.to_string()))?;
    respond(request, On401::Expire).await
}

pub async fn delete_user(id: i32) -> Result<(), ApiError> {
    without_body(Method::DELETE, &format!("/users/{id}")).await
}

/// Sends the file itself as the body, under its own type (the server reads the
/// content, not the type, but wants one that no plain form could send).
pub async fn upload_avatar(id: i32, file: &web_sys::File) -> Result<User, ApiError> {
    let kind = Some(file.type_())
        .filter(|kind| !kind.is_empty())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let request = RequestBuilder::new(&format!("/api/v1/users/{id}/avatar"))
        .method(Method::PUT)
        .header("Content-Type", &kind)
        .header("Accept", "application/json")
        .body(file.clone())
        .map_err(|e| ApiError::Network(e.to_string()))?;
    respond(request, On401::Expire).await
}

/// Sends one piece of a CSV file (header included) to the import.
pub async fn import_users(csv: String, dry_run: bool) -> Result<ImportReport, ApiError> {
    let request = RequestBuilder::new(&format!("/api/v1/users/import?dry_run={dry_run}"))
        .method(Method::POST)
        .header("Content-Type", "text/csv")
        .header("Accept", "application/json")
        .body(csv)
        .map_err(|e| ApiError::Network(e.to_string()))?;
    respond(request, On401::Expire).await
}

pub async fn bulk(request: &BulkRequest) -> Result<BulkResponse, ApiError> {
    send(Method::POST, "/users/bulk", request).await
}

pub async fn remove_avatar(id: i32) -> Result<(), ApiError> {
    without_body(Method::DELETE, &format!("/users/{id}/avatar")).await
}

pub async fn forgot_password(
    request: &ForgotPasswordRequest,
) -> Result<ForgotPasswordResponse, ApiError> {
    call(
        Method::POST,
        "/password/forgot",
        Some(request),
        On401::Report,
    )
    .await
}

pub async fn verify_otp(request: &VerifyOtpRequest) -> Result<VerifyOtpResponse, ApiError> {
    call(
        Method::POST,
        "/password/verify-otp",
        Some(request),
        On401::Report,
    )
    .await
}

pub async fn answer(request: &AnswerRequest) -> Result<AnswerResponse, ApiError> {
    call(
        Method::POST,
        "/password/answer",
        Some(request),
        On401::Report,
    )
    .await
}

pub async fn reset_password(request: &ResetPasswordRequest) -> Result<(), ApiError> {
    call(
        Method::POST,
        "/password/reset",
        Some(request),
        On401::Report,
    )
    .await
}

/// An admin action on account `id` (`disable`, `enable`, `unlock`).
async fn account_action(id: i32, action: &str) -> Result<User, ApiError> {
    send(Method::POST, &format!("/users/{id}/{action}"), &()).await
}

pub async fn disable_user(id: i32) -> Result<User, ApiError> {
    account_action(id, "disable").await
}

pub async fn enable_user(id: i32) -> Result<User, ApiError> {
    account_action(id, "enable").await
}

pub async fn unlock_user(id: i32) -> Result<User, ApiError> {
    account_action(id, "unlock").await
}

/// The lock for unknown clients and each known device's (admins).
pub async fn user_lockout(id: i32) -> Result<LockoutState, ApiError> {
    get(&format!("/users/{id}/lockout")).await
}

pub async fn revoke_user_sessions(id: i32) -> Result<RevokedSessions, ApiError> {
    without_body(Method::DELETE, &format!("/users/{id}/sessions")).await
}

pub async fn list_audit(query: &AuditQuery) -> Result<AuditPage, ApiError> {
    get(&format!("/audit{}", query.to_query_string())).await
}

pub async fn list_sessions() -> Result<Vec<SessionInfo>, ApiError> {
    get("/auth/sessions").await
}

pub async fn revoke_session(id: &str) -> Result<(), ApiError> {
    without_body(
        Method::DELETE,
        &format!("/auth/sessions/{}", query::encode(id)),
    )
    .await
}

pub async fn revoke_other_sessions() -> Result<RevokedSessions, ApiError> {
    without_body(Method::DELETE, "/auth/sessions/others").await
}

pub async fn list_invitations() -> Result<Vec<Invitation>, ApiError> {
    get("/invitations").await
}

pub async fn create_invitation(request: &CreateInvitationRequest) -> Result<Invitation, ApiError> {
    send(Method::POST, "/invitations", request).await
}

pub async fn list_api_keys() -> Result<Vec<ApiKey>, ApiError> {
    get("/api-keys").await
}

pub async fn create_api_key(request: &CreateApiKeyRequest) -> Result<CreatedApiKey, ApiError> {
    send(Method::POST, "/api-keys", request).await
}

pub async fn revoke_api_key(id: i32) -> Result<(), ApiError> {
    without_body(Method::DELETE, &format!("/api-keys/{id}")).await
}

pub async fn list_webhooks() -> Result<Vec<WebhookEndpoint>, ApiError> {
    get("/webhooks").await
}

pub async fn create_webhook(request: &CreateWebhookRequest) -> Result<CreatedWebhook, ApiError> {
    send(Method::POST, "/webhooks", request).await
}

pub async fn delete_webhook(id: i32) -> Result<(), ApiError> {
    without_body(Method::DELETE, &format!("/webhooks/{id}")).await
}

pub async fn webhook_deliveries(id: i32) -> Result<Vec<WebhookDelivery>, ApiError> {
    get(&format!("/webhooks/{id}/deliveries")).await
}

pub async fn resend_delivery(id: i32, delivery: i64) -> Result<WebhookDelivery, ApiError> {
    without_body(
        Method::POST,
        &format!("/webhooks/{id}/deliveries/{delivery}/resend"),
    )
    .await
}

pub async fn revoke_invitation(id: i32) -> Result<(), ApiError> {
    without_body(Method::DELETE, &format!("/invitations/{id}")).await
}
