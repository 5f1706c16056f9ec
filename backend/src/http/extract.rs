//! What handlers take as arguments besides the body: who is calling ([`CurrentUser`],
//! [`AdminUser`]), from where ([`ClientInfo`]), and which account a path names
//! ([`AccountPath`]). Taking one is what makes a route require it.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use anyhow::Context;
use chrono::Utc;
use futures::future::{LocalBoxFuture, Ready, ready};
use shared::{Role, SessionKind};

use crate::accounts::IfMatch;
use crate::audit::ClientInfo;
use crate::auth::{api_keys, session};
use crate::db::entity::user;
use crate::http::client_ip::client_info;
use crate::http::cookie::RenewedCookie;
use crate::http::error::ApiError;
use crate::http::origins;
use crate::http::scopes;
use crate::http::state::AppState;

/// How the request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Cookie,
    Bearer,
    /// An API key (its id), for the admin who made it.
    ApiKey(i32),
}

/// The authenticated account behind a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: user::Model,
    /// Empty for an API key, which cannot reach the routes that use it (sessions,
    /// logout: see `http::scopes`).
    pub session_id: String,
    /// The known device the session was opened from (re-authentication counts on it).
    pub device_hash: Option<String>,
    pub via: Via,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
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

/// An authenticated admin: anyone else gets 403.
#[derive(Debug, Clone)]
pub struct AdminUser(pub CurrentUser);

impl Deref for AdminUser {
    type Target = CurrentUser;

    fn deref(&self) -> &CurrentUser {
        &self.0
    }
}

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let current = authenticate(&req).await?;
            if !current.is_admin() {
                return Err(ApiError::Forbidden("Only admins may do this."));
            }
            Ok(AdminUser(current))
        })
    }
}

impl FromRequest for ClientInfo {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(state(req).map(|state| client_info(req, &state.proxies)))
    }
}

/// The account id in a `/users/{id}` path; anything but a number is a 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountPath {
    pub id: i32,
}

impl FromRequest for AccountPath {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let id = web::Path::<i32>::from_request(req, payload).into_inner();
        ready(id.map(|id| AccountPath {
            id: id.into_inner(),
        }))
    }
}

/// A request's `If-Match`: the account versions a change may apply to. `None` when
/// the header is absent or `*` (any version). Weak tags never match (a change needs
/// the strong comparison), so a list of only weak ones always fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition(pub Option<IfMatch>);

impl Precondition {
    pub fn parse(raw: Option<&str>) -> Self {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty() && *r != "*") else {
            return Self(None);
        };
        let strong = raw
            .split(',')
            .map(str::trim)
            .filter(|tag| !tag.starts_with("W/"))
            .map(|tag| tag.trim_matches('"').to_owned())
            .collect();
        Self(Some(IfMatch(strong)))
    }
}

impl FromRequest for Precondition {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw = req
            .headers()
            .get(header::IF_MATCH)
            .map(|v| v.to_str().unwrap_or("\"\""));
        ready(Ok(Self::parse(raw)))
    }
}

fn state(req: &HttpRequest) -> Result<&web::Data<AppState>, ApiError> {
    Ok(req
        .app_data::<web::Data<AppState>>()
        .context("application state is not registered")?)
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

/// Who sent `req`: the extractors' work, also callable where a missing session is
/// not an error (logout). A cookie session past half its life is extended, and the
/// renewed cookie left for the renewal middleware to send.
pub async fn authenticate(req: &HttpRequest) -> Result<CurrentUser, ApiError> {
    let state = state(req)?;
    let (token, via) = credential(req, state).ok_or(ApiError::Unauthorized)?;
    if via == Via::Bearer && api_keys::is_api_key(&token) {
        return authenticate_key(req, state, &token).await;
    }
    let auth = &state.auth;
    let claims = auth.tokens.decode(&token).ok_or(ApiError::Unauthorized)?;
    if via == Via::Cookie && !req.method().is_safe() {
        origins::check_cookie_request(req, &state.origins)?;
    }
    let (session, user) = session::find_live(&state.db, &claims.sid)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if claims.sub != session.user_id.to_string() {
        return Err(ApiError::Unauthorized);
    }
    let remaining = claims.expires_at() - Utc::now();
    let renew = via == Via::Cookie
        && session.kind == SessionKind::Cookie
        && remaining < auth.lifetimes.ttl / 2;
    if renew {
        let extended = session::extend(&state.db, &session, auth.lifetimes.ttl).await?;
        if let Some(expires_at) = extended {
            let token = auth.tokens.issue(user.id, &session.id, expires_at)?;
            req.extensions_mut()
                .insert(RenewedCookie(state.cookie.for_session(token, expires_at)));
        }
    } else {
        session::touch(&state.db, &session).await?;
    }
    if auth.mfa.must_enrol(&user) && !reaches_enrolment(req) {
        return Err(ApiError::MfaEnrolmentRequired);
    }
    Ok(CurrentUser {
        user,
        session_id: session.id,
        device_hash: session.device_hash,
        via,
    })
}

/// The routes a session of an account that must set up a second factor
/// (`MFA_REQUIRED`) may reach until it has: who it is, its address's verification,
/// the enrolment, and logout.
const ENROLMENT_ROUTES: &[&str] = &[
    "/api/v1/auth/me",
    "/api/v1/auth/session",
    "/api/v1/auth/logout",
    "/api/v1/auth/email/verify",
    "/api/v1/auth/email/resend",
    "/api/v1/auth/mfa/totp/setup",
    "/api/v1/auth/mfa/totp/confirm",
    "/api/v1/auth/passkeys",
    "/api/v1/auth/passkeys/register/start",
    "/api/v1/auth/passkeys/register/finish",
];

fn reaches_enrolment(req: &HttpRequest) -> bool {
    let template = req.match_pattern().unwrap_or_default();
    let reading_me = template != "/api/v1/auth/me" || req.method() == actix_web::http::Method::GET;
    ENROLMENT_ROUTES.contains(&template.as_str()) && reading_me
}

/// A request made with an API key: the key must be live, its admin enabled, the
/// route open to keys and within the key's scopes, and the key within its rate.
async fn authenticate_key(
    req: &HttpRequest,
    state: &AppState,
    secret: &str,
) -> Result<CurrentUser, ApiError> {
    let (key, owner) = api_keys::find_live(&state.db, secret)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let template = req.match_pattern().unwrap_or_default();
    let Some(scope) = scopes::required(req.method(), &template) else {
        return Err(ApiError::Forbidden(
            "API keys cannot be used here: sign in as a person.",
        ));
    };
    if !api_keys::scopes(&key).contains(&scope) {
        return Err(ApiError::Refused(format!(
            "This API key lacks the {scope} scope."
        )));
    }
    state
        .throttles
        .api_key(key.id)
        .await
        .map_err(ApiError::TooManyRequests)?;
    let client = client_info(req, &state.proxies);
    api_keys::touch(&state.db, &key, client.ip.as_deref()).await?;
    Ok(CurrentUser {
        user: owner,
        session_id: String::new(),
        device_hash: None,
        via: Via::ApiKey(key.id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_strong_tags_and_star_means_any() {
        assert_eq!(Precondition::parse(None), Precondition(None));
        assert_eq!(Precondition::parse(Some("*")), Precondition(None));
        let tags = |list: &[&str]| {
            Precondition(Some(IfMatch(
                list.iter().map(|t| (*t).to_owned()).collect(),
            )))
        };
        assert_eq!(Precondition::parse(Some("\"ab12\"")), tags(&["ab12"]));
        assert_eq!(
            Precondition::parse(Some("W/\"ab12\", \"cd\"")),
            tags(&["cd"])
        );
        assert_eq!(Precondition::parse(Some("W/\"ab12\"")), tags(&[]));
    }
}
