//! `/api/v1/auth/passkeys`: registering, listing and removing the caller's passkeys,
//! and signing in with one alone. (A passkey as the second factor goes to
//! `POST /auth/mfa/verify`.) The routes sit in the `/auth` scope (see
//! `auth::throttled`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use shared::{
    AuditAction, ErrorResponse, NewPasskey, Passkey, PasskeyLoginFinish, PasskeyLoginStart,
    PasskeyOptions, PasskeyRegisterFinish, PasskeyRegisterStart, SessionKind, User,
};

use super::mfa::answer_login;
use crate::audit::{self, ClientInfo};
use crate::auth::AuthError;
use crate::auth::passkeys::{self, PasskeyError};
use crate::db::entity::passkey;
use crate::http::error::ApiError;
use crate::http::extract::CurrentUser;
use crate::http::state::AppState;

/// Start registering a passkey: the options for `navigator.credentials.create()`.
///
/// Pass `publicKey` to `PublicKeyCredential.parseCreationOptionsFromJSON`, create the
/// credential, and send its JSON (`credential.toJSON()`) to
/// `POST /auth/passkeys/register/finish` within 5 minutes. The key is asked to be
/// discoverable and to verify the user.
#[utoipa::path(
    post, path = "/api/v1/auth/passkeys/register/start", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    request_body = PasskeyRegisterStart,
    responses(
        (status = 200, description = "The creation options", body = PasskeyOptions),
        (status = 400, description = "The name is too long", body = ErrorResponse),
        (status = 409, description = "Passkeys are not available (`PUBLIC_URL` names no host)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id))]
pub async fn register_start(
    state: web::Data<AppState>,
    current: CurrentUser,
    body: Option<web::Json<PasskeyRegisterStart>>,
) -> Result<HttpResponse, ApiError> {
    let name = body
        .map(web::Json::into_inner)
        .unwrap_or_default()
        .validate()
        .map_err(ApiError::Validation)?;
    let options = state
        .auth
        .passkeys
        .start_registration(&current.user, name)
        .await?;
    Ok(no_store(options))
}

/// Finish registering a passkey with what the browser created.
///
/// The first passkey of an account without an authenticator app turns two-factor
/// sign-in on: the answer then carries 10 recovery codes, shown this once. The
/// account's verified address is told.
#[utoipa::path(
    post, path = "/api/v1/auth/passkeys/register/finish", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    request_body = PasskeyRegisterFinish,
    responses(
        (status = 201, description = "Registered", body = NewPasskey),
        (status = 400, description = "Not a credential, or one that was not accepted (wrong origin, no user verification, expired)", body = ErrorResponse),
        (status = 409, description = "This passkey is registered already", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id))]
pub async fn register_finish(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let (name, credential) = shared::unwrap_credential(body.into_inner());
    let name = match name {
        Some(name) => Some(
            PasskeyRegisterStart { name: Some(name) }
                .validate()
                .map_err(ApiError::Validation)?,
        ),
        None => None,
    };
    let (key, recovery_codes) = state
        .auth
        .passkeys
        .finish_registration(&current.user, name, credential)
        .await?;
    tracing::info!(passkey = key.id, "passkey added");
    let change = format!("given a new passkey, \"{}\"", key.name);
    announce(
        &state,
        &client,
        &current,
        AuditAction::PasskeyAdded,
        &key,
        &change,
    )
    .await;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(NewPasskey {
            passkey: passkeys::to_api(key),
            recovery_codes,
        }))
}

/// The caller's passkeys, oldest first.
#[utoipa::path(
    get, path = "/api/v1/auth/passkeys", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, description = "The passkeys", body = Vec<Passkey>))
)]
pub async fn list(
    state: web::Data<AppState>,
    current: CurrentUser,
) -> Result<web::Json<Vec<Passkey>>, ApiError> {
    let keys = state.auth.passkeys.list(current.user.id).await?;
    Ok(web::Json(keys.into_iter().map(passkeys::to_api).collect()))
}

/// Remove one of the caller's passkeys.
///
/// When no second factor remains, the recovery codes go too and login asks for the
/// password alone. The account's verified address is told.
#[utoipa::path(
    delete, path = "/api/v1/auth/passkeys/{id}", tag = "auth",
    security(("cookie" = []), ("bearer" = [])),
    params(("id" = i32, Path, description = "Passkey id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such passkey of yours", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = current.user.id))]
pub async fn remove(
    state: web::Data<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    id: web::Path<i32>,
) -> Result<HttpResponse, ApiError> {
    let key = state.auth.passkeys.remove(&current.user, *id).await?;
    tracing::info!(passkey = key.id, "passkey removed");
    let change = format!("changed: the passkey \"{}\" was removed", key.name);
    announce(
        &state,
        &client,
        &current,
        AuditAction::PasskeyRemoved,
        &key,
        &change,
    )
    .await;
    Ok(HttpResponse::NoContent().finish())
}

/// Start signing in with a passkey: the options for `navigator.credentials.get()`.
///
/// Any passkey the browser holds for this site may answer; send its JSON to
/// `POST /auth/passkeys/login/finish` within 5 minutes. `username` is optional and
/// changes nothing in the answer, so the answer tells nobody whether an account has
/// passkeys.
#[utoipa::path(
    post, path = "/api/v1/auth/passkeys/login/start", tag = "auth",
    request_body = PasskeyLoginStart,
    responses(
        (status = 200, description = "The request options", body = PasskeyOptions),
        (status = 409, description = "Passkeys are not available (`PUBLIC_URL` names no host)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn login_start(
    state: web::Data<AppState>,
    _body: Option<web::Json<PasskeyLoginStart>>,
) -> Result<HttpResponse, ApiError> {
    let options = state.auth.passkeys.start_login().await?;
    Ok(no_store(options))
}

/// Finish signing in with a passkey: the account and the session cookie.
///
/// A passkey that verified its user is a complete login: no password, no second
/// step. Every refusal (an unknown key, a bad signature, an expired start, a
/// disabled account) gets the same 401.
#[utoipa::path(
    post, path = "/api/v1/auth/passkeys/login/finish", tag = "auth",
    request_body = PasskeyLoginFinish,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = User,
         headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 400, description = "Not a WebAuthn credential", body = ErrorResponse),
        (status = 401, description = "The passkey was not accepted", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn login_finish(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let (_, credential) = shared::unwrap_credential(body.into_inner());
    let device = req.cookie(state.cookie.device_name());
    let device_token = device.as_ref().map(|cookie| cookie.value());
    let (logged_in, session, token) = state
        .auth
        .log_in_with_passkey(credential, device_token, &client)
        .await
        .map_err(|err| match err {
            AuthError::Passkey(PasskeyError::Rejected) => ApiError::InvalidCredentials,
            other => other.into(),
        })?;
    Ok(answer_login(
        &state,
        logged_in,
        &session,
        token,
        SessionKind::Cookie,
    ))
}

/// A passkey added or removed: audited, and told to the account's verified address.
async fn announce(
    state: &AppState,
    client: &ClientInfo,
    current: &CurrentUser,
    action: AuditAction,
    key: &passkey::Model,
    change: &str,
) {
    audit::Event::success(action)
        .by(&current.user)
        .detail(json!({ "passkey": key.id, "name": key.name }))
        .record(&state.db, client)
        .await;
    state
        .notices
        .second_factor_changed(&state.db, &current.user, change)
        .await;
}

fn no_store(options: PasskeyOptions) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(options)
}
