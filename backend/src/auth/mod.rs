//! Who is calling: password hashing, tokens, sessions, the session cookie, and the
//! [`CurrentUser`] extractor that every authenticated handler takes.

pub mod cookie;
pub mod lockout;
pub mod origin;
pub mod password;
pub mod session;
pub mod token;

use actix_web::body::MessageBody;
use actix_web::cookie::Cookie;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use anyhow::Context;
use chrono::Utc;
use futures::future::LocalBoxFuture;
use secrecy::SecretString;
use serde_json::json;
use shared::{AuditAction, LoginRequest, Role};

use crate::audit;
use crate::client::ClientInfo;
use crate::entity::user;
use crate::error::ApiError;
use crate::state::AppState;
use crate::users;

/// How the request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Cookie,
    Bearer,
}

/// The authenticated account behind a request. Taking it as a handler argument is
/// what makes a route require authentication.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: user::Model,
    pub session_id: String,
    pub via: Via,
}

impl CurrentUser {
    pub fn role(&self) -> Role {
        users::role_of(&self.user)
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Role::Admin
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("Only admins may do this."))
        }
    }
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await })
    }
}

/// A bearer token wins over the cookie. Other `Authorization` schemes (say, Basic
/// added by a proxy) are not ours and leave the cookie in charge.
fn credential(req: &HttpRequest, state: &AppState) -> Option<(String, Via)> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"));
    if let Some((_, token)) = bearer {
        return Some((token.trim().to_owned(), Via::Bearer));
    }
    let cookie = req.cookie(state.cookie.name())?;
    Some((cookie.value().to_owned(), Via::Cookie))
}

/// Who sent `req`: the extractor's work, also callable where a missing session is not
/// an error (logout).
pub async fn authenticate(req: &HttpRequest) -> Result<CurrentUser, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .context("application state is not registered")?;
    let (token, via) = credential(req, state).ok_or(ApiError::Unauthorized)?;
    let claims = state.tokens.decode(&token).ok_or(ApiError::Unauthorized)?;
    if via == Via::Cookie && !req.method().is_safe() {
        origin::check_cookie_request(req, &state.origins)?;
    }
    let (session, user) = session::find_live(&state.db, &claims.sid)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if claims.sub != session.user_id.to_string() {
        return Err(ApiError::Unauthorized);
    }

    let remaining = claims.expires_at() - Utc::now();
    let renew =
        via == Via::Cookie && session::is_cookie(&session) && remaining < state.lifetimes.ttl / 2;
    if renew {
        let extended = session::extend(&state.db, &session, state.lifetimes.ttl).await?;
        if let Some(expires_at) = extended {
            let token = state.tokens.issue(user.id, &session.id, expires_at)?;
            req.extensions_mut()
                .insert(RenewedCookie(state.cookie.for_session(token, expires_at)));
        }
    } else {
        session::touch(&state.db, &session).await?;
    }
    Ok(CurrentUser {
        user,
        session_id: session.id,
        via,
    })
}

/// A fresh session cookie the extractor minted; [`renew_session_cookie`] sends it.
struct RenewedCookie(Cookie<'static>);

/// Adds a renewed session cookie to successful responses, unless the handler set the
/// session cookie itself (login, logout, password change).
pub async fn renew_session_cookie(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let renewed = res.request().extensions_mut().remove::<RenewedCookie>();
    if let Some(RenewedCookie(cookie)) = renewed {
        let handler_set_it = res.response().cookies().any(|c| c.name() == cookie.name());
        if res.status().is_success() && !handler_set_it {
            res.response_mut().add_cookie(&cookie)?;
        }
    }
    Ok(res)
}

/// An id no account has (ids start at 1).
const NO_ACCOUNT: i32 = 0;

/// Why a login failed, for the audit trail only: the client always gets the same
/// [`ApiError::InvalidCredentials`] after the same amount of hashing work.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    UnknownUser,
    WrongPassword,
    Locked,
    Disabled,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Refusal::UnknownUser => "unknown_user",
            Refusal::WrongPassword => "wrong_password",
            Refusal::Locked => "locked",
            Refusal::Disabled => "disabled",
        }
    }
}

/// Checks a username (or email) and password, under the per-account lockout: the
/// failure is counted (atomically) before the password is checked, and a locked or
/// disabled account is refused without looking at the password. A match clears the
/// count and records the login time; a legacy bcrypt hash is then replaced by
/// argon2id.
pub async fn check_credentials(
    state: &AppState,
    credentials: &LoginRequest,
    client: &ClientInfo,
) -> Result<user::Model, ApiError> {
    credentials.validate().map_err(ApiError::Validation)?;
    let secret = || SecretString::from(credentials.password.clone());
    let user = users::find_by_login(&state.db, &credentials.username).await?;
    // The same statements run whatever the outcome (for an unknown name they match
    // no row), so the time a refusal takes does not tell whether the account exists.
    let id = user.as_ref().map_or(NO_ACCOUNT, |u| u.id);
    let reserved = lockout::reserve(&state.db, &state.lockout, id).await?;
    let refusal = match &user {
        None => Some(Refusal::UnknownUser),
        Some(user) if user.disabled_at.is_some() => Some(Refusal::Disabled),
        Some(_) if !reserved => Some(Refusal::Locked),
        Some(_) => None,
    };
    let user = match (user, refusal) {
        (Some(user), None) => user,
        (user, refusal) => {
            // The same hashing work as a real check, and the same read a wrong
            // password makes afterwards (its result does not matter here).
            state.passwords.verify(secret(), None).await?;
            lockout::locked_until(&state.db, id).await?;
            let reason = refusal.unwrap_or(Refusal::UnknownUser).as_str();
            let event =
                audit::Event::failure(AuditAction::Login).detail(json!({ "reason": reason }));
            let event = match &user {
                Some(user) => event.by(user),
                None => event.claimed_actor(&credentials.username),
            };
            event.record(&state.db, client).await;
            return Err(ApiError::InvalidCredentials);
        }
    };

    let stored = user.password_hash.clone();
    let verified = match state.passwords.verify(secret(), Some(stored.clone())).await {
        Ok(verified) => verified,
        Err(fault) => {
            lockout::refund(&state.db, &state.lockout, user.id).await?;
            return Err(fault);
        }
    };
    if !verified {
        let event = audit::Event::failure(AuditAction::Login)
            .by(&user)
            .detail(json!({ "reason": Refusal::WrongPassword.as_str() }));
        event.record(&state.db, client).await;
        if let Some((failures, until)) = lockout::locked_until(&state.db, user.id).await? {
            tracing::warn!(user_id = user.id, failures, %until, "account locked");
            audit::Event::success(AuditAction::Lockout)
                .target(&user)
                .detail(json!({ "failures": failures, "locked_until": until }))
                .record(&state.db, client)
                .await;
        }
        return Err(ApiError::InvalidCredentials);
    }
    // The attempt is settled: clear the count before anything else can fail.
    let mut user = user;
    user.last_login_at = Some(lockout::succeeded(&state.db, user.id).await?);
    user.failed_logins = 0;
    user.locked_until = None;
    if password::needs_rehash(&stored) {
        let upgraded = state.passwords.hash(secret()).await?;
        if users::replace_password_hash(&state.db, user.id, &stored, &upgraded).await? {
            tracing::info!(user_id = user.id, "password hash upgraded to argon2id");
        }
    }
    Ok(user)
}

/// Checks credentials and opens a session of `kind`: the one login path behind
/// `POST /auth/login` (cookie) and `POST /auth/token` (bearer).
pub async fn log_in(
    state: &AppState,
    req: &HttpRequest,
    credentials: &LoginRequest,
    kind: session::Kind,
) -> Result<(user::Model, session::Session, String), ApiError> {
    let client = state.client(req);
    let user = check_credentials(state, credentials, &client).await?;
    let (session, token) = start_session(state, &client, &user, kind).await?;
    tracing::info!(user_id = user.id, ?kind, "logged in");
    audit::Event::success(AuditAction::Login)
        .by(&user)
        .detail(json!({ "via": kind.as_str() }))
        .record(&state.db, &client)
        .await;
    Ok((user, session, token))
}

/// Opens a session for `user` and returns it with its signed token.
pub async fn start_session(
    state: &AppState,
    client: &ClientInfo,
    user: &user::Model,
    kind: session::Kind,
) -> Result<(session::Session, String), ApiError> {
    let session = session::create(&state.db, user.id, kind, state.lifetimes, client).await?;
    let token = state
        .tokens
        .issue(user.id, &session.id, session.expires_at)?;
    Ok((session, token))
}
