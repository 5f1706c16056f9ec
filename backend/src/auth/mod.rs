//! Who is calling: password hashing, tokens, sessions, the session cookie, and the
//! [`CurrentUser`] extractor that every authenticated handler takes.

pub mod cookie;
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
use shared::{LoginRequest, Role};

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

/// Checks a username (or email) and password. Every failure is the same
/// [`ApiError::InvalidCredentials`] after the same amount of hashing work.
pub async fn check_credentials(
    state: &AppState,
    credentials: &LoginRequest,
) -> Result<user::Model, ApiError> {
    credentials.validate().map_err(ApiError::Validation)?;
    let user = users::find_by_login(&state.db, &credentials.username).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matches = state
        .passwords
        .verify(SecretString::from(credentials.password.clone()), stored)
        .await?;
    match user {
        Some(user) if matches => Ok(user),
        _ => Err(ApiError::InvalidCredentials),
    }
}

/// Checks credentials and opens a session of `kind`: the one login path behind
/// `POST /auth/login` (cookie) and `POST /auth/token` (bearer).
pub async fn log_in(
    state: &AppState,
    req: &HttpRequest,
    credentials: &LoginRequest,
    kind: session::Kind,
) -> Result<(user::Model, session::Session, String), ApiError> {
    let mut user = check_credentials(state, credentials).await?;
    let (session, token) = start_session(state, req, &user, kind).await?;
    user.last_login_at = Some(users::record_login(&state.db, user.id).await?);
    tracing::info!(user_id = user.id, ?kind, "logged in");
    Ok((user, session, token))
}

/// Opens a session for `user` and returns it with its signed token.
pub async fn start_session(
    state: &AppState,
    req: &HttpRequest,
    user: &user::Model,
    kind: session::Kind,
) -> Result<(session::Session, String), ApiError> {
    let client = session::Client {
        ip: req.peer_addr().map(|a| a.ip().to_string()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let session = session::create(&state.db, user.id, kind, state.lifetimes, client).await?;
    let token = state
        .tokens
        .issue(user.id, &session.id, session.expires_at)?;
    Ok((session, token))
}
